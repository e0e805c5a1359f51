import path from 'node:path';
import { isIP } from 'node:net';
import { type FlagSpec, type ParsedFlags } from '../flags.js';
import { parseGoDuration, ramInBytes } from '../../util/units.js';
import {
  parseCPUs,
  parseCsvRecord,
  parseRestartPolicy,
  parseThrottleBpsDevice,
  parseThrottleIOpsDevice,
  parseUlimit,
  parseWeightDevice,
  validateAttach,
  validateDeviceCgroupRule,
  validateDNSSearch,
  validateExtraHost,
  validateIPAddress,
  validateLabel,
  validateLink,
  validateSysctl,
  type ThrottleDevice,
  type Ulimit,
  type WeightDevice,
} from './validators.js';
import { parseMount, parseVolumeSpec, type Mount } from './mounts.js';
import { buildEndpoints, isMac, parseNetworkOpt, type EndpointSettings, type NetworkAttachment } from './networks.js';
import { convertToStandardNotation, exposePorts, parsePortSpecs, type PortBinding } from './ports.js';
import { defaultReadFile, parseKeyValueFile, readFileGo, type ReadFile } from './kvfile.js';

// The flags `run` and `create` share (docker's containerOptions/addFlags) and the
// POST /containers/create body they turn into (docker's parse()). The body has the
// same fields and values the docker CLI sends, including its nulls and defaults.

// --- flag value kinds ---

const appendList = <T>(fn: (raw: string) => T) => (raw: string, prev: unknown): T[] => [...((prev as T[] | undefined) ?? []), fn(raw)];
const validatedList = (fn: (raw: string) => string): Pick<FlagSpec, 'kind' | 'parse'> => ({ kind: 'list', parse: appendList(fn) });
const mapValue = (validate?: (raw: string) => string) => (raw: string, prev: unknown): Record<string, string> => {
  const v = validate ? validate(raw) : raw;
  const i = v.indexOf('=');
  return { ...((prev as Record<string, string> | undefined) ?? {}), [i < 0 ? v : v.slice(0, i)]: i < 0 ? '' : v.slice(i + 1) };
};
const bytes = (raw: string): number => ramInBytes(raw);
const duration = (raw: string): number => parseGoDuration(raw);

function envKeyCheck(raw: string): string {
  const eq = raw.indexOf('=');
  if ((eq < 0 ? raw : raw.slice(0, eq)) === '') throw new Error(`invalid environment variable: ${raw}`);
  return raw;
}

export interface DeviceRequest {
  Driver: string;
  Count: number;
  DeviceIDs: string[] | null;
  Capabilities: string[][] | null;
  Options: Record<string, string> | null;
}

