import { access, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { runTool } from './command.js';
import { formatIPv4, lastAddress, parseCidr, prefixOf } from './cidr.js';
import { attachVethNetlink, deleteLinkNetlinkAsync } from './netlink.js';

// Bridges and veth pairs. A container's veth is made over rtnetlink (netlink.ts), in
// microseconds; `ip` from iproute2 is the fallback, and makes the bridges (rare). Each
// `ip` operation is one `ip -batch` (plus one inside the container's netns through
// nsenter), so even then a join costs two short-lived processes.

export interface BridgeSpec {
  name: string;
  address: string; // the gateway with the subnet's prefix, "172.17.0.1/16"
  mtu: number;
}

export interface VethSpec {
  hostIface: string; // "veth1a2b3c4"
  bridge: string;
  pid: number; // a process inside the container's network namespace
  ctrIface: string; // "eth0"
  mac: string;
  address: string; // "172.17.0.2/16"
  gateway: string | null; // default route through it, or none
  mtu: number;
}

export async function linkExists(name: string): Promise<boolean> {
  return access(`/sys/class/net/${name}`).then(() => true, () => false);
}

// Create the bridge, or fix up one left from an earlier run (its address may have
// changed with `bip`), and bring it up.
export async function ensureBridge(spec: BridgeSpec): Promise<void> {
  const lines: string[] = [];
  if (await linkExists(spec.name)) {
    const current = await runTool('ip', ['-4', '-o', 'addr', 'show', 'dev', spec.name]);
    const addrs = [...current.matchAll(/\sinet\s+(\S+)/g)].map((m) => m[1]);
    if (addrs.length !== 1 || addrs[0] !== spec.address) lines.push(`addr flush dev ${spec.name}`, `addr add ${spec.address} dev ${spec.name}`);
    if (!(await hasFixedMac(spec.name))) lines.push(`link set ${spec.name} address ${randomBridgeMac()}`);
  } else {
    lines.push(`link add name ${spec.name} mtu ${spec.mtu} address ${randomBridgeMac()} type bridge`, `addr add ${spec.address} dev ${spec.name}`);
  }
  lines.push(`link set ${spec.name} up`);
  await runTool('ip', ['-batch', '-'], lines.join('\n') + '\n');
}

// A bridge whose MAC was never set takes the lowest MAC of its ports, so it changes as
// containers come and go, and the others' ARP entry for the gateway goes stale: their DNS
// (served on the gateway) and routing fail for seconds. Docker sets a fixed 02:42 MAC too.
function randomBridgeMac(): string {
  return ['02', '42', ...[...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

// addr_assign_type 3 (NET_ADDR_SET): the address was set by hand and the bridge keeps it.
async function hasFixedMac(name: string): Promise<boolean> {
  return (await readFile(`/sys/class/net/${name}/addr_assign_type`, 'utf8').catch(() => '')).trim() === '3';
}

export async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  try {
    return await deleteLinkNetlinkAsync(name);
  } catch {
    // fall back to ip
  }
  await runTool('ip', ['link', 'del', name]).catch(async (err: Error) => {
    // Gone meanwhile (its netns closed with the container): nothing left to do.
    if (await linkExists(name)) throw err;
  });
}

// The pair is made with its far end already inside the container's netns, then that
// end is addressed and routed from inside.
export async function attachVeth(spec: VethSpec): Promise<void> {
  const c = parseCidr(spec.address);
  if (c) {
    try {
      attachVethNetlink({
        ...spec, ip: formatIPv4(c.addr), prefixLen: c.bits, broadcast: formatIPv4(lastAddress(prefixOf(c.addr, c.bits))),
      });
      return;
    } catch (err) {
      process.stderr.write(`berthd: netlink: ${(err as Error).message}; using ip instead\n`);
    }
  }
  await attachVethIp(spec);
}

async function attachVethIp(spec: VethSpec): Promise<void> {
  await runTool(
    'ip',
    ['-batch', '-'],
    [
      `link add name ${spec.hostIface} mtu ${spec.mtu} type veth peer name ${spec.ctrIface} mtu ${spec.mtu} address ${spec.mac} netns ${spec.pid}`,
      `link set ${spec.hostIface} master ${spec.bridge} up`,
    ].join('\n') + '\n',
  );
  const inside = [`addr add ${spec.address} brd + dev ${spec.ctrIface}`, `link set ${spec.ctrIface} up`];
  if (spec.gateway) inside.push(`route add default via ${spec.gateway} dev ${spec.ctrIface}`);
  try {
    await runTool('nsenter', ['-t', String(spec.pid), '-n', 'ip', '-batch', '-'], inside.join('\n') + '\n');
  } catch (err) {
    await deleteLink(spec.hostIface).catch(() => {});
    throw err;
  }
}

// Interfaces inside a process's network namespace (its /proc/<pid>/net/dev), with
// their byte and packet counters: for the next free ethN and for `stats`.
export interface IfaceCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export function parseNetDev(text: string): IfaceCounters[] {
  const out: IfaceCounters[] = [];
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out.push({
      name: line.slice(0, i).trim(),
      rxBytes: f[0] ?? 0, rxPackets: f[1] ?? 0, rxErrors: f[2] ?? 0, rxDropped: f[3] ?? 0,
      txBytes: f[8] ?? 0, txPackets: f[9] ?? 0, txErrors: f[10] ?? 0, txDropped: f[11] ?? 0,
    });
  }
  return out;
}

export async function interfacesOf(pid: number): Promise<IfaceCounters[]> {
  return parseNetDev(await readFile(`/proc/${pid}/net/dev`, 'utf8').catch(() => ''));
}

export function nextEthName(existing: readonly string[]): string {
  for (let i = 0; ; i++) if (!existing.includes(`eth${i}`)) return `eth${i}`;
}
