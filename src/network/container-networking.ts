import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import type { EtcFilesInput } from '../container/etc-files.js';
import { hostsContent } from '../container/etc-files.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from '../container/types.js';
import type { SpecInput } from '../runtime/types.js';
import { BerthError, conflict, invalid, notFound, notImplemented, systemError } from '../util/errors.js';
import { newId } from '../util/ids.js';
import { contains, formatIPv4, parseIPv4 } from './cidr.js';
import { allocate, claim, macForAddress } from './ipam.js';
import { attachVeth, deleteLink, interfacesOf, nextEthName } from './links.js';
import { dnsNames, hostNameservers } from './name-resolver.js';
import type { NetworkService } from './network-service.js';
import { expandPortRequests, portMapFor, type PortRequest, type Proto } from './port-bindings.js';
import { emptyEndpoint, isUserDefinedMode, type ContainerNetworkState, type EndpointState, type NetworkRecord } from './types.js';

// A container's side of networking, called by the container service at each step of
// its life: plan (create) → prepare (start, before runc create: addresses, etc files)
// → join (after runc create: veths, ports) → leave (exit) — and connect/disconnect.

export interface PlanInput {
  id: string;
  name: string; // with the leading slash
  hostConfig: HostConfig; // NetworkMode and Links are normalised in place
  config: ContainerConfig;
  networkingConfig: unknown;
  userHostname: string; // what the client sent, before the short-ID default
  userExposedPorts: Record<string, unknown> | undefined;
  legacyMacAddress?: string; // Config.MacAddress of API < 1.44
}

export interface PlanResult {
  settings: ContainerNetworkState;
  warnings: string[];
  hostname?: string; // --network host: the host's own name, as Docker
}

export interface StartNetworking {
  netns: SpecInput['netns'];
  etc: EtcFilesInput; // the container's hostname, hosts and resolv.conf content
}

type EndpointConfig = Partial<EndpointState> & { DesiredMacAddress?: string };

const ERR_SHARED = 'container sharing network namespace with another container or host cannot be connected to any other network';
const ERR_NONE = 'container cannot be connected to multiple networks with one of the networks in private (none) mode';
const ERR_HOST = 'container cannot be disconnected from host network or connected to host network';

function hostHasIPv6(): boolean {
  try {
    return readFileSync('/proc/net/if_inet6', 'utf8').trim() !== '' && readFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', 'utf8').trim() === '0';
  } catch {
    return false;
  }
}

// Kept with the endpoint so a restart gets the same MAC even when the user gave one.
interface StoredEndpoint extends EndpointState {
  DesiredMacAddress?: string;
}

export class ContainerNetworking {
  private readonly ipv6 = hostHasIPv6();
  // From prepare to leave: their addresses are taken, even before the state says running.
  private readonly starting = new Set<string>();

  constructor(
    private readonly nets: NetworkService,
    private readonly dirOf: (id: string) => string,
  ) {}

  private get daemonDns(): readonly string[] {
    return this.nets.daemonDns;
  }

  private get containers() {
    return this.nets.containers;
  }

  // ---- create -----------------------------------------------------------------------