function parseGpus(value: string): DeviceRequest {
  const req: DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: null, Options: null };
  const seen = new Set<string>();
  const count = (s: string): number => {
    if (s === 'all') return -1;
    if (!/^[+-]?\d+$/.test(s)) throw new Error(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`);
    return Number(s);
  };
  for (const field of parseCsvRecord(value)) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = count(key);
      continue;
    }
    switch (key) {
      case 'driver':
        req.Driver = val;
        break;
      case 'count':
        req.Count = count(val);
        break;
      case 'device':
        req.DeviceIDs = val.split(',');
        break;
      case 'capabilities':
        req.Capabilities = [[...val.split(','), 'gpu']];
        break;
      case 'options': {
        const opts: Record<string, string> = {};
        for (const kv of parseCsvRecord(val)) {
          const i = kv.indexOf('=');
          opts[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
        }
        req.Options = opts;
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  req.Options ??= {};
  req.Capabilities ??= [['gpu']];
  return req;
}

const CGROUPNS_USAGE = `Cgroup namespace to use (host|private)
'host':    Run the container in the Docker host's cgroup namespace
'private': Run the container in its own private cgroup namespace
'':        Use the cgroup namespace as configured by the
           default-cgroupns-mode option on the daemon (default)`;

// Flags from docker's addFlags, in the same words. Windows-only ones are hidden
// as docker hides them against a Linux daemon.
export const containerFlags: FlagSpec[] = [
  { name: 'attach', short: 'a', usage: 'Attach to STDIN, STDOUT or STDERR', ...validatedList(validateAttach) },
  { name: 'device-cgroup-rule', usage: 'Add a rule to the cgroup allowed devices list', ...validatedList(validateDeviceCgroupRule) },
  { name: 'device', kind: 'list', usage: 'Add a host device to the container' },
  { name: 'gpus', kind: 'value', typeName: 'gpu-request', usage: "GPU devices to add to the container ('all' to pass all GPUs)", parse: appendList(parseGpus) },
  { name: 'env', short: 'e', usage: 'Set environment variables', ...validatedList(envKeyCheck) },
  { name: 'env-file', kind: 'list', usage: 'Read in a file of environment variables' },
  { name: 'entrypoint', kind: 'string', usage: 'Overwrite the default ENTRYPOINT of the image' },
  { name: 'group-add', kind: 'list', usage: 'Add additional groups to join' },
  { name: 'hostname', short: 'h', kind: 'string', usage: 'Container host name' },
  { name: 'domainname', kind: 'string', usage: 'Container NIS domain name' },
  { name: 'interactive', short: 'i', kind: 'bool', usage: 'Keep STDIN open even if not attached' },
  { name: 'label', short: 'l', usage: 'Set meta data on a container', ...validatedList(validateLabel) },
  { name: 'label-file', kind: 'list', usage: 'Read in a line delimited file of labels' },
  { name: 'read-only', kind: 'bool', usage: "Mount the container's root filesystem as read only" },
  { name: 'restart', kind: 'string', default: 'no', usage: 'Restart policy to apply when a container exits' },
  { name: 'stop-signal', kind: 'string', usage: 'Signal to stop the container' },
  { name: 'stop-timeout', kind: 'int', usage: 'Timeout (in seconds) to stop a container' },
  { name: 'sysctl', kind: 'value', typeName: 'map', defaultText: 'map[]', usage: 'Sysctl options', parse: mapValue(validateSysctl) },
  { name: 'tty', short: 't', kind: 'bool', usage: 'Allocate a pseudo-TTY' },
  {
    name: 'ulimit',
    kind: 'value',
    typeName: 'ulimit',
    defaultText: '[]',
    usage: 'Ulimit options',
    parse: (raw, prev) => {
      const u = parseUlimit(raw);
      return { ...((prev as Record<string, Ulimit> | undefined) ?? {}), [u.Name]: u };
    },
  },
  { name: 'user', short: 'u', kind: 'string', usage: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { name: 'workdir', short: 'w', kind: 'string', usage: 'Working directory inside the container' },
  { name: 'rm', kind: 'bool', usage: 'Automatically remove the container and its associated anonymous volumes when it exits' },

  { name: 'cap-add', kind: 'list', usage: 'Add Linux capabilities' },
  { name: 'cap-drop', kind: 'list', usage: 'Drop Linux capabilities' },
  { name: 'privileged', kind: 'bool', usage: 'Give extended privileges to this container' },
  { name: 'security-opt', kind: 'list', usage: 'Security Options' },
  { name: 'userns', kind: 'string', usage: 'User namespace to use' },
  { name: 'cgroupns', kind: 'string', usage: CGROUPNS_USAGE },

  { name: 'add-host', usage: 'Add a custom host-to-IP mapping (host:ip)', ...validatedList(validateExtraHost) },
  { name: 'dns', usage: 'Set custom DNS servers', ...validatedList(validateIPAddress) },
  { name: 'dns-opt', kind: 'list', dest: 'dns-option', hidden: true, usage: 'Set DNS options' },
  { name: 'dns-option', kind: 'list', usage: 'Set DNS options' },
  { name: 'dns-search', usage: 'Set custom DNS search domains', ...validatedList(validateDNSSearch) },
  { name: 'expose', kind: 'list', usage: 'Expose a port or a range of ports' },
  { name: 'ip', kind: 'string', usage: 'IPv4 address (e.g., 172.30.100.104)' },
  { name: 'ip6', kind: 'string', usage: 'IPv6 address (e.g., 2001:db8::33)' },
  { name: 'link', usage: 'Add link to another container', ...validatedList(validateLink) },
  { name: 'link-local-ip', kind: 'list', usage: 'Container IPv4/IPv6 link-local addresses' },
  { name: 'mac-address', kind: 'string', usage: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { name: 'publish', short: 'p', kind: 'list', usage: "Publish a container's port(s) to the host" },
  { name: 'publish-all', short: 'P', kind: 'bool', usage: 'Publish all exposed ports to random ports' },
  { name: 'net', kind: 'value', typeName: 'network', dest: 'network', hidden: true, usage: 'Connect a container to a network', parse: appendList(parseNetworkOpt) },
  { name: 'network', kind: 'value', typeName: 'network', usage: 'Connect a container to a network', parse: appendList(parseNetworkOpt) },
  { name: 'net-alias', kind: 'list', dest: 'network-alias', hidden: true, usage: 'Add network-scoped alias for the container' },
  { name: 'network-alias', kind: 'list', usage: 'Add network-scoped alias for the container' },

  { name: 'log-driver', kind: 'string', usage: 'Logging driver for the container' },
  { name: 'volume-driver', kind: 'string', usage: 'Optional volume driver for the container' },
  { name: 'log-opt', kind: 'list', usage: 'Log driver options' },
  { name: 'storage-opt', kind: 'list', usage: 'Storage driver options for the container' },
  { name: 'tmpfs', kind: 'list', usage: 'Mount a tmpfs directory' },
  { name: 'volumes-from', kind: 'list', usage: 'Mount volumes from the specified container(s)' },
  { name: 'volume', short: 'v', kind: 'list', usage: 'Bind mount a volume' },
  { name: 'mount', kind: 'value', typeName: 'mount', usage: 'Attach a filesystem mount to the container', parse: appendList((raw) => parseMount(raw)) },

  { name: 'health-cmd', kind: 'string', usage: 'Command to run to check health' },
  { name: 'health-interval', kind: 'value', typeName: 'duration', default: 0, usage: 'Time between running the check (ms|s|m|h) (default 0s)', parse: duration },
  { name: 'health-retries', kind: 'int', usage: 'Consecutive failures needed to report unhealthy' },
  { name: 'health-timeout', kind: 'value', typeName: 'duration', default: 0, usage: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)', parse: duration },
  {
    name: 'health-start-period',
    kind: 'value',
    typeName: 'duration',
    default: 0,
    usage: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)',
    parse: duration,
  },
  {
    name: 'health-start-interval',
    kind: 'value',
    typeName: 'duration',
    default: 0,
    usage: 'Time between running the check during the start period (ms|s|m|h) (default 0s)',
    parse: duration,
  },
  { name: 'no-healthcheck', kind: 'bool', usage: 'Disable any container-specified HEALTHCHECK' },

  { name: 'blkio-weight', kind: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'blkio-weight-device', kind: 'list', defaultText: '[]', usage: 'Block IO weight (relative device weight)', parse: appendList(parseWeightDevice) },
  { name: 'cidfile', kind: 'string', usage: 'Write the container ID to the file' },
  { name: 'cpuset-cpus', kind: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', kind: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'cpu-count', kind: 'int', hidden: true, usage: 'CPU count (Windows only)' },
  { name: 'cpu-percent', kind: 'int', hidden: true, usage: 'CPU percent (Windows only)' },
  { name: 'cpu-period', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', kind: 'int', usage: 'Limit CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', kind: 'int', usage: 'Limit CPU real-time runtime in microseconds' },
  { name: 'cpu-shares', short: 'c', kind: 'int', usage: 'CPU shares (relative weight)' },
  { name: 'cpus', kind: 'value', typeName: 'decimal', default: 0, usage: 'Number of CPUs', parse: (raw) => parseCPUs(raw) },
  { name: 'device-read-bps', kind: 'list', defaultText: '[]', usage: 'Limit read rate (bytes per second) from a device', parse: appendList(parseThrottleBpsDevice) },
  { name: 'device-read-iops', kind: 'list', defaultText: '[]', usage: 'Limit read rate (IO per second) from a device', parse: appendList(parseThrottleIOpsDevice) },
  { name: 'device-write-bps', kind: 'list', defaultText: '[]', usage: 'Limit write rate (bytes per second) to a device', parse: appendList(parseThrottleBpsDevice) },
  { name: 'device-write-iops', kind: 'list', defaultText: '[]', usage: 'Limit write rate (IO per second) to a device', parse: appendList(parseThrottleIOpsDevice) },
  { name: 'io-maxbandwidth', kind: 'value', typeName: 'bytes', default: 0, hidden: true, usage: 'Maximum IO bandwidth limit for the system drive (Windows only)', parse: bytes },
  { name: 'io-maxiops', kind: 'uint64', hidden: true, usage: 'Maximum IOps limit for the system drive (Windows only)' },
  { name: 'kernel-memory', kind: 'value', typeName: 'bytes', default: 0, usage: 'Kernel memory limit', parse: bytes },
  { name: 'memory', short: 'm', kind: 'value', typeName: 'bytes', default: 0, usage: 'Memory limit', parse: bytes },
  { name: 'memory-reservation', kind: 'value', typeName: 'bytes', default: 0, usage: 'Memory soft limit', parse: bytes },
  {
    name: 'memory-swap',
    kind: 'value',
    typeName: 'bytes',
    default: 0,
    usage: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
    parse: (raw) => (raw === '-1' ? -1 : ramInBytes(raw)),
  },
  { name: 'memory-swappiness', kind: 'int', default: -1, usage: 'Tune container memory swappiness (0 to 100)' },
  { name: 'oom-kill-disable', kind: 'bool', usage: 'Disable OOM Killer' },
  { name: 'oom-score-adj', kind: 'int', usage: "Tune host's OOM preferences (-1000 to 1000)" },
  { name: 'pids-limit', kind: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },

  { name: 'cgroup-parent', kind: 'string', usage: 'Optional parent cgroup for the container' },
  { name: 'ipc', kind: 'string', usage: 'IPC mode to use' },
  { name: 'isolation', kind: 'string', usage: 'Container isolation technology' },
  { name: 'pid', kind: 'string', usage: 'PID namespace to use' },
  { name: 'shm-size', kind: 'value', typeName: 'bytes', default: 0, usage: 'Size of /dev/shm', parse: bytes },
  { name: 'uts', kind: 'string', usage: 'UTS namespace to use' },
  { name: 'runtime', kind: 'string', usage: 'Runtime to use for this container' },
  { name: 'init', kind: 'bool', usage: 'Run an init inside the container that forwards signals and reaps processes' },
  { name: 'annotation', kind: 'value', typeName: 'map', defaultText: 'map[]', usage: 'Add an annotation to the container (passed through to the OCI runtime)', parse: mapValue() },
];

// --- the create body ---

export interface ContainerConfigBody {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: HealthConfig;
  Image: string;
  Volumes: Record<string, Record<string, never>>;
  WorkingDir: string;
  Entrypoint: string[] | null;
  MacAddress?: string;
  OnBuild: null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface HostConfigBody {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[]>;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  ConsoleSize: [number, number];
  Annotations?: Record<string, string>;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  StorageOpt?: Record<string, string>;
  Tmpfs?: Record<string, string>;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation: string;
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  BlkioWeight: number;
  BlkioWeightDevice: WeightDevice[];
  BlkioDeviceReadBps: ThrottleDevice[];
  BlkioDeviceWriteBps: ThrottleDevice[];
  BlkioDeviceReadIOps: ThrottleDevice[];
  BlkioDeviceWriteIOps: ThrottleDevice[];
  CpuPeriod: number;
  CpuQuota: number;
  CpuRealtimePeriod: number;
  CpuRealtimeRuntime: number;
  CpusetCpus: string;
  CpusetMems: string;
  Devices: DeviceMapping[];
  DeviceCgroupRules: string[] | null;
  DeviceRequests: DeviceRequest[] | null;
  KernelMemory?: number;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: number;
  OomKillDisable: boolean;
  PidsLimit: number;
  Ulimits: Ulimit[];
  CpuCount: number;
  CpuPercent: number;
  IOMaximumIOps: number;
  IOMaximumBandwidth: number;
  Mounts?: Mount[];
  MaskedPaths: string[] | null;
  ReadonlyPaths: string[] | null;
  Init?: boolean;
}

export interface CreateBody extends ContainerConfigBody {
  HostConfig: HostConfigBody;
  NetworkingConfig: { EndpointsConfig: Record<string, EndpointSettings> };
}

export interface BuildEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
  readFile?: ReadFile;
  // Terminal size [height, width], or [0, 0] when stdout is no terminal.
  consoleSize?: [number, number];
}

const nullIfEmpty = <T>(a: T[]): T[] | null => (a.length > 0 ? a : null);

// Go's mode validators for --pid/--uts/--userns/--cgroupns.
function validMode(kind: 'pid' | 'uts' | 'userns' | 'cgroupns', mode: string): boolean {
  if (mode === '') return true;
  const [name, ...rest] = mode.split(':');
  const arg = rest.join(':');
  switch (kind) {
    case 'pid':
      return name === 'host' || (name === 'container' && arg !== '');
    case 'uts':
      return name === 'host';
    case 'userns':
      return name === 'host';
    case 'cgroupns':
      return mode === 'host' || mode === 'private';
  }
}

function normalizeCaps(caps: string[]): string[] | null {
  const out = new Set<string>();
  for (const c of caps) {
    const up = c.toUpperCase();
    out.add(up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`);
  }
  return out.size > 0 ? [...out].sort() : null;
}

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

