// Bridges for the engines under test: a name and a /24 of their own, so a bench daemon never
// shares a bridge, an address or an iptables rule with a berthd or dockerd someone else runs.
import { createHash, randomInt } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { formatIPv4, formatPrefix, overlaps, parsePrefix, subdivide, type Prefix } from '../../src/network/cidr.js';
import { hostRoutes } from '../../src/network/host-routes.js';

export interface BridgeSpec {
  /** Linux link name, at most 15 bytes. */
  name: string;
  /** The bridge's own address with the prefix: daemon.json's "bip". */
  bip: string;
}

// 198.18.0.0/15 is set aside for network benchmarks (RFC 2544): no LAN or VPN uses it. The
// tests take random /24s of it too, so the search starts at a random one.
const BENCH_BLOCK = parsePrefix('198.18.0.0/15')!;

/** `count` /24s of 198.18.0.0/15 that no route of this host covers. */
export async function freeSubnets(count: number): Promise<Prefix[]> {
  const taken: Prefix[] = (await hostRoutes()).map((r) => r.prefix);
  const all = [...subdivide(BENCH_BLOCK, 24)];
  const start = randomInt(all.length);
  const out: Prefix[] = [];
  for (let i = 0; i < all.length && out.length < count; i++) {
    const c = all[(start + i) % all.length]!;
    if (!taken.some((t) => overlaps(t, c))) {
      out.push(c);
      taken.push(c);
    }
  }
  if (out.length < count) throw new Error(`no free /24 left in ${formatPrefix(BENCH_BLOCK)}`);
  return out;
}

/** One bridge per role ('b' berth, 'd' docker), named after the bench's state directory. */
export async function benchBridges(dir: string, roles: readonly string[]): Promise<Record<string, BridgeSpec>> {
  const tag = createHash('sha256').update(dir).digest('hex').slice(0, 8);
  const subnets = await freeSubnets(roles.length);
  return Object.fromEntries(
    roles.map((role, i) => [role, { name: `bb${role}${tag}`.slice(0, 15), bip: `${formatIPv4(subnets[i]!.base + 1)}/24` }]),
  );
}

/**
 * The host's own IPv4 address that other hosts would connect to: the first one of an
 * interface that is neither loopback nor a bridge of ours, preferring eth*. Traffic from the
 * host to it is DNATed by the nat OUTPUT rules of both engines.
 */
export function hostAddress(exclude: readonly string[] = []): string | null {
  const candidates: { iface: string; address: string }[] = [];
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    if (exclude.includes(iface)) continue;
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal) candidates.push({ iface, address: a.address });
    }
  }
  candidates.sort((a, b) => Number(b.iface.startsWith('eth')) - Number(a.iface.startsWith('eth')));
  return candidates[0]?.address ?? null;
}
