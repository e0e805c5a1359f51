import { readFile } from 'node:fs/promises';

// A container's interface counters, as Docker's "networks" map. /proc/<pid>/net/dev shows
// the network namespace of that pid, so reading it for the container's init process gives
// the container's own interfaces without entering the namespace.

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

// "  eth0: 1296 16 0 0 0 0 0 0  936 12 0 0 0 0 0 0": receive has 8 columns (bytes packets
// errs drop fifo frame compressed multicast), then transmit. Loopback is left out, as
// Docker reports only the container's endpoints.
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (!name || name === 'lo' || name.includes('|')) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((v) => !Number.isFinite(v))) continue;
    out[name] = {
      rx_bytes: f[0]!,
      rx_packets: f[1]!,
      rx_errors: f[2]!,
      rx_dropped: f[3]!,
      tx_bytes: f[8]!,
      tx_packets: f[9]!,
      tx_errors: f[10]!,
      tx_dropped: f[11]!,
    };
  }
  return out;
}

export async function readNetworkStats(pid: number, procRoot = '/proc'): Promise<Record<string, NetworkStats>> {
  return parseNetDev(await readFile(`${procRoot}/${pid}/net/dev`, 'utf8'));
}
