import type { ContainerRecord } from '../container/types.js';
import { sha256Hex } from '../util/ids.js';
import type { EndpointState, PortMap } from './types.js';

// How a container's networking looks from the API: NetworkSettings in inspect, Ports
// and NetworkSettings.Networks in the list summary. The record keeps a stopped
// container's addresses for its next start; Docker shows them blank, and so do these.

function endpointView(ep: EndpointState, running: boolean): Record<string, unknown> {
  const { HostIface: _h, DesiredMacAddress: _d, ...docker } = ep as EndpointState & { DesiredMacAddress?: string };
  if (running && ep.EndpointID) return docker;
  return { ...docker, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '' };
}

export function networksView(rec: ContainerRecord): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, ep] of Object.entries(rec.NetworkSettings?.Networks ?? {})) out[name] = endpointView(ep, rec.State.Running);
  return out;
}

export function portsView(rec: ContainerRecord): PortMap {
  return rec.State.Running ? { ...(rec.NetworkSettings?.Ports ?? {}) } : {};
}

// GET /containers/{id}/json NetworkSettings. The top-level address fields (deprecated
// in Docker) describe the default bridge only, as Docker fills them.
export function inspectNetworkSettings(rec: ContainerRecord): Record<string, unknown> {
  const running = rec.State.Running;
  const bridge = rec.NetworkSettings?.Networks.bridge;
  const legacy = bridge && running && bridge.EndpointID ? bridge : null;
  return {
    Bridge: '',
    SandboxID: running && rec.HostConfig.NetworkMode !== 'host' ? sha256Hex(`berth-sandbox:${rec.Id}:${rec.State.StartedAt}`) : '',
    SandboxKey: running && rec.State.Pid ? `/proc/${rec.State.Pid}/ns/net` : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portsView(rec),
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: legacy?.EndpointID ?? '',
    Gateway: legacy?.Gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: legacy?.IPAddress ?? '',
    IPPrefixLen: legacy?.IPPrefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: legacy?.MacAddress ?? '',
    Networks: networksView(rec),
  };
}

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

// The list summary's Ports: published ones with their host side, exposed ones bare.
export function summaryPorts(rec: ContainerRecord): PortSummary[] {
  const out: PortSummary[] = [];
  for (const [key, bindings] of Object.entries(portsView(rec))) {
    const [port, type = 'tcp'] = key.split('/') as [string, string?];
    if (!bindings || bindings.length === 0) out.push({ PrivatePort: Number(port), Type: type });
    else for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return out;
}

// `ps --filter network=…`: by network name or ID (prefix), as Docker matches.
export function onNetwork(rec: ContainerRecord, value: string): boolean {
  return Object.entries(rec.NetworkSettings?.Networks ?? {}).some(([name, ep]) => name === value || (value !== '' && ep.NetworkID.startsWith(value)));
}

// `ps --filter publish=80[/tcp]` and `expose=80[/tcp]`, also as ranges "8000-8080/tcp".
export function portFilterMatches(ports: Iterable<string>, value: string): boolean {
  const [range, proto = 'tcp'] = value.split('/') as [string, string?];
  const [a, b = a] = range.split('-').map(Number) as [number, number?];
  for (const key of ports) {
    const [p, kp = 'tcp'] = key.split('/') as [string, string?];
    if (kp === proto && Number(p) >= a && Number(p) <= (b ?? a)) return true;
  }
  return false;
}

// The container ports that have a host binding (moby matches publish= on these).
export function publishedPorts(rec: ContainerRecord): string[] {
  return Object.entries(portsView(rec)).filter(([, b]) => (b ?? []).length > 0).map(([key]) => key);
}

export function exposedPorts(rec: ContainerRecord): string[] {
  return Object.keys(rec.Config.ExposedPorts ?? {});
}
