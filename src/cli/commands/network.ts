import { isIP } from 'node:net';
import { EngineError } from '../../client/engine-client.js';
import { StatusError, exactArgs, minArgs, noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { renderList } from '../formatter.js';
import { inspectRefs } from '../inspect-output.js';
import { confirm } from '../prompt.js';
import { truncateId } from '../container-rows.js';
import { addFilter, filterFlag, formatFlag, INSPECT_FORMAT_HELP, type FilterMap } from '../opts/filters.js';
import { parseCsvRecord, validateLabel, validateLink } from '../opts/validators.js';
import { goTimeString } from '../../util/units.js';
import { naturalLess } from './port.js';

// `berth network create|ls|inspect|rm|prune|connect|disconnect`, as docker's
// cli/command/network prints them.

interface NetworkJson {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Ingress?: boolean;
  Labels?: Record<string, string> | null;
}

// pflag's StringSlice: each occurrence is a CSV record, all appended.
const stringSlice = (raw: string, prev: unknown): string[] => [...((prev as string[] | undefined) ?? []), ...(raw === '' ? [] : parseCsvRecord(raw))];
const kv = (prev: unknown, raw: string): Record<string, string> => {
  const i = raw.indexOf('=');
  return { ...((prev as Record<string, string> | undefined) ?? {}), [i < 0 ? raw : raw.slice(0, i)]: i < 0 ? '' : raw.slice(i + 1) };
};
const mapFlag = (name: string, usage: string, short?: string): FlagSpec => ({ name, short, kind: 'value', typeName: 'map', defaultText: 'map[]', usage, parse: (raw, prev) => kv(prev, raw) });
const slice = (name: string, usage: string): FlagSpec => ({ name, kind: 'list', typeName: 'strings', usage, parse: stringSlice });

// CIDR parsing as Go's net.ParseCIDR, for the client-side checks docker makes.
function parseCidr(s: string): { ip: string; bits: number; family: 4 | 6 } {
  const i = s.indexOf('/');
  const ip = i < 0 ? '' : s.slice(0, i);
  const fam = isIP(ip);
  const bits = Number(s.slice(i + 1));
  if (i < 0 || fam === 0 || !/^\d+$/.test(s.slice(i + 1)) || bits > (fam === 4 ? 32 : 128)) throw new Error(`invalid CIDR address: ${s}`);
  return { ip, bits, family: fam as 4 | 6 };
}

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

// docker's subnetMatches: does `data` (an address or a CIDR) fall inside `subnet`?
export function subnetMatches(subnet: string, data: string): boolean {
  let s;
  try {
    s = parseCidr(subnet);
  } catch (err) {
    throw new Error(`invalid subnet: ${(err as Error).message}`);
  }
  const ip = data.includes('/') ? parseCidr(data).ip : data;
  if (s.family !== 4 || isIP(ip) !== 4) return s.family === 6 && isIP(ip) === 6 && s.bits === 0;
  const mask = s.bits === 0 ? 0 : (0xffffffff << (32 - s.bits)) >>> 0;
  return ((v4ToInt(ip) & mask) >>> 0) === ((v4ToInt(s.ip) & mask) >>> 0);
}

export interface IpamOptions {
  driver: string;
  subnets: string[];
  ipRanges: string[];
  gateways: string[];
  auxAddresses: Record<string, string>;
  driverOpts: Record<string, string>;
}

// docker's createIPAMConfig, with its messages.
export function createIpamConfig(o: IpamOptions): { Driver: string; Config: Array<Record<string, unknown>>; Options: Record<string, string> } {
  if (o.subnets.length < o.ipRanges.length || o.subnets.length < o.gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, { Subnet: string; IPRange?: string; Gateway?: string; AuxAddress: Record<string, string> }>();
  for (const s of o.subnets) {
    for (const k of data.keys()) {
      if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    }
    data.set(s, { Subnet: s, AuxAddress: {} });
  }
  const place = (value: string, field: 'IPRange' | 'Gateway', what: string, multiple: (prev: string, s: string) => string): void => {
    let match = false;
    for (const s of o.subnets) {
      if (field === 'IPRange') parseCidr(value);
      if (!subnetMatches(s, value)) continue;
      const d = data.get(s)!;
      if (d[field]) throw new Error(multiple(d[field]!, s));
      d[field] = value;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for ${what} ${value}`);
  };
  for (const r of o.ipRanges) place(r, 'IPRange', 'range', (prev, s) => `cannot configure multiple ranges (${r}, ${prev}) on the same subnet (${s})`);
  for (const g of o.gateways) place(g, 'Gateway', 'gateway', (prev, s) => `cannot configure multiple gateways (${g}, ${prev}) for the same subnet (${s})`);
  for (const [key, aa] of Object.entries(o.auxAddresses)) {
    let match = false;
    for (const s of o.subnets) {
      if (!subnetMatches(s, aa)) continue;
      data.get(s)!.AuxAddress[key] = aa;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for aux-address ${aa}`);
  }
  return {
    Driver: o.driver,
    Config: [...data.values()].map((d) => ({ Subnet: d.Subnet, IPRange: d.IPRange, Gateway: d.Gateway, AuxiliaryAddresses: d.AuxAddress })),
    Options: o.driverOpts,
  };
}

const createCommand: CommandSpec = {
  name: 'create',
  use: 'create [OPTIONS] NETWORK',
  short: 'Create a network',
  flags: [
    { name: 'driver', short: 'd', kind: 'string', default: 'bridge', defaultText: '"bridge"', usage: 'Driver to manage the Network' },
    mapFlag('opt', 'Set driver specific options', 'o'),
    { name: 'label', kind: 'list', usage: 'Set metadata on a network', parse: (raw, prev) => [...((prev as string[] | undefined) ?? []), validateLabel(raw)] },
    { name: 'internal', kind: 'bool', usage: 'Restrict external access to the network' },
    { name: 'ipv4', kind: 'bool', default: true, defaultText: 'true', usage: 'Enable or disable IPv4 address assignment' },
    { name: 'ipv6', kind: 'bool', usage: 'Enable or disable IPv6 address assignment' },
    { name: 'attachable', kind: 'bool', usage: 'Enable manual container attachment' },
    { name: 'ingress', kind: 'bool', usage: 'Create swarm routing-mesh network' },
    { name: 'scope', kind: 'string', usage: "Control the network's scope" },
    { name: 'config-only', kind: 'bool', usage: 'Create a configuration only network' },
    { name: 'config-from', kind: 'string', usage: 'The network from which to copy the configuration' },
    { name: 'ipam-driver', kind: 'string', default: 'default', defaultText: '"default"', usage: 'IP Address Management Driver' },
    slice('subnet', 'Subnet in CIDR format that represents a network segment'),
    slice('ip-range', 'Allocate container ip from a sub-range'),
    slice('gateway', 'IPv4 or IPv6 Gateway for the master subnet'),
    mapFlag('aux-address', 'Auxiliary IPv4 or IPv6 addresses used by Network driver'),
    mapFlag('ipam-opt', 'Set IPAM driver specific options'),
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const ipam = createIpamConfig({
      driver: flags.string('ipam-driver'),
      subnets: flags.list('subnet'),
      ipRanges: flags.list('ip-range'),
      gateways: flags.list('gateway'),
      auxAddresses: (flags.get('aux-address') as Record<string, string> | undefined) ?? {},
      driverOpts: (flags.get('ipam-opt') as Record<string, string> | undefined) ?? {},
    });
    const labels: Record<string, string> = {};
    for (const l of flags.list('label')) Object.assign(labels, kv(undefined, l));
    const body: Record<string, unknown> = {
      Name: args[0],
      Driver: flags.string('driver'),
      Options: (flags.get('opt') as Record<string, string> | undefined) ?? {},
      IPAM: ipam,
      Internal: flags.bool('internal'),
      Attachable: flags.bool('attachable'),
      Ingress: flags.bool('ingress'),
      Scope: flags.string('scope'),
      ConfigOnly: flags.bool('config-only'),
      Labels: labels,
    };
    if (flags.changed('ipv6')) body.EnableIPv6 = flags.bool('ipv6');
    if (flags.changed('ipv4')) body.EnableIPv4 = flags.bool('ipv4');
    if (flags.string('config-from')) body.ConfigFrom = { Network: flags.string('config-from') };
    const res = await ctx.client().networkCreate(body);
    ctx.out(`${res.Id}\n`);
  },
};

export const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
};

// docker's networkContext: the fields a --format may name.
export function networkRow(n: NetworkJson, trunc: boolean): Record<string, string> {
  const created = n.Created ? Date.parse(n.Created) : NaN;
  return {
    ID: trunc ? truncateId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver,
    Scope: n.Scope,
    IPv4: String(n.EnableIPv4 ?? true),
    IPv6: String(n.EnableIPv6 ?? false),
    Internal: String(n.Internal ?? false),
    Labels: n.Labels ? Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(',') : '',
    CreatedAt: Number.isNaN(created) ? '' : withFraction(goTimeString(Math.floor(created / 1000)), n.Created ?? ''),
  };
}

// Go's Time.String keeps the sub-second digits the daemon sent, trailing zeros trimmed.
function withFraction(goTime: string, rfc3339: string): string {
  const frac = (/T[\d:]+\.(\d+)/.exec(rfc3339)?.[1] ?? '').replace(/0+$/, '');
  return frac ? goTime.replace(/^(\S+ \S+)/, `$1.${frac}`) : goTime;
}

export function networkListFormat(source: string, quiet: boolean): string {
  if (source === 'table' || source === '') return quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
  if (source === 'raw') return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n';
  return source;
}

const lsCommand: CommandSpec = {
  name: 'ls',
  use: 'ls [OPTIONS]',
  aliases: ['list'],
  short: 'List networks',
  flags: [
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display network IDs' },
    { name: 'no-trunc', kind: 'bool', usage: 'Do not truncate the output' },
    formatFlag(),
    filterFlag('Provide filter values (e.g. "driver=bridge")'),
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const nets = (await ctx.client().networkList((flags.get('filter') as FilterMap | undefined) ?? {})) as unknown as NetworkJson[];
    nets.sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    const quiet = flags.bool('quiet');
    const format = networkListFormat(flags.string('format'), quiet);
    const trunc = !flags.bool('no-trunc');
    ctx.out(renderList({ format, header: NETWORK_HEADERS, rows: nets.map((n) => networkRow(n, trunc)), labels: nets.map((n) => n.Labels), goType: '*network.networkContext' }));
  },
};

const inspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] NETWORK [NETWORK...]',
  short: 'Display detailed information on one or more networks',
  flags: [
    { name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'verbose', short: 'v', kind: 'bool', usage: 'Verbose output for diagnostics' },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    await inspectRefs(ctx, args, flags.string('format'), (ref) => client.objectInspect('networks', ref));
  },
};

