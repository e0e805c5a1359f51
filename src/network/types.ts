// Networks as berth keeps them on disk (<dataRoot>/network/networks/<id>.json): Docker's
// inspect fields, so GET /networks/{id} is a projection, plus the Linux bridge's name.

export interface IpamConfigEntry {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
}

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge' | 'host' | 'null';
  EnableIPv4: boolean;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigEntry[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  // berth's own: the Linux bridge (bridge driver only).
  bridge?: string;
}

// One container's attachment to one network: Docker's EndpointSettings. The address
// stays recorded while the container is stopped, so a restart gets it back; the views
// blank the operational fields of a container that is not running, as Docker shows them.
export interface EndpointState {
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
  // berth's own: the host end of the veth, while running.
  HostIface?: string;
}

export interface PortBindingEntry {
  HostIp: string;
  HostPort: string;
}

export type PortMap = Record<string, PortBindingEntry[] | null>;

// What a container record carries about networking (ContainerRecord.NetworkSettings).
export interface ContainerNetworkState {
  Networks: Record<string, EndpointState>;
  Ports: PortMap; // the bindings in force while running
}

export function emptyEndpoint(networkId: string): EndpointState {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: networkId,
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

export const PREDEFINED = ['bridge', 'host', 'none'] as const;
export const isPredefined = (name: string): boolean => (PREDEFINED as readonly string[]).includes(name);

// container.NetworkMode(x).IsUserDefined()
export function isUserDefinedMode(mode: string): boolean {
  return !['', 'default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}
