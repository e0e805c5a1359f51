import { readFile, writeFile } from 'node:fs/promises';
import type { EventBus } from '../daemon/events.js';
import type { ContainerRecord } from '../container/types.js';
import { BerthError, conflict, invalid, notFound, notImplemented } from '../util/errors.js';
import { newId, shortId } from '../util/ids.js';
import { formatIPv4, formatPrefix, overlaps, parseIPv4, type Prefix } from './cidr.js';
import { defaultPool, parseAddressPools, parseBip, parseFixedCidr, pickSubnet, poolsExhausted, type AddressPool } from './address-pools.js';
import { hostRoutes } from './host-routes.js';
import { poolConfig, poolFromConfig, type IpamConfigInput, type IpamPool } from './ipam.js';
import { networkRules, type Rule } from './iptables-rules.js';
import { Iptables } from './iptables.js';
import { deleteLink, ensureBridge, linkExists } from './links.js';
import { NetworkStore } from './network-store.js';
import { filterNetworks, prunable, type Filters } from './network-filters.js';
import { PortPublisher } from './port-publisher.js';
import { EmbeddedDns } from './dns-server.js';
import { NameResolver } from './name-resolver.js';
import { runTool } from './command.js';
import { isPredefined, type EndpointState, type NetworkRecord } from './types.js';
import { sortedMap } from '../util/sorted-map.js';

// Networks: the three predefined ones (bridge, host, none) and user-defined bridges.
// Owns the Linux bridges, berth's iptables chains and the embedded DNS listeners, and
// restores all of them when berthd starts. Containers join through ContainerNetworking.

// What the network side may ask of containers; the container service provides it.
export interface ContainerDirectory {
  all(): ContainerRecord[];
  get(id: string): ContainerRecord | undefined;
  resolve(ref: string): ContainerRecord;
}

export interface NetworkServiceDeps {
  root: string; // <dataRoot>/network
  config: Record<string, unknown>; // daemon.json
  events: EventBus;
  containers: () => ContainerDirectory;
  log?: (msg: string) => void;
}

export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
const OPT_DEFAULT_BRIDGE = 'com.docker.network.bridge.default_bridge';
const OPT_ICC = 'com.docker.network.bridge.enable_icc';
const OPT_MASQ = 'com.docker.network.bridge.enable_ip_masquerade';
const OPT_HOST_BINDING = 'com.docker.network.bridge.host_binding_ipv4';
const OPT_MTU = 'com.docker.network.driver.mtu';

export interface CreateNetworkRequest {
  Name?: string;
  Driver?: string;
  Scope?: string;
  EnableIPv6?: boolean | null;
  IPAM?: { Driver?: string; Config?: IpamConfigInput[] | null; Options?: Record<string, string> | null } | null;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

// A running container's endpoint on a network, as inspect lists it.
export interface AttachedEndpoint {
  rec: ContainerRecord;
  ep: EndpointState;
}

const boolOpt = (v: string | undefined, dflt: boolean): boolean => (v === undefined ? dflt : v === 'true' || v === '1');

export class NetworkService {
  readonly store: NetworkStore;
  readonly iptables: Iptables;
  readonly ports: PortPublisher;
  readonly dns: EmbeddedDns;
  readonly mtu: number;
  readonly daemonDns: readonly string[]; // daemon.json "dns"
  private readonly pools: AddressPool[];
  private readonly log: (msg: string) => void;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: NetworkServiceDeps) {
    this.store = new NetworkStore(deps.root);
    this.iptables = new Iptables(deps.config.iptables !== false);
    this.ports = new PortPublisher(this.iptables);
    this.log = deps.log ?? ((m) => process.stderr.write(`berthd: ${m}\n`));
    this.daemonDns = Array.isArray(deps.config.dns) ? (deps.config.dns as unknown[]).map(String) : [];
    this.dns = new EmbeddedDns(new NameResolver(this.store, deps.containers, this.daemonDns), this.log);
    this.mtu = Number(deps.config.mtu) > 0 ? Number(deps.config.mtu) : 1500;
    this.pools = parseAddressPools(deps.config['default-address-pools']);
  }

  get containers(): ContainerDirectory {
    return this.deps.containers();
  }

  // moby's HostGatewayIP, what `--add-host name:host-gateway` stands for: daemon.json
  // "host-gateway-ip", else the default bridge's gateway ('' when there is none).
  hostGatewayIp(): string {
    const configured = this.deps.config['host-gateway-ip'];
    if (typeof configured === 'string' && configured !== '') return configured;
    return this.store.byName('bridge')?.IPAM.Config.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway ?? '';
  }

