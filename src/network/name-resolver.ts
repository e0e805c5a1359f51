import { readFile } from 'node:fs/promises';
import type { ContainerRecord } from '../container/types.js';
import { shortId } from '../util/ids.js';
import type { DnsBackend } from './dns-server.js';
import type { NetworkStore } from './network-store.js';
import type { ContainerDirectory } from './network-service.js';
import type { EndpointState, NetworkRecord } from './types.js';

// What the embedded DNS answers, computed from the container records at query time (so
// a rename or a connect is seen at once): a container resolves the names of the
// containers it shares a user-defined network with — name, --network-alias, short ID,
// hostname, also as "<name>.<network>" — and its own --link aliases there.

export function dnsNames(rec: ContainerRecord, ep: EndpointState): string[] {
  const names = [rec.Name.replace(/^\//, ''), ...(ep.Aliases ?? []), shortId(rec.Id)];
  if (rec.Config.Hostname) names.push(rec.Config.Hostname);
  return [...new Set(names)];
}

interface Endpoint {
  rec: ContainerRecord;
  ep: EndpointState;
  net: NetworkRecord;
}

export class NameResolver implements DnsBackend {
  constructor(
    private readonly store: NetworkStore,
    private readonly containers: () => ContainerDirectory,
    private readonly daemonDns: readonly string[],
  ) {}

  // Running endpoints on user-defined networks (the only ones with service discovery).
  private endpoints(): Endpoint[] {
    const out: Endpoint[] = [];
    // An endpoint ID marks a joined endpoint: set before the process starts (its first
    // query may come before the record says "running"), cleared when it exits.
    for (const rec of this.containers().all()) {
      for (const ep of Object.values(rec.NetworkSettings?.Networks ?? {})) {
        if (!ep.EndpointID || !ep.IPAddress) continue;
        const net = this.store.get(ep.NetworkID);
        if (net && net.Driver === 'bridge' && net.Name !== 'bridge') out.push({ rec, ep, net });
      }
    }
    return out;
  }

  private asker(all: Endpoint[], srcIp: string): { rec: ContainerRecord; nets: Map<string, Endpoint> } | null {
    const mine = all.find((e) => e.ep.IPAddress === srcIp);
    if (!mine) return null;
    const nets = new Map<string, Endpoint>();
    for (const e of all) if (e.rec.Id === mine.rec.Id) nets.set(e.net.Id, e);
    return { rec: mine.rec, nets };
  }

  lookup(srcIp: string, rawName: string): string[] | null | 'stranger' {
    const all = this.endpoints();
    const me = this.asker(all, srcIp);
    if (!me) return 'stranger';
    const name = rawName.replace(/\.$/, '').toLowerCase();
    const ips = new Set<string>();
    for (const [netId, own] of me.nets) {
      const netName = own.net.Name.toLowerCase();
      const short = name.endsWith(`.${netName}`) ? name.slice(0, -netName.length - 1) : null;
      const wanted = (n: string): boolean => n.toLowerCase() === name || (short !== null && n.toLowerCase() === short);
      // --link target:alias on a user network: the alias is the linking container's own.
      for (const link of own.ep.Links ?? []) {
        const [target, alias = target] = link.replace(/^\//, '').split(':') as [string, string?];
        if (!wanted(alias.replace(/^.*\//, ''))) continue;
        const t = all.find((e) => e.net.Id === netId && (e.rec.Name === `/${target}` || e.rec.Id.startsWith(target)));
        if (t) ips.add(t.ep.IPAddress);
      }
      for (const e of all) {
        if (e.net.Id === netId && dnsNames(e.rec, e.ep).some(wanted)) ips.add(e.ep.IPAddress);
      }
    }
    return ips.size ? [...ips] : null;
  }

  reverse(srcIp: string, ip: string): string | null {
    const all = this.endpoints();
    const me = this.asker(all, srcIp);
    if (!me) return null;
    const hit = all.find((e) => e.ep.IPAddress === ip && me.nets.has(e.net.Id));
    return hit ? `${hit.rec.Name.slice(1)}.${hit.net.Name}` : null;
  }

  // Docker's order: the container's --dns, the daemon's "dns", the host's resolv.conf
  // (loopback resolvers included: berthd asks them from the host's namespace).
  async upstreams(srcIp: string): Promise<string[]> {
    const all = this.endpoints();
    const me = this.asker(all, srcIp);
    if (!me || [...me.nets.values()].every((e) => e.net.Internal)) return [];
    if (me.rec.HostConfig.Dns?.length) return me.rec.HostConfig.Dns;
    if (this.daemonDns.length) return [...this.daemonDns];
    return hostNameservers(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
  }
}

export function hostNameservers(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => !!s);
}
