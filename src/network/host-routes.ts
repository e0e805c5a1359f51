import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Prefix } from './cidr.js';

// The host's IPv4 routes (main table), so new bridges never take a subnet the host
// already reaches through another interface. The default route says nothing about
// which subnets are free and is left out.

export interface HostRoute {
  iface: string;
  prefix: Prefix;
}

// /proc/net/route prints each address as the in-memory u32 in hex: byte order is the host's.
function hexAddr(hex: string): number {
  const b = Buffer.alloc(4);
  const v = parseInt(hex, 16) >>> 0;
  if (endianness() === 'LE') b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b.readUInt32BE(0);
}

export function parseProcRoutes(text: string): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const mask = hexAddr(f[7]!);
    if (mask === 0) continue;
    let bits = 0;
    for (let m = mask; m & 0x80000000; m = (m << 1) >>> 0) bits++;
    out.push({ iface: f[0]!, prefix: { base: (hexAddr(f[1]!) & mask) >>> 0, bits } });
  }
  return out;
}

export async function hostRoutes(): Promise<HostRoute[]> {
  return parseProcRoutes(await readFile('/proc/net/route', 'utf8').catch(() => ''));
}