  // Network changes one at a time: two creates must not pick the same subnet or name.
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }

  // ---- start-up ----------------------------------------------------------------

  async init(): Promise<void> {
    await this.store.load();
    await this.enableForwarding();
    await this.iptables.ensureBase();
    await this.ensurePredefined();
    for (const n of this.store.all()) {
      if (!n.bridge) continue;
      const pool = this.pool(n);
      if (!pool) continue;
      await ensureBridge({ name: n.bridge, address: `${formatIPv4(pool.gateway)}/${pool.subnet.bits}`, mtu: this.netMtu(n) });
      if (this.hasDns(n)) await this.listenDns(n);
    }
  }

  // After the containers that survived a berthd restart have their ports back: make the
  // iptables rules of every bridge exactly what is wanted (stale ones from a crash go).
  async restoreRules(): Promise<void> {
    const bridges = new Set(this.store.all().map((n) => n.bridge).filter((b): b is string => !!b));
    const desired = [...this.store.all().flatMap((n) => this.rulesFor(n)), ...this.ports.rules()];
    await this.iptables.reconcile(desired, bridges).catch((err: Error) => this.log(`iptables: ${err.message}`));
  }

  // Containers need the host to route between the bridges and the world. As Docker,
  // turning forwarding on also sets FORWARD's policy to DROP, so the host does not
  // become an open router for everything else.
  private async enableForwarding(): Promise<void> {
    if (this.deps.config['ip-forward'] === false) return;
    const path = '/proc/sys/net/ipv4/ip_forward';
    const on = (await readFile(path, 'utf8').catch(() => '1')).trim() === '1';
    if (on) return;
    await writeFile(path, '1');
    if (this.iptables.enabled) await runTool('iptables', ['-w', '-P', 'FORWARD', 'DROP']).catch(() => {});
  }

  private async ensurePredefined(): Promise<void> {
    const now = new Date().toISOString();
    const base = (name: string, driver: NetworkRecord['Driver']): NetworkRecord => ({
      Name: name, Id: newId(), Created: now, Scope: 'local', Driver: driver, EnableIPv4: true, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
      ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
    });
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.store.byName(name)) await this.store.save(base(name, driver));
    }
    const wanted = await this.defaultBridgeConfig();
    const existing = this.store.byName('bridge');
    if (!wanted) {
      // `"bridge": "none"`: no default bridge, as dockerd --bridge=none.
      if (existing) await this.dropBridgeNetwork(existing);
      return;
    }
    const rec = existing ?? base('bridge', 'bridge');
    if (existing?.bridge && existing.bridge !== wanted.name) await this.dropBridgeNetwork(existing, false);
    rec.IPAM.Config = [poolConfig(wanted.pool)];
    rec.bridge = wanted.name;
    rec.Options = {
      [OPT_DEFAULT_BRIDGE]: 'true',
      [OPT_ICC]: String(this.deps.config.icc !== false),
      [OPT_MASQ]: String(this.deps.config['ip-masq'] !== false),
      [OPT_HOST_BINDING]: typeof this.deps.config.ip === 'string' ? this.deps.config.ip : '0.0.0.0',
      [OPT_BRIDGE_NAME]: wanted.name,
      [OPT_MTU]: String(this.mtu),
    };
    await this.store.save(rec);
  }

  // The default bridge: its name from daemon.json "bridge" (berth0), its subnet from
  // "bip", else the one it had, else Docker's first free default (172.17.0.0/16).
  private async defaultBridgeConfig(): Promise<{ name: string; pool: IpamPool } | null> {
    const name = typeof this.deps.config.bridge === 'string' && this.deps.config.bridge !== '' ? this.deps.config.bridge : 'berth0';
    if (name === 'none') return null;
    if (name.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(name)) throw invalid(`bridge: invalid interface name ${JSON.stringify(name)}`);
    const range = parseFixedCidr(this.deps.config['fixed-cidr']);
    const bip = parseBip(this.deps.config.bip);
    if (bip) return { name, pool: { ...bip, range } };
    const previous = this.store.byName('bridge');
    const prevPool = previous ? this.pool(previous) : null;
    if (prevPool && previous?.bridge === name) return { name, pool: { ...prevPool, range } };
    const taken = await this.takenSubnets(name);
    const subnet = pickSubnet(this.pools, taken);
    if (!subnet) throw poolsExhausted();
    return { name, pool: { ...defaultPool(subnet), range } };
  }

  // Subnets a new network must not overlap: ours, and what the host routes elsewhere.
  private async takenSubnets(exceptIface?: string): Promise<Prefix[]> {
    const ours = new Set(this.store.all().map((n) => n.bridge).filter(Boolean));
    const routes = (await hostRoutes()).filter((r) => r.iface !== exceptIface && !ours.has(r.iface)).map((r) => r.prefix);
    const nets = this.store.all().flatMap((n) => {
      const p = this.pool(n);
      return p ? [p.subnet] : [];
    });
    return [...routes, ...nets];
  }

  // ---- helpers ----------------------------------------------------------------

  pool(n: NetworkRecord): IpamPool | null {
    const cfg = n.IPAM.Config.find((c) => parseIPv4(c.Subnet.split('/')[0] ?? '') !== null);
    return cfg ? poolFromConfig(cfg) : null;
  }

  // Was the subnet given by the user (so --ip is allowed)? The default bridge's never is.
  userSubnet(n: NetworkRecord): boolean {
    return n.Name !== 'bridge' && n.IPAM.Config.length > 0 && (n.Options['berth.subnet.auto'] ?? '') !== 'true';
  }

  netMtu(n: NetworkRecord): number {
    const v = Number(n.Options[OPT_MTU]);
    return v > 0 ? v : this.mtu;
  }

  isUserDefined(n: NetworkRecord): boolean {
    return !isPredefined(n.Name);
  }

  private hasDns(n: NetworkRecord): boolean {
    return n.Driver === 'bridge' && this.isUserDefined(n);
  }

  private async listenDns(n: NetworkRecord): Promise<void> {
    const pool = this.pool(n);
    if (!pool) return;
    await this.dns.listen(formatIPv4(pool.gateway)).catch((err: Error) => this.log(`embedded DNS for network ${n.Name} on ${formatIPv4(pool.gateway)}:53: ${err.message}`));
  }

  rulesFor(n: NetworkRecord): Rule[] {
    const pool = this.pool(n);
    if (!n.bridge || !pool) return [];
    return networkRules({
      bridge: n.bridge,
      subnet: formatPrefix(pool.subnet),
      internal: n.Internal,
      icc: boolOpt(n.Options[OPT_ICC], true),
      masquerade: boolOpt(n.Options[OPT_MASQ], true),
    });
  }

  // Joined endpoints on a network (Docker's active endpoints): from join to leave.
  attached(n: NetworkRecord): AttachedEndpoint[] {
    const out: AttachedEndpoint[] = [];
    for (const rec of this.containers.all()) {
      for (const ep of Object.values(rec.NetworkSettings?.Networks ?? {})) {
        if (ep.NetworkID === n.Id && ep.EndpointID) out.push({ rec, ep });
      }
    }
    return out;
  }

  inUse(n: NetworkRecord): boolean {
    return this.attached(n).length > 0;
  }

  emitConnect(n: NetworkRecord, containerId: string, action: 'connect' | 'disconnect'): void {
    this.deps.events.emit('network', action, n.Id, { container: containerId, name: n.Name, type: n.Driver });
  }

  // ---- the API --------------------------------------------------------------------

  view(n: NetworkRecord, withContainers: boolean): Record<string, unknown> {
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const { rec, ep } of this.attached(n)) {
        containers[rec.Id] = {
          Name: rec.Name.slice(1),
          EndpointID: ep.EndpointID,
          MacAddress: ep.MacAddress,
          IPv4Address: ep.IPAddress ? `${ep.IPAddress}/${ep.IPPrefixLen}` : '',
          IPv6Address: '',
        };
      }
    }
    const { bridge: _bridge, ...docker } = n;
    return { ...docker, Options: Object.fromEntries(Object.entries(n.Options).filter(([k]) => !k.startsWith('berth.'))), Containers: containers };
  }

  list(filters: Filters): Record<string, unknown>[] {
    return filterNetworks(this.store.all(), filters, (n) => this.inUse(n)).map((n) => this.view(n, false));
  }

  inspect(term: string): Record<string, unknown> {
    return this.view(this.store.resolve(term), true);
  }

  create(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    return this.serial(() => this.createLocked(req));
  }

  private async createLocked(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    const name = req.Name ?? '';
    if (name === '') throw invalid('invalid name: network name cannot be empty');
    if (isPredefined(name)) throw new BerthError('Forbidden', `${name} is a pre-defined network and cannot be created`);
    if (this.store.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new BerthError('Forbidden', `only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    if (req.Scope && req.Scope !== 'local') throw invalid(`Invalid scope: ${req.Scope}; berth networks are local`);
    if (req.EnableIPv6) throw notImplemented('IPv6 networks are not supported by berth');
    if (req.Ingress || req.ConfigOnly || req.ConfigFrom?.Network) throw notImplemented('swarm and configuration-only networks are not supported by berth');
    const ipamDriver = req.IPAM?.Driver || 'default';
    if (ipamDriver !== 'default') throw notFound(`plugin "${ipamDriver}" not found`);
    const v4 = (req.IPAM?.Config ?? []).filter((c) => !(c.Subnet ?? '').includes(':'));
    if (v4.length > 1) throw notImplemented('berth supports one IPv4 subnet per network');
    const options = { ...(req.Options ?? {}) };
    const id = newId();
    const bridge = options[OPT_BRIDGE_NAME] || `berth-${id.slice(0, 9)}`;
    if (bridge.length > 15 || !/^[A-Za-z0-9_.-]+$/.test(bridge)) throw invalid(`invalid bridge name ${JSON.stringify(bridge)}`);
    if (this.store.all().some((n) => n.bridge === bridge) || (await linkExists(bridge))) throw conflict(`bridge name ${bridge} is already in use`);

    let pool: IpamPool;
    let auto = false;
    if (v4.length === 1 && v4[0]!.Subnet) {
      pool = poolFromConfig(v4[0]!);
      const clash = this.store.all().some((n) => {
        const p = this.pool(n);
        return p !== null && overlaps(p.subnet, pool.subnet);
      });
      if (clash) throw new BerthError('Forbidden', 'Pool overlaps with other one on this address space');
    } else {
      if (v4.length === 1 && (v4[0]!.Gateway || v4[0]!.IPRange)) throw invalid('invalid network config:\na subnet is required with --gateway or --ip-range');
      const subnet = pickSubnet(this.pools, await this.takenSubnets());
      if (!subnet) throw poolsExhausted();
      pool = defaultPool(subnet);
      auto = true;
    }
    const rec: NetworkRecord = {
      Name: name,
      Id: id,
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv4: true,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: req.IPAM?.Options ?? {}, Config: [poolConfig(pool)] },
      Internal: !!req.Internal,
      Attachable: !!req.Attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: auto ? { ...options, 'berth.subnet.auto': 'true' } : options,
      Labels: sortedMap(req.Labels ?? {}),
      bridge,
    };
    // The record first: a crash after it leaves a network that start-up finishes.
    await this.store.save(rec);
    try {
      await ensureBridge({ name: bridge, address: `${formatIPv4(pool.gateway)}/${pool.subnet.bits}`, mtu: this.netMtu(rec) });
      await this.iptables.add(this.rulesFor(rec));
      await this.listenDns(rec);
    } catch (err) {
      await this.dropBridgeNetwork(rec).catch(() => {});
      throw err;
    }
    this.deps.events.emit('network', 'create', id, { name, type: 'bridge' });
    return { Id: id, Warning: '' };
  }

  remove(term: string): Promise<void> {
    return this.serial(async () => {
      const n = this.store.resolve(term);
      if (isPredefined(n.Name)) throw new BerthError('Forbidden', `${n.Name} is a pre-defined network and cannot be removed`);
      const active = this.attached(n);
      if (active.length) {
        const eps = active.map(({ rec, ep }) => `name:${JSON.stringify(rec.Name.slice(1))} id:${JSON.stringify(shortId(ep.EndpointID))}`);
        throw new BerthError('Forbidden', `error while removing network: network ${n.Name} has active endpoints (${eps.join(', ')})`);
      }
      await this.dropBridgeNetwork(n);
      this.deps.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
    });
  }

  // Bridge, rules, DNS listener and record of a network, in that order.
  private async dropBridgeNetwork(n: NetworkRecord, deleteRecord = true): Promise<void> {
    const pool = this.pool(n);
    if (pool && this.hasDns(n)) await this.dns.close(formatIPv4(pool.gateway));
    if (n.bridge) {
      await this.iptables.reconcile([], new Set([n.bridge]));
      await deleteLink(n.bridge);
    }
    if (deleteRecord) await this.store.delete(n.Id);
  }

  prune(filters: Filters): Promise<{ NetworksDeleted: string[] }> {
    return this.serial(async () => {
      const deleted: string[] = [];
      for (const n of prunable(this.store.all(), filters, (x) => this.inUse(x))) {
        try {
          await this.dropBridgeNetwork(n);
          this.deps.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
          deleted.push(n.Name);
        } catch (err) {
          this.log(`network prune ${n.Name}: ${(err as Error).message}`);
        }
      }
      // moby logs a prune event each time, even when nothing went.
      this.deps.events.emit('network', 'prune', '', { reclaimed: '0' });
      return { NetworksDeleted: deleted };
    });
  }

  // Stop serving DNS (berthd shutting down); bridges and rules stay for the containers.
  async close(): Promise<void> {
    await this.dns.closeAll();
  }
}