  plan(input: PlanInput): PlanResult {
    const hc = input.hostConfig;
    const eps: Record<string, EndpointConfig | null> = { ...(((input.networkingConfig ?? {}) as { EndpointsConfig?: Record<string, EndpointConfig | null> }).EndpointsConfig ?? {}) };
    let mode = hc.NetworkMode || 'default';
    if (mode === 'default') {
      mode = this.nets.store.byName('bridge') ? 'bridge' : 'none';
      if ('default' in eps) {
        eps[mode] = eps.default ?? null;
        delete eps.default;
      }
    }
    hc.NetworkMode = mode;
    const warnings: string[] = [];
    const publishes = Object.keys(hc.PortBindings ?? {}).length > 0 || hc.PublishAllPorts;
    // moby's verifyContainerSettings: a bad port or host port is a 400 at create, not at start.
    expandPortRequests(undefined, hc.PortBindings ?? undefined, false, false);

    if (mode === 'container' || mode.startsWith('container:')) {
      const ref = mode.slice('container:'.length);
      if (!ref) throw invalid('invalid network mode: invalid container format container:<name|id>');
      if (input.userHostname) throw invalid('conflicting options: hostname and the network mode');
      if (linksOf(hc).length) throw invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior");
      if (hc.Dns?.length) throw invalid('conflicting options: dns and the network mode');
      if (hc.ExtraHosts?.length) throw invalid('conflicting options: custom host-to-IP mapping and the network mode');
      if (publishes) throw invalid('conflicting options: port publishing and the container type network mode');
      if (Object.keys(input.userExposedPorts ?? {}).length) throw invalid('conflicting options: port exposing and the container type network mode');
      if (Object.keys(eps).length) throw invalid(ERR_SHARED);
      // As Docker, a container that is not there yet is an error at start, not at create.
      const other = this.containers.all().length ? this.tryResolve(ref) : null;
      hc.NetworkMode = `container:${other?.Id ?? ref}`;
      return { settings: { Networks: {}, Ports: {} }, warnings };
    }

    // A network that does not exist (yet) fails the start, not the create (moby's
    // validateNetworkingConfig ignores it: a 404 here would make clients pull the image).
    const net = this.nets.store.find(mode) ?? placeholder(mode);
    const settings: ContainerNetworkState = { Networks: {}, Ports: {} };
    const primaryCfg = eps[mode] ?? eps[net.Name] ?? eps[net.Id] ?? null;
    const primary = this.endpointFor(net, primaryCfg, input.id);
    if (input.legacyMacAddress && !primary.DesiredMacAddress) primary.DesiredMacAddress = input.legacyMacAddress;
    settings.Networks[net.Name] = primary;
    for (const [key, cfg] of Object.entries(eps)) {
      if (key === mode || key === net.Name || key === net.Id) continue;
      if (net.Driver === 'null') throw invalid(ERR_NONE);
      if (net.Driver === 'host') throw invalid(ERR_SHARED);
      const other = this.nets.store.find(key) ?? placeholder(key);
      if (other.Driver !== 'bridge') throw invalid(other.Driver === 'null' ? ERR_NONE : ERR_SHARED);
      settings.Networks[other.Name] = this.endpointFor(other, cfg, input.id);
    }
    if (net.Driver === 'host') {
      if (linksOf(hc).length) throw invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
      if (publishes) warnings.push('Published ports are discarded when using host network mode');
    }
    // Legacy links (default bridge): kept as Docker shows them, "/child:/parent/alias".
    if (net.Name === 'bridge' && linksOf(hc).length) hc.Links = linksOf(hc).map((l) => this.normalizeLink(l, input.name));
    return { settings, warnings, hostname: net.Driver === 'host' && !input.userHostname ? osHostname() : undefined };
  }

  private tryResolve(ref: string): ContainerRecord | null {
    try {
      return this.containers.resolve(ref);
    } catch {
      return null;
    }
  }