function parseDevice(device: string): DeviceMapping {
  if ((device.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${device}`);
  const split = device.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${device}`);
  let src = split[0];
  let dst = '';
  let perms = 'rwm';
  let containerPath: string;
  if (split.length === 1) {
    containerPath = split[0];
    src = path.posix.normalize(split[0]);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1])) {
      containerPath = split[0];
      perms = split[1];
      src = path.posix.normalize(split[0]);
    } else {
      containerPath = split[1];
      dst = path.posix.normalize(split[1]);
    }
  } else {
    containerPath = split[1];
    if (!validDeviceMode(split[2])) throw new Error(`bad mode specified: ${split[2]}`);
    dst = split[1];
    perms = split[2];
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

const CDI_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]*\/[a-zA-Z0-9][a-zA-Z0-9._-]*=[a-zA-Z0-9_.:-]+$/;

function parseSecurityOpts(opts: string[], readFile: ReadFile): string[] {
  return opts.map((opt) => {
    let i = opt.indexOf('=');
    if (i < 0 && opt !== 'no-new-privileges') i = opt.indexOf(':');
    const k = i < 0 ? opt : opt.slice(0, i);
    const v = i < 0 ? '' : opt.slice(i + 1);
    if ((i < 0 || v === '') && k !== 'no-new-privileges') throw new Error(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let data: Buffer;
      try {
        data = readFile(v);
      } catch (err) {
        throw new Error(`opening seccomp profile (${v}) failed: ${readErr(v, err)}`);
      }
      try {
        return `seccomp=${JSON.stringify(JSON.parse(data.toString('utf8')))}`;
      } catch (err) {
        throw new Error(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`);
      }
    }
    return opt;
  });
}

function readErr(p: string, err: unknown): string {
  try {
    readFileGo(p, () => {
      throw err;
    });
  } catch (e) {
    return (e as Error).message;
  }
  return String(err);
}

function kvMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    out[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1);
  }
  return out;
}

export interface ParsedContainer {
  body: CreateBody;
  // Client-side warnings docker prints after create ("Localhost DNS ...").
  warnings: string[];
}

// docker's parse(): flags + image + command → the create request body.
export function buildCreateBody(flags: ParsedFlags, image: string, cmd: string[], env: BuildEnv): ParsedContainer {
  const readFile = env.readFile ?? defaultReadFile;
  const attach = flags.list('attach');
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');

  const mac = flags.string('mac-address');
  if (mac !== '' && !isMac(mac.trim())) throw new Error(`${mac} is not a valid mac address`);
  if (flags.bool('interactive')) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }

  const swappiness = flags.number('memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  // -v: anything with a source is a bind (host path or named volume), the rest
  // are anonymous volumes recorded in Config.Volumes.
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of flags.list('volume')) volumes[v] = {};
  for (const bind of [...new Set(flags.list('volume'))]) {
    const parsed = parseVolumeSpec(bind);
    if (parsed.source === '') continue;
    let toBind = bind;
    if (parsed.type === 'bind') {
      const i = bind.indexOf(':');
      if (i >= 0) {
        let host = bind.slice(0, i);
        if (!path.isAbsolute(host) && host.startsWith('.')) host = path.resolve(env.cwd, host);
        toBind = `${host}:${bind.slice(i + 1)}`;
      }
    }
    binds.push(toBind);
    delete volumes[bind];
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.list('tmpfs')) {
    const i = t.indexOf(':');
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }

  let entrypoint: string[] | null = null;
  if (flags.string('entrypoint') !== '') entrypoint = [flags.string('entrypoint')];
  else if (flags.changed('entrypoint')) entrypoint = [''];

  const { exposed, bindings } = parsePortSpecs(convertToStandardNotation(flags.list('publish')));
  exposePorts(flags.list('expose'), exposed);

  const devices: DeviceMapping[] = [];
  const cdiNames: string[] = [];
  for (const d of flags.list('device')) {
    if (CDI_NAME.test(d)) cdiNames.push(d);
    else devices.push(parseDevice(d));
  }

  const lookupEnv = (k: string): string | undefined => env.env[k];
  const envVars: string[] = [];
  for (const f of flags.list('env-file')) envVars.push(...parseKeyValueFile(f, readFile, lookupEnv));
  for (const e of flags.list('env')) {
    const eq = e.indexOf('=');
    const v = eq < 0 ? lookupEnv(e) : undefined;
    envVars.push(eq < 0 && v !== undefined ? `${e}=${v}` : e);
  }

  const labels: string[] = [];
  for (const f of flags.list('label-file')) labels.push(...parseKeyValueFile(f, readFile));
  labels.push(...flags.list('label'));

  if (!validMode('pid', flags.string('pid'))) throw new Error('--pid: invalid PID mode');
  if (!validMode('uts', flags.string('uts'))) throw new Error('--uts: invalid UTS mode');
  if (!validMode('userns', flags.string('userns'))) throw new Error('--userns: invalid USER mode');
  if (!validMode('cgroupns', flags.string('cgroupns'))) throw new Error('--cgroupns: invalid CGROUP mode');

  const restart = parseRestartPolicy(flags.string('restart'));
  const logDriver = flags.string('log-driver');
  const logOpts = flags.list('log-opt');
  if (logDriver === 'none' && logOpts.length > 0) throw new Error(`invalid logging opts for driver ${logDriver}`);

  let securityOpts = parseSecurityOpts(flags.list('security-opt'), readFile);
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  if (securityOpts.includes('systempaths=unconfined')) {
    maskedPaths = [];
    readonlyPaths = [];
    securityOpts = securityOpts.filter((o) => o !== 'systempaths=unconfined');
  }

  const storageOpt: Record<string, string> = {};
  for (const o of flags.list('storage-opt')) {
    const i = o.indexOf('=');
    if (i < 0) throw new Error('invalid storage option');
    storageOpt[o.slice(0, i)] = o.slice(i + 1);
  }

  let healthcheck: HealthConfig | undefined;
  const hc = {
    cmd: flags.string('health-cmd'),
    interval: flags.number('health-interval'),
    timeout: flags.number('health-timeout'),
    startPeriod: flags.number('health-start-period'),
    startInterval: flags.number('health-start-interval'),
    retries: flags.number('health-retries'),
  };
  const haveHealth = hc.cmd !== '' || hc.interval !== 0 || hc.timeout !== 0 || hc.startPeriod !== 0 || hc.retries !== 0 || hc.startInterval !== 0;
  if (flags.bool('no-healthcheck')) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (hc.interval < 0) throw new Error('--health-interval cannot be negative');
    if (hc.timeout < 0) throw new Error('--health-timeout cannot be negative');
    if (hc.retries < 0) throw new Error('--health-retries cannot be negative');
    if (hc.startPeriod < 0) throw new Error('--health-start-period cannot be negative');
    if (hc.startInterval < 0) throw new Error('--health-start-interval cannot be negative');
    healthcheck = {};
    if (hc.cmd !== '') healthcheck.Test = ['CMD-SHELL', hc.cmd];
    if (hc.interval) healthcheck.Interval = hc.interval;
    if (hc.timeout) healthcheck.Timeout = hc.timeout;
    if (hc.startPeriod) healthcheck.StartPeriod = hc.startPeriod;
    if (hc.startInterval) healthcheck.StartInterval = hc.startInterval;
    if (hc.retries) healthcheck.Retries = hc.retries;
  }

  const deviceRequests: DeviceRequest[] = [...((flags.get('gpus') as DeviceRequest[] | undefined) ?? [])];
  if (cdiNames.length > 0) deviceRequests.push({ Driver: 'cdi', Count: 0, DeviceIDs: cdiNames, Capabilities: null, Options: null });

  const ulimits = Object.values((flags.get('ulimit') as Record<string, Ulimit> | undefined) ?? {}).sort((a, b) =>
    a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0,
  );
  const networks = (flags.get('network') as NetworkAttachment[] | undefined) ?? [];
  const networkMode = networks.length > 0 ? networks[0].Target : 'default';
  const sysctls = (flags.get('sysctl') as Record<string, string> | undefined) ?? {};
  const annotations = (flags.get('annotation') as Record<string, string> | undefined) ?? {};
  const mounts = (flags.get('mount') as Mount[] | undefined) ?? [];

  const config: ContainerConfigBody = {
    Hostname: flags.string('hostname'),
    Domainname: flags.string('domainname'),
    User: flags.string('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length > 0 ? exposed : undefined,
    Tty: flags.bool('tty'),
    OpenStdin: flags.bool('interactive'),
    // When allocating stdin in attached mode, close stdin at client disconnect.
    StdinOnce: flags.bool('interactive') && attachStdin,
    Env: nullIfEmpty(envVars),
    Cmd: cmd.length > 0 ? cmd : null,
    Healthcheck: healthcheck,
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.string('workdir'),
    Entrypoint: entrypoint,
    MacAddress: mac || undefined,
    OnBuild: null,
    Labels: kvMap(labels),
    StopSignal: flags.string('stop-signal') || undefined,
    StopTimeout: flags.changed('stop-timeout') ? flags.number('stop-timeout') : undefined,
  };

  const hostConfig: HostConfigBody = {
    Binds: nullIfEmpty(binds),
    ContainerIDFile: flags.string('cidfile'),
    LogConfig: { Type: logDriver, Config: kvMap(logOpts) },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: flags.bool('rm'),
    VolumeDriver: flags.string('volume-driver'),
    VolumesFrom: nullIfEmpty(flags.list('volumes-from')),
    ConsoleSize: env.consoleSize ?? [0, 0],
    Annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
    CapAdd: normalizeCaps(flags.list('cap-add')),
    CapDrop: normalizeCaps(flags.list('cap-drop')),
    CgroupnsMode: flags.string('cgroupns'),
    Dns: flags.list('dns'),
    DnsOptions: flags.list('dns-option'),
    DnsSearch: flags.list('dns-search'),
    ExtraHosts: nullIfEmpty(flags.list('add-host')),
    GroupAdd: nullIfEmpty(flags.list('group-add')),
    IpcMode: flags.string('ipc'),
    Cgroup: '',
    Links: nullIfEmpty(flags.list('link')),
    OomScoreAdj: flags.number('oom-score-adj'),
    PidMode: flags.string('pid'),
    Privileged: flags.bool('privileged'),
    PublishAllPorts: flags.bool('publish-all'),
    ReadonlyRootfs: flags.bool('read-only'),
    SecurityOpt: nullIfEmpty(securityOpts),
    StorageOpt: Object.keys(storageOpt).length > 0 ? storageOpt : undefined,
    Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : undefined,
    UTSMode: flags.string('uts'),
    UsernsMode: flags.string('userns'),
    ShmSize: flags.number('shm-size'),
    Sysctls: Object.keys(sysctls).length > 0 ? sysctls : undefined,
    Runtime: flags.string('runtime') || undefined,
    Isolation: flags.string('isolation'),
    CpuShares: flags.number('cpu-shares'),
    Memory: flags.number('memory'),
    NanoCpus: flags.number('cpus'),
    CgroupParent: flags.string('cgroup-parent'),
    BlkioWeight: flags.number('blkio-weight'),
    BlkioWeightDevice: flags.list('blkio-weight-device') as unknown as WeightDevice[],
    BlkioDeviceReadBps: flags.list('device-read-bps') as unknown as ThrottleDevice[],
    BlkioDeviceWriteBps: flags.list('device-write-bps') as unknown as ThrottleDevice[],
    BlkioDeviceReadIOps: flags.list('device-read-iops') as unknown as ThrottleDevice[],
    BlkioDeviceWriteIOps: flags.list('device-write-iops') as unknown as ThrottleDevice[],
    CpuPeriod: flags.number('cpu-period'),
    CpuQuota: flags.number('cpu-quota'),
    CpuRealtimePeriod: flags.number('cpu-rt-period'),
    CpuRealtimeRuntime: flags.number('cpu-rt-runtime'),
    CpusetCpus: flags.string('cpuset-cpus'),
    CpusetMems: flags.string('cpuset-mems'),
    Devices: devices,
    DeviceCgroupRules: nullIfEmpty(flags.list('device-cgroup-rule')),
    DeviceRequests: nullIfEmpty(deviceRequests),
    // The client drops KernelMemory for API >= 1.42; at 1.41 it still travels.
    KernelMemory: flags.number('kernel-memory') || undefined,
    MemoryReservation: flags.number('memory-reservation'),
    MemorySwap: flags.number('memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: flags.bool('oom-kill-disable'),
    PidsLimit: flags.number('pids-limit'),
    Ulimits: ulimits,
    CpuCount: flags.number('cpu-count'),
    CpuPercent: flags.number('cpu-percent'),
    IOMaximumIOps: flags.number('io-maxiops'),
    IOMaximumBandwidth: flags.number('io-maxbandwidth'),
    Mounts: mounts.length > 0 ? mounts : undefined,
    MaskedPaths: maskedPaths,
    ReadonlyPaths: readonlyPaths,
    Init: flags.changed('init') ? flags.bool('init') : undefined,
  };

  if (flags.bool('rm') && restart.Name !== '' && restart.Name !== 'no') {
    throw new Error('conflicting options: cannot specify both --restart and --rm');
  }

  const endpoints = buildEndpoints(networks, {
    aliases: flags.list('network-alias'),
    links: flags.list('link'),
    ipv4: flags.string('ip'),
    ipv6: flags.string('ip6'),
    mac,
    linkLocalIPs: flags.list('link-local-ip'),
  });
  // The main network's MAC also goes into Config.MacAddress for daemons below API 1.44.
  const main = endpoints[networkMode === 'default' ? 'default' : networkMode];
  if (main) config.MacAddress = main.MacAddress || undefined;

  const warnings: string[] = [];
  for (const dns of hostConfig.Dns) {
    if (isLoopback(dns)) {
      warnings.push(`Localhost DNS (${dns}) may fail in containers.`);
      break;
    }
  }

  return { body: { ...config, HostConfig: hostConfig, NetworkingConfig: { EndpointsConfig: endpoints } }, warnings };
}

function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(ip);
}
