import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';

// Networking for test daemons: each gets its own default bridge and subnets, so test
// files running side by side never share a bridge, an address or a rule; and whatever
// a daemon made (bridges, iptables rules) goes when the test ends, even after a crash.
// Subnets come from 198.18.0.0/15, the block set aside for network benchmarks (RFC 2544):
// no LAN or VPN uses it, so a test bridge can never shadow a real route.

function routedPrefixes(): string[] {
  try {
    return execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '');
  } catch {
    return [];
  }
}

// daemon.json keys for one test daemon: bridge name from the temp dir's random suffix,
// bip 198.18.N.1/24 and user networks cut as /28s from 198.19.N.0/24.
export function testNetworkConfig(dir: string): Record<string, unknown> {
  const suffix = dir.slice(-6).replace(/[^A-Za-z0-9]/g, 'x');
  const routed = routedPrefixes().join(' ');
  let n = randomInt(256);
  for (let i = 0; i < 256 && (routed.includes(`198.18.${n}.`) || routed.includes(`198.19.${n}.`)); i++) n = (n + 1) % 256;
  return {
    bridge: `bt${suffix}`,
    bip: `198.18.${n}.1/24`,
    'default-address-pools': [{ base: `198.19.${n}.0/24`, size: 28 }],
  };
}

// The bridges a daemon's data root records (default and user-defined networks).
export async function recordedBridges(dataRoot: string): Promise<string[]> {
  const dir = join(dataRoot, 'network', 'networks');
  const out: string[] = [];
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    try {
      const rec = JSON.parse(await readFile(join(dir, f), 'utf8')) as { bridge?: string };
      if (rec.bridge) out.push(rec.bridge);
    } catch {
      /* not a network record */
    }
  }
  return out;
}

// Every iptables rule naming one of these bridges (as -i/-o), as "table chain spec".
export function rulesMentioning(bridges: readonly string[]): Array<{ table: string; chain: string; spec: string }> {
  if (bridges.length === 0) return [];
  let text = '';
  try {
    text = execFileSync('iptables-save', [], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const out: Array<{ table: string; chain: string; spec: string }> = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (!line.startsWith('-A ')) continue;
    const words = line.split(' ');
    const hit = words.some((w, i) => (w === '-i' || w === '-o') && bridges.includes(words[i + 1] ?? ''));
    if (hit) out.push({ table, chain: words[1]!, spec: words.slice(2).join(' ') });
  }
  return out;
}

export function removeBridgesAndRules(bridges: readonly string[]): void {
  for (const r of rulesMentioning(bridges)) {
    try {
      execFileSync('iptables', ['-w', '-t', r.table, '-D', r.chain, ...r.spec.split(' ')], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
  for (const b of bridges) {
    if (!existsSync(`/sys/class/net/${b}`)) continue;
    try {
      execFileSync('ip', ['link', 'del', b], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

export async function cleanupNetworks(dataRoot: string, extraBridges: readonly string[] = []): Promise<void> {
  removeBridgesAndRules([...new Set([...(await recordedBridges(dataRoot)), ...extraBridges])]);
}
