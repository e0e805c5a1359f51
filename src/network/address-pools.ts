import { invalid } from '../util/errors.js';
import { formatIPv4, overlaps, parseCidr, parsePrefix, prefixOf, subdivide, type Prefix } from './cidr.js';
import type { IpamPool } from './ipam.js';

// Where networks get their subnets when the user names none: daemon.json's
// `default-address-pools`, or Docker's built-in list (172.17-31.0.0/16, then
// 192.168.0.0/16 cut into /20s). A subnet already routed on this host (a LAN, a VPN,
// a real dockerd's docker0) is skipped, so berth never shadows a route.

export interface AddressPool {
  base: Prefix;
  size: number; // prefix length of each network cut from base
}

export const DOCKER_DEFAULT_POOLS: AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: { base: ((172 << 24) | ((17 + i) << 16)) >>> 0, bits: 16 }, size: 16 })),
  { base: { base: ((192 << 24) | (168 << 16)) >>> 0, bits: 16 }, size: 20 },
];

export const poolsExhausted = (): Error => invalid('all predefined address pools have been fully subnetted');

// daemon.json: "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}, ...]
export function parseAddressPools(raw: unknown): AddressPool[] {
  if (raw === undefined || raw === null) return DOCKER_DEFAULT_POOLS;
  if (!Array.isArray(raw)) throw invalid('default-address-pools: expected a list of {"base", "size"}');
  return raw.map((p: unknown) => {
    const o = (p ?? {}) as { base?: unknown; size?: unknown };
    const base = typeof o.base === 'string' ? parsePrefix(o.base) : null;
    const size = Number(o.size);
    if (!base || !Number.isInteger(size) || size < base.bits || size > 30) {
      throw invalid(`default-address-pools: invalid pool ${JSON.stringify(p)}`);
    }
    return { base, size };
  });
}

// daemon.json "bip": the default bridge's own address with its prefix, "172.18.42.1/16".
export function parseBip(raw: unknown): IpamPool | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const c = typeof raw === 'string' ? parseCidr(raw) : null;
  if (!c || c.bits > 30) throw invalid(`bip: invalid address ${JSON.stringify(raw)}: expected an address with a prefix, as 172.18.42.1/16`);
  const subnet = prefixOf(c.addr, c.bits);
  if (c.addr === subnet.base) throw invalid(`bip: ${String(raw)} is the network address; give the bridge's own address, as ${formatIPv4(subnet.base + 1)}/${c.bits}`);
  return { subnet, range: null, gateway: c.addr };
}

// daemon.json "fixed-cidr": the default bridge hands out addresses from this block only.
export function parseFixedCidr(raw: unknown): Prefix | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const p = typeof raw === 'string' ? parsePrefix(raw) : null;
  if (!p) throw invalid(`fixed-cidr: invalid block ${JSON.stringify(raw)}`);
  return p;
}

// The first block of the pools that overlaps nothing taken.
export function pickSubnet(pools: readonly AddressPool[], taken: readonly Prefix[]): Prefix | null {
  for (const pool of pools) {
    for (const candidate of subdivide(pool.base, pool.size)) {
      if (!taken.some((t) => overlaps(t, candidate))) return candidate;
    }
  }
  return null;
}

export function defaultPool(subnet: Prefix): IpamPool {
  return { subnet, range: null, gateway: (subnet.base + 1) >>> 0 };
}
