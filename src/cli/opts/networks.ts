import { parseGoInt } from '../flags.js';
import { parseCsvRecord } from './validators.js';

// --network, short ("mynet") or advanced ("name=mynet,alias=web,ip=10.0.0.5"),
// and the endpoint settings docker derives from it (opts/network.go and
// parseNetworkOpts in cli/command/container/opts.go).

export interface NetworkAttachment {
  Target: string;
  Aliases: string[];
  DriverOpts?: Record<string, string>;
  Links: string[];
  IPv4Address: string;
  IPv6Address: string;
  LinkLocalIPs: string[];
  MacAddress: string;
  GwPriority: number;
}

function emptyAttachment(target: string): NetworkAttachment {
  return { Target: target, Aliases: [], Links: [], IPv4Address: '', IPv6Address: '', LinkLocalIPs: [], MacAddress: '', GwPriority: 0 };
}

export function parseNetworkOpt(value: string): NetworkAttachment {
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return emptyAttachment(value);
  const net = emptyAttachment('');
  for (const field of parseCsvRecord(value)) {
    const lower = field.toLowerCase();
    const i = lower.indexOf('=');
    if (i <= 0) throw new Error(`invalid field ${field}`);
    const key = lower.slice(0, i).trim();
    const val = lower.slice(i + 1).trim();
    switch (key) {
      case 'name':
        net.Target = val;
        break;
      case 'alias':
        net.Aliases.push(val);
        break;
      case 'ip':
        net.IPv4Address = val;
        break;
      case 'ip6':
        net.IPv6Address = val;
        break;
      case 'mac-address':
        net.MacAddress = val;
        break;
      case 'link-local-ip':
        net.LinkLocalIPs.push(val);
        break;
      case 'driver-opt': {
        const j = val.indexOf('=');
        if (j <= 0) throw new Error('invalid key value pair format in driver options');
        (net.DriverOpts ??= {})[val.slice(0, j).trim()] = val.slice(j + 1).trim();
        break;
      }
      case 'gw-priority':
        try {
          net.GwPriority = parseGoInt(val, 64);
        } catch (err) {
          const why = /out of range/.test((err as Error).message) ? 'value out of range' : 'invalid syntax';
          throw new Error(`invalid gw-priority (${val}): ${why}`);
        }
        break;
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (net.Target === '') throw new Error('network name/id is not specified');
  return net;
}

// container.NetworkMode(x).IsUserDefined()
export function isUserDefinedNetwork(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

export interface EndpointSettings {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
}

export interface LegacyNetworkFlags {
  aliases: string[];
  links: string[];
  ipv4: string;
  ipv6: string;
  mac: string;
  linkLocalIPs: string[];
}

function applyContainerOptions(n: NetworkAttachment, c: LegacyNetworkFlags): void {
  if (n.Aliases.length > 0 && c.aliases.length > 0) {
    throw new Error('conflicting options: cannot specify both --network-alias and per-network alias');
  }
  if (n.Links.length > 0 && c.links.length > 0) throw new Error('conflicting options: cannot specify both --link and per-network links');
  if (n.IPv4Address !== '' && c.ipv4 !== '') throw new Error('conflicting options: cannot specify both --ip and per-network IPv4 address');
  if (n.IPv6Address !== '' && c.ipv6 !== '') throw new Error('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
  if (n.MacAddress !== '' && c.mac !== '') throw new Error('conflicting options: cannot specify both --mac-address and per-network MAC address');
  if (n.LinkLocalIPs.length > 0 && c.linkLocalIPs.length > 0) {
    throw new Error('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
  }
  if (c.aliases.length > 0) n.Aliases = [...c.aliases];
  // On a user-defined network --link is an endpoint alias; on the default bridge a legacy link.
  if (isUserDefinedNetwork(n.Target) && c.links.length > 0) n.Links = [...c.links];
  if (c.ipv4 !== '') n.IPv4Address = c.ipv4;
  if (c.ipv6 !== '') n.IPv6Address = c.ipv6;
  if (c.mac !== '') n.MacAddress = c.mac;
  if (c.linkLocalIPs.length > 0) n.LinkLocalIPs = [...c.linkLocalIPs];
}

function endpointFor(ep: NetworkAttachment): EndpointSettings {
  if (ep.Target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefinedNetwork(ep.Target)) {
    if (ep.Aliases.length > 0) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (ep.Links.length > 0) throw new Error('links are only supported for user-defined networks');
  }
  const settings: EndpointSettings = {
    IPAMConfig: null,
    Links: ep.Links.length > 0 ? ep.Links : null,
    Aliases: ep.Aliases.length > 0 ? [...ep.Aliases] : null,
    MacAddress: '',
    DriverOpts: ep.DriverOpts && Object.keys(ep.DriverOpts).length > 0 ? ep.DriverOpts : null,
    GwPriority: ep.GwPriority,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
  if (ep.IPv4Address !== '' || ep.IPv6Address !== '' || ep.LinkLocalIPs.length > 0) {
    settings.IPAMConfig = {};
    if (ep.IPv4Address !== '') settings.IPAMConfig.IPv4Address = ep.IPv4Address;
    if (ep.IPv6Address !== '') settings.IPAMConfig.IPv6Address = ep.IPv6Address;
    if (ep.LinkLocalIPs.length > 0) settings.IPAMConfig.LinkLocalIPs = ep.LinkLocalIPs;
  }
  if (ep.MacAddress !== '') {
    if (!isMac(ep.MacAddress.trim())) throw new Error(`${ep.MacAddress} is not a valid mac address`);
    settings.MacAddress = ep.MacAddress;
  }
  return settings;
}

function isEmptyEndpoint(e: EndpointSettings): boolean {
  return (
    e.IPAMConfig === null && e.Links === null && e.Aliases === null && e.MacAddress === '' &&
    e.DriverOpts === null && e.GwPriority === 0
  );
}

// net.ParseMAC for the 6/8/20-byte forms separated by ':' or '-', or dotted.
export function isMac(s: string): boolean {
  return (
    /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/.test(s) ||
    /^([0-9a-fA-F]{2}[:-]){7}[0-9a-fA-F]{2}$/.test(s) ||
    /^([0-9a-fA-F]{2}[:-]){19}[0-9a-fA-F]{2}$/.test(s) ||
    /^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(s)
  );
}

export function buildEndpoints(networks: readonly NetworkAttachment[], legacy: LegacyNetworkFlags): Record<string, EndpointSettings> {
  const endpoints: Record<string, EndpointSettings> = {};
  if (networks.length === 0) {
    const n = emptyAttachment('default');
    applyContainerOptions(n, legacy);
    endpoints.default = endpointFor(n);
  }
  let userDefined = false;
  let nonUserDefined = false;
  networks.forEach((orig, i) => {
    const n: NetworkAttachment = { ...orig, Aliases: [...orig.Aliases], Links: [...orig.Links], LinkLocalIPs: [...orig.LinkLocalIPs] };
    if (isUserDefinedNetwork(n.Target)) userDefined = true;
    else nonUserDefined = true;
    if (i === 0) applyContainerOptions(n, legacy);
    const ep = endpointFor(n);
    if (n.Target in endpoints) throw new Error(`network ${JSON.stringify(n.Target)} is specified multiple times`);
    // A single network without options sends no endpoint config (the daemon makes one).
    if (i === 0 && networks.length === 1 && isEmptyEndpoint(ep)) return;
    endpoints[n.Target] = ep;
  });
  if (userDefined && nonUserDefined) {
    throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  }
  return endpoints;
}
