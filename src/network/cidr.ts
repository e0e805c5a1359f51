// IPv4 addresses as unsigned 32-bit numbers, and prefixes (CIDR blocks) over them.
// Pure arithmetic: every subnet, pool and port rule in src/network goes through here.

export interface Prefix {
  base: number; // the network address (host bits zero)
  bits: number; // 0..32
}

export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    // Go's netip rejects leading zeros (they read as octal elsewhere).
    if (part.length > 1 && part.startsWith('0')) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

// "10.1.2.3/16" → the address as written and the prefix length; null when malformed.
export function parseCidr(s: string): { addr: number; bits: number } | null {
  const i = s.indexOf('/');
  if (i < 0) return null;
  const addr = parseIPv4(s.slice(0, i));
  const bitsText = s.slice(i + 1);
  if (addr === null || !/^\d{1,2}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > 32) return null;
  return { addr, bits };
}

export function prefixOf(addr: number, bits: number): Prefix {
  return { base: (addr & maskOf(bits)) >>> 0, bits };
}

export function parsePrefix(s: string): Prefix | null {
  const c = parseCidr(s);
  return c ? prefixOf(c.addr, c.bits) : null;
}

export function formatPrefix(p: Prefix): string {
  return `${formatIPv4(p.base)}/${p.bits}`;
}

export function prefixSize(p: Prefix): number {
  return 2 ** (32 - p.bits);
}

export function lastAddress(p: Prefix): number {
  return (p.base + prefixSize(p) - 1) >>> 0;
}

export function contains(p: Prefix, addr: number): boolean {
  return ((addr & maskOf(p.bits)) >>> 0) === p.base;
}

export function overlaps(a: Prefix, b: Prefix): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

// Split `pool` into consecutive blocks of `bits` (Docker's default-address-pools "size").
export function* subdivide(pool: Prefix, bits: number): Generator<Prefix> {
  if (bits < pool.bits) return;
  const step = 2 ** (32 - bits);
  const count = 2 ** (bits - pool.bits);
  for (let i = 0; i < count; i++) yield { base: (pool.base + i * step) >>> 0, bits };
}
