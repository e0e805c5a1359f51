import { BerthError, invalid } from '../util/errors.js';
import { contains, formatIPv4, formatPrefix, lastAddress, parseCidr, parseIPv4, prefixOf, type Prefix } from './cidr.js';

// Address management for one bridge network: which addresses a container may get.
// Pure: the set of addresses in use is derived by the caller (from the containers that
// hold them), so nothing here can drift from what is really assigned.

export interface IpamPool {
  subnet: Prefix;
  range: Prefix | null; // --ip-range: dynamic addresses come from here only
  gateway: number;
  // --aux-address: named addresses kept out of allocation (moby reserves them in IPAM).
  aux?: Record<string, number>;
}

// Docker's IPAMConfig as the API carries it (strings).
export interface IpamConfigInput {
  Subnet?: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses?: Record<string, string>;
  AuxAddress?: Record<string, string>;
}

export const addressInUse = (): BerthError => new BerthError('Forbidden', 'Address already in use');
export const noAddresses = (): BerthError => new BerthError('Unavailable', 'no available addresses on this pool');

// The network and broadcast addresses are never handed out (except in /31 and /32,
// where there are none).
function reserved(pool: IpamPool, addr: number): boolean {
  if (addr === pool.gateway) return true;
  if (pool.aux && Object.values(pool.aux).includes(addr)) return true;
  if (pool.subnet.bits >= 31) return false;
  return addr === pool.subnet.base || addr === lastAddress(pool.subnet);
}

// The lowest free address, so the first container gets .2 as on Docker.
export function allocate(pool: IpamPool, used: ReadonlySet<number>): number {
  const from = pool.range ?? pool.subnet;
  const end = lastAddress(from);
  for (let a = from.base; a <= end; a++) {
    if (!reserved(pool, a) && !used.has(a) && contains(pool.subnet, a)) return a;
  }
  throw noAddresses();
}

// A static address (--ip): inside the subnet, not reserved, not taken.
export function claim(pool: IpamPool, requested: string, used: ReadonlySet<number>): number {
  const addr = parseIPv4(requested);
  if (addr === null) throw invalid(`invalid IPv4 address: ${requested}`);
  if (!contains(pool.subnet, addr)) throw invalid(`no configured subnet contains IP address ${requested}`);
  if (reserved(pool, addr) || used.has(addr)) throw addressInUse();
  return addr;
}

// POST /networks/create's IPAM checks, with the messages of Docker's validateIpamConfig.
export function poolFromConfig(cfg: IpamConfigInput): IpamPool {
  const errs: string[] = [];
  const sub = parseCidr(cfg.Subnet ?? '');
  if (!sub) throw invalid(`invalid network config:\ninvalid subnet ${cfg.Subnet ?? ''}`);
  const subnet = prefixOf(sub.addr, sub.bits);
  if (subnet.base !== sub.addr) errs.push(`invalid subnet ${cfg.Subnet}: it should be ${formatPrefix(subnet)}`);
  let range: Prefix | null = null;
  if (cfg.IPRange) {
    const r = parseCidr(cfg.IPRange);
    if (!r) errs.push(`invalid ip-range ${cfg.IPRange}`);
    else {
      range = prefixOf(r.addr, r.bits);
      if (r.bits < subnet.bits) errs.push(`invalid ip-range ${cfg.IPRange}: CIDR block is bigger than its parent subnet ${formatPrefix(subnet)}`);
      if (range.base !== r.addr) errs.push(`invalid ip-range ${cfg.IPRange}: it should be ${formatPrefix(range)}`);
      if (!contains(subnet, range.base) && !contains(range, subnet.base)) {
        errs.push(`invalid ip-range ${cfg.IPRange}: parent subnet ${formatPrefix(subnet)} doesn't contain ip-range`);
      }
    }
  }
  let gateway = (subnet.base + (subnet.bits >= 31 ? 0 : 1)) >>> 0;
  if (cfg.Gateway) {
    const g = parseIPv4(cfg.Gateway);
    if (g === null) errs.push(`invalid gateway ${cfg.Gateway}`);
    else if (!contains(subnet, g)) errs.push(`invalid gateway ${cfg.Gateway}: parent subnet ${formatPrefix(subnet)} doesn't contain this address`);
    else gateway = g;
  }
  const aux: Record<string, number> = {};
  for (const [name, a] of Object.entries(cfg.AuxiliaryAddresses ?? cfg.AuxAddress ?? {})) {
    const v = parseIPv4(a);
    if (v === null || !contains(subnet, v)) errs.push(`invalid auxiliary address ${name}: parent subnet ${formatPrefix(subnet)} doesn't contain this address`);
    else aux[name] = v;
  }
  if (errs.length) throw invalid(`invalid network config:\n${errs.join('\n')}`);
  return Object.keys(aux).length ? { subnet, range, gateway, aux } : { subnet, range, gateway };
}

export interface PoolConfigView {
  Subnet: string;
  IPRange?: string;
  Gateway: string;
  AuxiliaryAddresses?: Record<string, string>; // omitted when empty, as moby's omitempty
}

export function poolConfig(pool: IpamPool): PoolConfigView {
  const out: PoolConfigView = { Subnet: formatPrefix(pool.subnet), Gateway: formatIPv4(pool.gateway) };
  if (pool.range) out.IPRange = formatPrefix(pool.range);
  if (pool.aux && Object.keys(pool.aux).length) {
    out.AuxiliaryAddresses = Object.fromEntries(Object.entries(pool.aux).map(([k, v]) => [k, formatIPv4(v)]));
  }
  return out;
}

// 02:42 followed by the IPv4 address: unique on the bridge, as Docker's generated MACs were.
export function macForAddress(addr: number): string {
  const bytes = [0x02, 0x42, addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