const rmCommand: CommandSpec = {
  name: 'rm',
  use: 'rm NETWORK [NETWORK...]',
  aliases: ['remove'],
  short: 'Remove one or more networks',
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Do not error if the network does not exist' }],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    let failed = false;
    for (const name of args) {
      try {
        await ctx.client().networkRemove(name);
        ctx.out(`${name}\n`);
      } catch (err) {
        if (flags.bool('force') && err instanceof EngineError && err.isNotFound) continue;
        ctx.err(`${(err as Error).message}\n`);
        failed = true;
      }
    }
    if (failed) throw new StatusError('exit status 1', 1);
  },
};

const pruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove all unused networks',
  flags: [
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    { name: 'filter', kind: 'value', typeName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")', parse: (raw, prev) => addFilter(prev, raw) },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const warning = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const r = await ctx.client().prune('networks', (flags.get('filter') as FilterMap | undefined) ?? {});
    const deleted = (r.NetworksDeleted ?? []) as string[];
    if (deleted.length > 0) ctx.out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
    return 0;
  },
};

const connectCommand: CommandSpec = {
  name: 'connect',
  use: 'connect [OPTIONS] NETWORK CONTAINER',
  short: 'Connect a container to a network',
  flags: [
    { name: 'ip', kind: 'string', usage: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', kind: 'string', usage: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: 'link', kind: 'list', usage: 'Add link to another container', parse: (raw, prev) => [...((prev as string[] | undefined) ?? []), validateLink(raw)] },
    slice('alias', 'Add network-scoped alias for the container'),
    slice('link-local-ip', 'Add a link-local address for the container'),
    slice('driver-opt', 'driver options for the network'),
    { name: 'gw-priority', kind: 'int', usage: 'Highest gw-priority provides the default gateway. Accepts positive and negative values.' },
  ],
  args: exactArgs(2),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const driverOpts: Record<string, string> = {};
    for (const o of flags.list('driver-opt')) {
      const i = o.indexOf('=');
      const k = (i < 0 ? o : o.slice(0, i)).trim();
      if (i < 0 || k === '') throw new Error('invalid key/value pair format in driver options');
      driverOpts[k] = o.slice(i + 1).trim();
    }
    await ctx.client().networkConnect(args[0], args[1], {
      IPAMConfig: { IPv4Address: flags.string('ip'), IPv6Address: flags.string('ip6'), LinkLocalIPs: flags.list('link-local-ip') },
      Links: flags.list('link'),
      Aliases: flags.list('alias'),
      DriverOpts: driverOpts,
      GwPriority: flags.number('gw-priority'),
    });
  },
};

const disconnectCommand: CommandSpec = {
  name: 'disconnect',
  use: 'disconnect [OPTIONS] NETWORK CONTAINER',
  short: 'Disconnect a container from a network',
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force the container to disconnect from a network' }],
  args: exactArgs(2),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    await ctx.client().networkDisconnect(args[0], args[1], flags.bool('force'));
  },
};

export const networkPruneCommand = pruneCommand;

export const networkCommand: CommandSpec = {
  name: 'network',
  use: 'network',
  short: 'Manage networks',
  args: noArgs,
  subcommands: [connectCommand, createCommand, disconnectCommand, inspectCommand, lsCommand, pruneCommand, rmCommand],
};