  private normalizeLink(link: string, parentName: string): string {
    const [rawName, rawAlias] = link.split(':') as [string, string?];
    const name = rawName.replace(/^\//, '');
    let child: ContainerRecord;
    try {
      child = this.containers.resolve(name);
    } catch (err) {
      // Not a 404: clients answer a 404 from create by pulling the image.
      throw invalid(`could not get container for ${name}: ${(err as Error).message}`);
    }
    const alias = (rawAlias ?? name).replace(/^.*\//, '');
    return `${child.Name}:${parentName}/${alias}`;
  }

  // One endpoint's configuration, validated as Docker's validateEndpointSettings.
  private endpointFor(net: NetworkRecord, cfg: EndpointConfig | null, _containerId: string): StoredEndpoint {
    const ep: StoredEndpoint = emptyEndpoint(net.Id);
    if (!cfg) return ep;
    const ipam = cfg.IPAMConfig ?? null;
    const v4 = ipam?.IPv4Address ?? '';
    const userDefined = isUserDefinedMode(net.Name);
    if (v4 || ipam?.IPv6Address) {
      if (!userDefined) throw invalid('user specified IP address is supported on user defined networks only');
      if (net.Id && !this.nets.userSubnet(net)) throw invalid('user specified IP address is supported only when connecting to networks with user configured subnets');
      if (ipam?.IPv6Address) throw notImplemented('IPv6 addresses are not supported by berth');
      const addr = parseIPv4(v4);
      if (addr === null) throw invalid(`invalid endpoint settings:\ninvalid IPv4 address: ${v4}`);
      const pool = net.Id ? this.nets.pool(net) : null;
      if (pool && !contains(pool.subnet, addr)) {
        throw invalid(`invalid endpoint settings:\nno configured subnet contains IP address ${v4}`);
      }
    }
    if (cfg.Aliases?.length && !userDefined) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (ipam && (v4 || ipam.IPv6Address || ipam.LinkLocalIPs?.length)) ep.IPAMConfig = { ...ipam };
    ep.Aliases = cfg.Aliases?.length ? [...cfg.Aliases] : null;
    ep.Links = cfg.Links?.length ? [...cfg.Links] : null;
    ep.DriverOpts = cfg.DriverOpts && Object.keys(cfg.DriverOpts).length ? { ...cfg.DriverOpts } : null;
    ep.GwPriority = cfg.GwPriority ?? 0;
    if (cfg.MacAddress) ep.DesiredMacAddress = cfg.MacAddress.toLowerCase().replace(/-/g, ':');
    return ep;
  }

  // Records from before networking existed: plan them as created with defaults.
  private settingsOf(rec: ContainerRecord): ContainerNetworkState {
    if (!rec.NetworkSettings) {
      rec.NetworkSettings = this.plan({
        id: rec.Id, name: rec.Name, hostConfig: rec.HostConfig, config: rec.Config, networkingConfig: null,
        userHostname: rec.Config.Hostname, userExposedPorts: undefined,
      }).settings;
    }
    return rec.NetworkSettings;
  }

  private networkOf(name: string, ep: EndpointState): NetworkRecord {
    const net = this.nets.store.get(ep.NetworkID) ?? this.nets.store.byName(name);
    if (!net) throw notFound(`network ${name} not found`);
    if (net.Id !== ep.NetworkID) {
      // Removed and created again under the same name: a new subnet, a new address.
      ep.NetworkID = net.Id;
      ep.IPAddress = '';
    }
    return net;
  }

  private mode(rec: ContainerRecord): 'container' | 'host' | 'none' | 'bridge' {
    const m = rec.HostConfig.NetworkMode;
    if (m.startsWith('container:')) return 'container';
    const s = this.settingsOf(rec);
    const first = Object.entries(s.Networks)[0];
    const net = first ? this.nets.store.get(first[1].NetworkID) ?? this.nets.store.byName(first[0]) : undefined;
    if (m === 'host' || net?.Driver === 'host') return 'host';
    if (m === 'none' || net?.Driver === 'null' || !first) return 'none';
    return 'bridge';
  }

  // ---- start ------------------------------------------------------------------------

  // Before `runc create`: which netns, the addresses (kept from the last run when still
  // free), and what /etc/hosts and /etc/resolv.conf say.
  async prepare(rec: ContainerRecord, etcBaseOf: (r: ContainerRecord) => EtcFilesInput): Promise<StartNetworking> {
    const mode = this.mode(rec);
    if (mode === 'container') {
      const other = this.containers.resolve(rec.HostConfig.NetworkMode.slice('container:'.length));
      if (!other.State.Running || !other.State.Pid) {
        throw conflict(`cannot join network namespace of a non running container: container ${other.Name.slice(1)} is ${other.State.Status}`);
      }
      rec.Config.Hostname = other.Config.Hostname;
      rec.Config.Domainname = other.Config.Domainname;
      return { netns: { mode: 'path', path: `/proc/${other.State.Pid}/ns/net` }, etc: await this.etcFor(other, etcBaseOf) };
    }
    if (mode === 'bridge') {
      for (const [name, ep] of Object.entries(this.settingsOf(rec).Networks)) this.assignAddress(rec, name, ep as StoredEndpoint);
      this.starting.add(rec.Id);
    }
    return { netns: mode === 'host' ? { mode: 'host' } : { mode: 'new' }, etc: await this.etcFor(rec, etcBaseOf) };
  }

  // Synchronous from reading who holds what to recording the choice, so two starts at
  // the same moment can never pick the same address.
  private assignAddress(rec: ContainerRecord, name: string, ep: StoredEndpoint): void {
    const net = this.networkOf(name, ep);
    const pool = this.nets.pool(net);
    if (!pool) throw invalid(`network ${net.Name} has no IPv4 subnet`);
    const used = new Set<number>();
    for (const other of this.containers.all()) {
      // A stopped container's address is free, as Docker releases it at exit: compose
      // recreates a service with a static ipv4_address while the old container still exists.
      if (other.Id === rec.Id || !(other.State.Running || this.starting.has(other.Id))) continue;
      for (const oep of Object.values(other.NetworkSettings?.Networks ?? {})) {
        const a = oep.NetworkID === net.Id && oep.IPAddress ? parseIPv4(oep.IPAddress) : null;
        if (a !== null) used.add(a);
      }
    }
    const wanted = ep.IPAMConfig?.IPv4Address;
    const current = ep.IPAddress ? parseIPv4(ep.IPAddress) : null;
    let addr: number;
    if (wanted) addr = claim(pool, wanted, used);
    else if (current !== null && !used.has(current) && current !== pool.gateway && contains(pool.subnet, current)) addr = current;
    else addr = allocate(pool, used);
    ep.IPAddress = formatIPv4(addr);
    ep.IPPrefixLen = pool.subnet.bits;
    ep.Gateway = formatIPv4(pool.gateway);
    ep.MacAddress = ep.DesiredMacAddress || macForAddress(addr);
    ep.DNSNames = this.nets.isUserDefined(net) ? dnsNames(rec, ep) : null;
  }

  // The container's /etc files: its addresses and legacy links in hosts; on a user
  // network the embedded DNS (on the gateway address) in resolv.conf.
  private async etcFor(rec: ContainerRecord, etcBaseOf: (r: ContainerRecord) => EtcFilesInput): Promise<EtcFilesInput> {
    const given = etcBaseOf(rec);
    const base = { ...given, extraHosts: this.withHostGateway(given.extraHosts) };
    const mode = this.mode(rec);
    const hostResolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    const defaultDns = base.dns.length ? base.dns : [...this.daemonDns];
    if (mode === 'host') {
      // Same namespace as the host: its hosts entries and resolvers (loopback ones too) apply.
      const hosts = await readFile('/etc/hosts', 'utf8').catch(() => '');
      return { ...base, extraHosts: [...hostsEntries(hosts), ...base.extraHosts], dns: defaultDns.length ? defaultDns : hostNameservers(hostResolv) };
    }
    if (mode !== 'bridge') return { ...base, dns: defaultDns };
    const eps = Object.entries(this.settingsOf(rec).Networks);
    const addresses = eps.map(([, ep]) => ep.IPAddress).filter(Boolean);
    const extraHosts = [...base.extraHosts, ...this.linkEntries(rec)];
    const userNet = eps.map(([name, ep]) => ({ ep, net: this.nets.store.get(ep.NetworkID) ?? this.nets.store.byName(name) })).find((x) => x.net && this.nets.isUserDefined(x.net));
    if (!userNet) return { ...base, addresses, extraHosts, dns: defaultDns };
    // Docker adds ndots:0 for its resolver unless the user chose ndots.
    const options = base.dnsOptions.length ? [...base.dnsOptions] : hostResolv.split('\n').flatMap((l) => /^\s*options\s+(.+)/.exec(l)?.[1]?.split(/\s+/) ?? []);
    if (!options.some((o) => o.startsWith('ndots:'))) options.push('ndots:0');
    return { ...base, addresses, extraHosts, dns: [userNet.ep.Gateway], dnsOptions: options };
  }

  // `--add-host name:host-gateway` means the host as the default bridge reaches it (moby).
  private withHostGateway(entries: readonly string[]): string[] {
    if (!entries.some((h) => h.endsWith(':host-gateway'))) return [...entries];
    const ip = this.nets.hostGatewayIp();
    if (!ip) throw invalid('unable to derive the IP value for host-gateway');
    return entries.map((h) => (h.endsWith(':host-gateway') ? `${h.slice(0, -'host-gateway'.length)}${ip}` : h));
  }

  // `--link web:db` on the default bridge: "<ip> db <web's hostname> web" in /etc/hosts.
  private linkEntries(rec: ContainerRecord): string[] {
    if (this.settingsOf(rec).Networks.bridge === undefined) return [];
    return linksOf(rec.HostConfig).map((link) => {
      const [childName, aliasPath] = link.split(':') as [string, string];
      const alias = aliasPath?.replace(/^.*\//, '') ?? childName.replace(/^\//, '');
      const child = this.containers.resolve(childName.replace(/^\//, ''));
      if (!child.State.Running) throw invalid(`Cannot link to a non running container: ${child.Name} AS ${aliasPath ?? child.Name}`);
      const ep = child.NetworkSettings?.Networks.bridge;
      if (!ep?.IPAddress || !ep.EndpointID) throw invalid(`Cannot link to ${child.Name}, as it does not belong to the default network`);
      const names = [alias, child.Config.Hostname];
      if (alias !== child.Name.slice(1)) names.push(child.Name.slice(1));
      return `${names.join(' ')}:${ep.IPAddress}`;
    });
  }

  // After `runc create`: the veths into the new netns, then the published ports.
  async join(rec: ContainerRecord, pid: number): Promise<void> {
    const s = this.settingsOf(rec);
    s.Ports = {};
    const mode = this.mode(rec);
    if (mode === 'host' || mode === 'none') {
      // Nothing to plumb, but the endpoint exists (network inspect host lists it).
      for (const [name, ep] of Object.entries(s.Networks)) {
        const net = this.nets.store.get(ep.NetworkID) ?? this.nets.store.byName(name);
        if (!net) continue;
        ep.EndpointID = newId();
        this.nets.emitConnect(net, rec.Id, 'connect');
      }
    }
    if (mode !== 'bridge') return;
    try {
      const existing = (await interfacesOf(pid)).map((i) => i.name);
      let routed = false;
      for (const [name, ep] of Object.entries(s.Networks)) {
        const net = this.networkOf(name, ep);
        const gateway: boolean = !routed && !net.Internal;
        await this.plumb(rec, pid, net, ep, existing, gateway);
        routed ||= gateway;
      }
      s.Ports = await this.publish(rec, this.publishRequests(rec), true);
    } catch (err) {
      await this.leave(rec).catch(() => {});
      throw err;
    }
  }

  private async plumb(rec: ContainerRecord, pid: number, net: NetworkRecord, ep: EndpointState, existing: string[], gateway: boolean): Promise<void> {
    if (!net.bridge) throw invalid(`network ${net.Name} has no bridge`);
    const ctrIface = nextEthName(existing);
    existing.push(ctrIface);
    const hostIface = `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
    await attachVeth({
      hostIface, bridge: net.bridge, pid, ctrIface, mac: ep.MacAddress, address: `${ep.IPAddress}/${ep.IPPrefixLen}`,
      gateway: gateway ? ep.Gateway : null, mtu: this.nets.netMtu(net),
    });
    ep.HostIface = hostIface;
    ep.EndpointID = newId();
    this.nets.emitConnect(net, rec.Id, 'connect');
  }

  private publishRequests(rec: ContainerRecord): PortRequest[] {
    return expandPortRequests(rec.Config.ExposedPorts, rec.HostConfig.PortBindings, rec.HostConfig.PublishAllPorts, this.ipv6);
  }

  // Ports go to the container's first network (the one given with --network).
  private async publish(rec: ContainerRecord, requests: PortRequest[], applyRules: boolean): Promise<ContainerNetworkState['Ports']> {
    const first = Object.entries(this.settingsOf(rec).Networks)[0];
    if (!first || requests.length === 0) return portMapFor(rec.Config.ExposedPorts, []);
    const [name, ep] = first;
    const net = this.networkOf(name, ep);
    if (!net.bridge || net.Internal) return portMapFor(rec.Config.ExposedPorts, []);
    const bound = await this.nets.ports.publish({
      containerId: rec.Id, endpointName: rec.Name.slice(1), endpointId: ep.EndpointID, bridge: net.bridge,
      containerIp: ep.IPAddress, requests, applyRules,
    });
    return portMapFor(rec.Config.ExposedPorts, bound);
  }

  // On exit, on a failed start, before removal: ports and veths go (the veths usually
  // went with the netns already), the addresses stay recorded for the next start.
  async leave(rec: ContainerRecord): Promise<void> {
    this.starting.delete(rec.Id);
    await this.nets.ports.unpublish(rec.Id);
    const s = rec.NetworkSettings;
    if (!s) return;
    for (const [name, ep] of Object.entries(s.Networks)) {
      // In the background: a veth takes 10-20 ms to delete (kernel RCU grace periods), and
      // nothing after an exit or a removal needs it gone (the next join makes a new one).
      if (ep.HostIface) void deleteLink(ep.HostIface).catch(() => {});
      delete ep.HostIface;
      if (ep.EndpointID) {
        ep.EndpointID = '';
        const net = this.nets.store.get(ep.NetworkID) ?? this.nets.store.byName(name);
        if (net) this.nets.emitConnect(net, rec.Id, 'disconnect');
      }
    }
    s.Ports = {};
  }

  // berthd restarted while the container ran: its veths are still there; its host
  // ports are bound again (the iptables rules were kept and are reconciled later).
  async adopt(rec: ContainerRecord): Promise<void> {
    const s = rec.NetworkSettings;
    if (!s || this.mode(rec) !== 'bridge') return;
    const requests: PortRequest[] = [];
    for (const [key, list] of Object.entries(s.Ports ?? {})) {
      const [port, proto = 'tcp'] = key.split('/') as [string, string?];
      for (const b of list ?? []) {
        const hp = Number(b.HostPort);
        requests.push({ key, proto: proto as Proto, containerPort: Number(port), hostIp: b.HostIp, hostPortStart: hp, hostPortEnd: hp });
      }
    }
    if (!requests.length) return;
    try {
      s.Ports = await this.publish(rec, requests, false);
    } catch (err) {
      // Someone took a port meanwhile: the container runs on, unpublished.
      process.stderr.write(`berthd: container ${rec.Id.slice(0, 12)}: ${(err as Error).message}\n`);
    }
  }

  // ---- connect / disconnect (under the container's lock; the caller saves) ----------

  async connect(rec: ContainerRecord, term: string, cfg: EndpointConfig | null): Promise<void> {
    const net = this.nets.store.resolve(term);
    const mode = rec.HostConfig.NetworkMode;
    if (mode.startsWith('container:')) throw invalid(ERR_SHARED);
    const current = this.mode(rec);
    if (current === 'host' || net.Driver === 'host') throw invalid(ERR_HOST);
    const s = this.settingsOf(rec);
    // Only networks actually attached conflict: compose disconnects a created container
    // from its only network and connects it again with aliases.
    const attached = Object.keys(s.Networks).filter((n) => n !== net.Name).length > 0;
    if (attached && (current === 'none' || net.Driver === 'null')) throw invalid(ERR_NONE);
    if (s.Networks[net.Name] && rec.State.Running) throw new BerthError('Forbidden', `endpoint with name ${rec.Name.slice(1)} already exists in network ${net.Name}`);
    const ep = this.endpointFor(net, cfg, rec.Id);
    s.Networks[net.Name] = ep;
    if (!rec.State.Running) return;
    try {
      this.assignAddress(rec, net.Name, ep);
      const existing = (await interfacesOf(rec.State.Pid)).map((i) => i.name);
      await this.plumb(rec, rec.State.Pid, net, ep, existing, false);
      await this.rewriteHosts(rec);
    } catch (err) {
      if (ep.HostIface) await deleteLink(ep.HostIface).catch(() => {});
      delete s.Networks[net.Name];
      throw err;
    }
  }

  async disconnect(rec: ContainerRecord, term: string, force: boolean): Promise<void> {
    let net: NetworkRecord | undefined;
    try {
      net = this.nets.store.find(term);
    } catch (err) {
      if (!force) throw err;
    }
    if (!net && !force) throw notFound(`network ${term} not found`);
    const name = net?.Name ?? term;
    const s = this.settingsOf(rec);
    const ep = s.Networks[name];
    // dockerd's own wording for a stopped and a running container; a plain error (500) in both.
    if (!ep) throw systemError(`container ${rec.Id} is not connected to ${rec.State.Running ? '' : 'the '}network ${name}`);
    if (net?.Driver === 'host' && this.mode(rec) === 'host') throw invalid(ERR_HOST);
    const wasFirst = Object.keys(s.Networks)[0] === name;
    if (rec.State.Running) {
      if (wasFirst) await this.nets.ports.unpublish(rec.Id);
      if (ep.HostIface) await deleteLink(ep.HostIface);
      if (net && ep.EndpointID) this.nets.emitConnect(net, rec.Id, 'disconnect');
    }
    delete s.Networks[name];
    if (wasFirst) s.Ports = {};
    if (rec.State.Running) await this.rewriteHosts(rec);
  }

  // A running container's /etc/hosts is a bind mount of this file: it is rewritten in
  // place (same inode), since a renamed-over file would not be seen inside.
  private async rewriteHosts(rec: ContainerRecord): Promise<void> {
    const addresses = Object.values(rec.NetworkSettings?.Networks ?? {}).map((ep) => ep.IPAddress).filter(Boolean);
    const content = hostsContent({
      hostname: rec.Config.Hostname, domainname: rec.Config.Domainname, extraHosts: [...this.withHostGateway(rec.HostConfig.ExtraHosts ?? []), ...this.linkEntries(rec)],
      dns: [], dnsSearch: [], dnsOptions: [], addresses,
    });
    const fh = await open(join(this.dirOf(rec.Id), 'hosts'), 'r+');
    try {
      await fh.truncate(0);
      await fh.write(content, 0);
    } finally {
      await fh.close();
    }
  }
}

// Stands for a network named at create that does not exist yet (NetworkID empty).
function placeholder(name: string): NetworkRecord {
  return {
    Name: name, Id: '', Created: '', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
    ConfigFrom: { Network: '' }, ConfigOnly: false, Options: {}, Labels: {},
  };
}

// HostConfig.Links is kept as sent (the record types only what the engine core reads).
function linksOf(hc: HostConfig): string[] {
  return Array.isArray(hc.Links) ? (hc.Links as unknown[]).map(String) : [];
}

// /etc/hosts lines as --add-host entries ("names:ip"), for --network host.
export function hostsEntries(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length < 2 || !f[0]) continue;
    // Names every container's hosts file starts with are left out; others on loopback are
    // kept: Docker copies the host's file, where e.g. "127.0.0.1 <hostname>" resolves the
    // host name the container shares.
    const names = f.slice(1).filter((n) => !baseHostNames[f[0]!]?.includes(n));
    if (names.length) out.push(`${names.join(' ')}:${f[0]}`);
  }
  return out;
}

const baseHostNames: Record<string, readonly string[]> = {
  '127.0.0.1': ['localhost'], '::1': ['localhost', 'ip6-localhost', 'ip6-loopback'], 'fe00::0': ['ip6-localnet'],
  'ff00::0': ['ip6-mcastprefix'], 'ff02::1': ['ip6-allnodes'], 'ff02::2': ['ip6-allrouters'],
};
