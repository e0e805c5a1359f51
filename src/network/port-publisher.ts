import { systemError } from '../util/errors.js';
import { describeBinding, type PortRequest } from './port-bindings.js';
import { startProxy, type Proxy } from './port-proxy.js';
import { portRules, type Rule } from './iptables-rules.js';
import type { Iptables } from './iptables.js';

// Publishes a container's ports: a host port per request (the one asked for, the first
// free one of a range, or any free one), held by a userland proxy, plus the DNAT rules
// that bring other hosts' traffic straight to the container. Which container holds
// which port is kept here, so a clash gets Docker's "port is already allocated".

export interface Published {
  key: string;
  hostIp: string;
  hostPort: number;
}

interface Held {
  containerId: string;
  proxies: Proxy[];
  rules: Rule[];
  ports: Published[];
}

export interface PublishInput {
  containerId: string;
  endpointName: string; // the container's name, for messages
  endpointId: string;
  bridge: string;
  containerIp: string;
  requests: readonly PortRequest[];
  // false when re-adopting after a berthd restart: the rules are still in the kernel.
  applyRules?: boolean;
}

const wildcard = (ip: string): boolean => ip === '0.0.0.0' || ip === '::';
const family = (ip: string): number => (ip.includes(':') ? 6 : 4);

export class PortPublisher {
  private readonly held = new Map<string, Held>();

  constructor(private readonly iptables: Iptables) {}

  private allocatedBy(proto: string, hostIp: string, port: number): string | null {
    for (const h of this.held.values()) {
      for (const p of h.proxies) {
        if (p.proto !== proto || p.hostPort !== port || family(p.hostIp) !== family(hostIp)) continue;
        if (p.hostIp === hostIp || wildcard(p.hostIp) || wildcard(hostIp)) return h.containerId;
      }
    }
    return null;
  }

  async publish(input: PublishInput): Promise<Published[]> {
    const proxies: Proxy[] = [];
    const ports: Published[] = [];
    const fail = (msg: string): Error =>
      systemError(`failed to set up container networking: driver failed programming external connectivity on endpoint ${input.endpointName} (${input.endpointId}): ${msg}`);
    try {
      if (input.requests.some((r) => r.proto === 'sctp')) throw fail('sctp port publishing is not supported by berth');
      // Requests for the same port on 0.0.0.0 and :: are one group sharing a host port:
      // a port free on one family but taken on the other is tried again elsewhere.
      // The same binding asked twice (-p 127.0.0.1::80 -p 127.0.0.1::80) is two groups, each
      // with a host port of its own, as in Docker.
      const groups: PortRequest[][] = [];
      const byKey = new Map<string, PortRequest[][]>();
      for (const r of input.requests) {
        const k = `${r.key}|${r.hostPortStart}-${r.hostPortEnd}`;
        const same = byKey.get(k) ?? [];
        let group = same.find((g) => !g.some((x) => x.hostIp === r.hostIp));
        if (!group) {
          group = [];
          same.push(group);
          groups.push(group);
          byKey.set(k, same);
        }
        group.push(r);
      }
      for (const group of groups) {
        const first = group[0]!;
        const proto = first.proto === 'udp' ? 'udp' : 'tcp';
        const target = { host: input.containerIp, port: first.containerPort };
        const candidates = first.hostPortStart === 0 ? [0, 0, 0, 0, 0] : range(first.hostPortStart, first.hostPortEnd);
        let lastErr = '';
        let done = false;
        for (const candidate of candidates) {
          const got: Proxy[] = [];
          let port = candidate;
          let failed = '';
          for (const r of group) {
            const shown = r.hostIp.includes(':') ? `[${r.hostIp}]` : r.hostIp;
            if (port !== 0 && this.allocatedBy(proto, r.hostIp, port)) {
              failed = `Bind for ${shown}:${port} failed: port is already allocated`;
              break;
            }
            try {
              const proxy = await startProxy(proto, r.hostIp, port, target);
              got.push(proxy);
              port = proxy.hostPort;
            } catch (err) {
              const e = err as NodeJS.ErrnoException;
              // No IPv6 on this host after all: the IPv4 binding serves alone.
              if (r.hostIp === '::' && (e.code === 'EAFNOSUPPORT' || e.code === 'EADDRNOTAVAIL')) continue;
              const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : e.message;
              failed = `failed to bind host port for ${describeBinding(r.hostIp, port, input.containerIp, r.containerPort, r.proto)}: ${why}`;
              break;
            }
          }
          if (!failed) {
            proxies.push(...got);
            for (const p of got) ports.push({ key: first.key, hostIp: p.hostIp, hostPort: p.hostPort });
            done = true;
            break;
          }
          await Promise.all(got.map((p) => p.close()));
          lastErr = failed;
        }
        if (!done) throw fail(lastErr || 'no free host port');
      }
      const rules = ports
        .filter((p) => !p.hostIp.includes(':') && !p.hostIp.startsWith('127.'))
        .flatMap((p) => {
          const [port, proto] = p.key.split('/') as [string, 'tcp' | 'udp' | 'sctp'];
          return portRules({ bridge: input.bridge, containerIp: input.containerIp, containerPort: Number(port), proto, hostIp: p.hostIp, hostPort: p.hostPort });
        });
      if (input.applyRules !== false) await this.iptables.add(rules);
      this.held.set(input.containerId, { containerId: input.containerId, proxies, rules, ports });
      return ports;
    } catch (err) {
      await Promise.all(proxies.map((p) => p.close()));
      throw err;
    }
  }

  async unpublish(containerId: string): Promise<void> {
    const h = this.held.get(containerId);
    if (!h) return;
    this.held.delete(containerId);
    await Promise.all(h.proxies.map((p) => p.close()));
    await this.iptables.delete(h.rules);
  }

  // The iptables rules every published port needs, for a reconcile at start-up.
  rules(): Rule[] {
    return [...this.held.values()].flatMap((h) => h.rules);
  }
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}
