import { isIP } from 'node:net';
import { invalid } from '../util/errors.js';
import type { PortMap } from './types.js';

// From a container's ExposedPorts, PortBindings and PublishAllPorts to the list of host
// ports to bind, as Docker's daemon expands them: -P publishes every exposed port on a
// random host port; an empty HostIp means every IPv4 address (and IPv6 when the host
// has it); "8000-8010" means the first free port of the range.

export type Proto = 'tcp' | 'udp' | 'sctp';

export interface PortRequest {
  key: string; // "80/tcp", the PortMap key
  proto: Proto;
  containerPort: number;
  hostIp: string; // '0.0.0.0', '::' or a specific address
  hostPortStart: number; // 0: any free port
  hostPortEnd: number;
}

export function parsePortKey(key: string): { port: number; proto: Proto } {
  const [p, proto = 'tcp'] = key.split('/', 2) as [string, string?];
  const port = Number(p);
  if (!/^\d+$/.test(p) || port < 1 || port > 65535) throw invalid(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw invalid(`invalid proto: ${proto}`);
  return { port, proto };
}

function hostPortRange(raw: string): [number, number] {
  if (raw === '') return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(raw);
  const start = m ? Number(m[1]) : NaN;
  const end = m && m[2] !== undefined ? Number(m[2]) : start;
  if (!m || start > 65535 || end > 65535 || end < start) throw invalid(`invalid port specification: "${raw}"`);
  return [start, end];
}

export function expandPortRequests(
  exposed: Record<string, unknown> | undefined,
  bindings: PortMap | undefined,
  publishAll: boolean,
  hostHasIPv6: boolean,
): PortRequest[] {
  const keys = new Set([...Object.keys(exposed ?? {}), ...Object.keys(bindings ?? {})]);
  const out: PortRequest[] = [];
  for (const key of [...keys].sort()) {
    const { port, proto } = parsePortKey(key);
    let list = bindings?.[key] ?? [];
    if (list.length === 0 && publishAll) list = [{ HostIp: '', HostPort: '' }];
    for (const b of list) {
      const [start, end] = hostPortRange(b.HostPort ?? '');
      const ip = (b.HostIp ?? '').replace(/^\[(.*)\]$/, '$1');
      if (ip !== '' && isIP(ip) === 0) throw invalid(`invalid IP address: ${ip}`);
      const ips = ip !== '' ? [ip] : hostHasIPv6 ? ['0.0.0.0', '::'] : ['0.0.0.0'];
      for (const hostIp of ips) out.push({ key: `${port}/${proto}`, proto, containerPort: port, hostIp, hostPortStart: start, hostPortEnd: end });
    }
  }
  return out;
}

// The ports a running container's inspect shows: every exposed or bound port, with the
// host side of those published (null for exposed-only ones).
export function portMapFor(exposed: Record<string, unknown> | undefined, bound: ReadonlyArray<{ key: string; hostIp: string; hostPort: number }>): PortMap {
  const out: PortMap = {};
  for (const key of Object.keys(exposed ?? {})) {
    const { port, proto } = parsePortKey(key);
    out[`${port}/${proto}`] = null;
  }
  for (const b of bound) (out[b.key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  return out;
}

// "0.0.0.0:4000:172.17.0.2:80/tcp", how Docker names a binding in its errors.
export function describeBinding(hostIp: string, hostPort: number, ctrIp: string, ctrPort: number, proto: string): string {
  const h = hostIp.includes(':') ? `[${hostIp}]` : hostIp;
  return `${h}:${hostPort}:${ctrIp}:${ctrPort}/${proto}`;
}
