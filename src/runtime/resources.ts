import { conflict, invalid } from '../util/errors.js';
import type { OciDeviceRule, OciRlimit } from './oci-spec.js';

// HostConfig's resource limits → the OCI spec's linux.resources, with moby's checks
// (verifyPlatformContainerResources), defaults (adaptContainerSettings) and update
// rules (UpdateContainer, toContainerdResources). Pure: what the host supports, and the
// device numbers behind paths, come in as arguments. runc writes the cgroup files, for
// cgroup v1 and v2 alike.

export interface ThrottleDevice { Path: string; Rate: number }
export interface WeightDevice { Path: string; Weight: number }
export interface DeviceMapping { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }
export interface Ulimit { Name: string; Soft: number; Hard: number }

// moby's container.Resources, as HostConfig carries it.
export interface ResourceConfig {
  CpuShares?: number;
  NanoCpus?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Memory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  KernelMemory?: number;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  BlkioWeight?: number;
  BlkioWeightDevice?: WeightDevice[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  Ulimits?: Ulimit[] | null;
  CpuCount?: number;
  CpuPercent?: number;
  IOMaximumIOps?: number;
  IOMaximumBandwidth?: number;
}

// What the host's cgroups can do (moby's sysinfo.SysInfo, reduced).
export interface CgroupSupport {
  version: 1 | 2;
  memoryLimit: boolean;
  swapLimit: boolean;
  memoryReservation: boolean;
  memorySwappiness: boolean;
  oomKillDisable: boolean;
  kernelMemory: boolean;
  pidsLimit: boolean;
  cpuShares: boolean;
  cpuCfs: boolean;
  cpuRealtime: boolean;
  cpuset: boolean;
  blkioWeight: boolean;
  blkioWeightDevice: boolean;
  blkioThrottle: boolean;
  cpus: string; // cpuset.cpus of the root, e.g. "0-1"
  mems: string;
  ncpu: number; // CPUs this process may run on
}

// It is not a kernel limit: below 6MB a container cannot start reliably (moby's linuxMinMemory).
export const MIN_MEMORY = 6 * 1024 * 1024;

// moby's parsers.ParseUintList: "0-3,5" → {0,1,2,3,5}.
export function parseUintList(val: string): Set<number> {
  const out = new Set<number>();
  if (val === '') return out;
  for (const part of val.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid format: ${val}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new Error(`invalid format: ${val}`);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function subsetOf(requested: string, available: string, what: 'cpus' | 'mems'): boolean {
  let req: Set<number>;
  try {
    req = parseUintList(requested);
  } catch (err) {
    throw invalid(`Invalid value ${requested} for cpuset ${what}: ${(err as Error).message}`);
  }
  const avail = parseUintList(available);
  return [...req].every((n) => avail.has(n));
}

export interface Checked {
  resources: ResourceConfig;
  warnings: string[];
}

// moby's verifyPlatformContainerResources: refuse what cannot work, drop (with a
// warning) what this host's cgroups cannot do. `update` relaxes the swap-needs-memory rule.
export function verifyResources(input: ResourceConfig, sys: CgroupSupport, update: boolean): Checked {
  const r: ResourceConfig = { ...input };
  const warnings: string[] = [];
  const mem = r.Memory ?? 0;
  if (r.MemorySwappiness === -1) r.MemorySwappiness = null;

  if (mem !== 0 && mem < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (mem > 0 && !sys.memoryLimit) {
    warnings.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.Memory = 0;
    r.MemorySwap = -1;
  }
  if ((r.Memory ?? 0) > 0 && r.MemorySwap !== -1 && !sys.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    r.MemorySwap = -1;
  }
  const swap = r.MemorySwap ?? 0;
  if ((r.Memory ?? 0) > 0 && swap > 0 && swap < (r.Memory ?? 0)) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if ((r.Memory ?? 0) === 0 && swap > 0 && !update) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.MemorySwappiness !== null && r.MemorySwappiness !== undefined) {
    if (!sys.memorySwappiness) {
      warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
      r.MemorySwappiness = null;
    } else if (r.MemorySwappiness < 0 || r.MemorySwappiness > 100) {
      throw invalid(`Invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`);
    }
  }
  const reservation = r.MemoryReservation ?? 0;
  if (reservation > 0 && !sys.memoryReservation) {
    warnings.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.MemoryReservation = 0;
  }
  if ((r.MemoryReservation ?? 0) > 0 && (r.MemoryReservation ?? 0) < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if ((r.Memory ?? 0) > 0 && (r.MemoryReservation ?? 0) > 0 && (r.Memory ?? 0) < (r.MemoryReservation ?? 0)) {
    throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if ((r.KernelMemory ?? 0) > 0) {
    // Kernel memory accounting is gone from cgroup v2 and deprecated in v1 kernels.
    warnings.push('Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
    r.KernelMemory = 0;
  }
  if (r.OomKillDisable !== null && r.OomKillDisable !== undefined && !sys.oomKillDisable) {
    if (r.OomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    r.OomKillDisable = null;
  }
  if (r.OomKillDisable && (r.Memory ?? 0) === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if (r.PidsLimit !== null && r.PidsLimit !== undefined && !sys.pidsLimit) {
    if (r.PidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    r.PidsLimit = null;
  }

  const nano = r.NanoCpus ?? 0;
  if (nano > 0 && (r.CpuPeriod ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (r.CpuQuota ?? 0) > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano > 0 && !sys.cpuCfs) throw invalid('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted');
  if (nano !== 0 && (nano < 0 || nano > sys.ncpu * 1e9)) {
    throw invalid(`Range of CPUs is from 0.01 to ${sys.ncpu}.00, as there are only ${sys.ncpu} CPUs available`);
  }
  if ((r.CpuShares ?? 0) < 0) throw invalid(`invalid CPU shares (${r.CpuShares}): value must be a positive integer`);
  if ((r.CpuShares ?? 0) > 0 && !sys.cpuShares) {
    warnings.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
    r.CpuShares = 0;
  }
  if (((r.CpuPeriod ?? 0) !== 0 || (r.CpuQuota ?? 0) !== 0) && !sys.cpuCfs) {
    warnings.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
    r.CpuPeriod = 0;
    r.CpuQuota = 0;
  }
  const period = r.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if ((r.CpuQuota ?? 0) > 0 && (r.CpuQuota ?? 0) < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (((r.CpuRealtimePeriod ?? 0) !== 0 || (r.CpuRealtimeRuntime ?? 0) !== 0) && !sys.cpuRealtime) {
    throw invalid('Your kernel does not support CPU real-time scheduler');
  }
  if ((r.CpuRealtimeRuntime ?? 0) !== 0 && (r.CpuRealtimePeriod ?? 0) !== 0 && (r.CpuRealtimeRuntime ?? 0) > (r.CpuRealtimePeriod ?? 0)) {
    throw invalid('cpu-rt-runtime cannot be higher than cpu-rt-period');
  }
  if ((r.CpuPercent ?? 0) > 0) {
    warnings.push('linux does not support CPU percent. Percent discarded.');
    r.CpuPercent = 0;
  }

  if ((r.CpusetCpus || r.CpusetMems) && !sys.cpuset) {
    warnings.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
    r.CpusetCpus = '';
    r.CpusetMems = '';
  }
  if (r.CpusetCpus && !subsetOf(r.CpusetCpus, sys.cpus, 'cpus')) {
    throw invalid(`Requested CPUs are not available - requested ${r.CpusetCpus}, available: ${sys.cpus}`);
  }
  if (r.CpusetMems && !subsetOf(r.CpusetMems, sys.mems, 'mems')) {
    throw invalid(`Requested memory nodes are not available - requested ${r.CpusetMems}, available: ${sys.mems}`);
  }

  if ((r.BlkioWeight ?? 0) > 0 && !sys.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    r.BlkioWeight = 0;
  }
  const weight = r.BlkioWeight ?? 0;
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
  if ((r.IOMaximumBandwidth ?? 0) !== 0 || (r.IOMaximumIOps ?? 0) !== 0) {
    throw invalid('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  }
  if ((r.BlkioWeightDevice?.length ?? 0) > 0 && !sys.blkioWeightDevice) {
    warnings.push('Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
    r.BlkioWeightDevice = [];
  }
  const throttles: Array<[keyof ResourceConfig, string]> = [
    ['BlkioDeviceReadBps', 'BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['BlkioDeviceWriteBps', 'BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['BlkioDeviceReadIOps', 'IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['BlkioDeviceWriteIOps', 'IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ];
  for (const [key, text] of throttles) {
    if (((r[key] as ThrottleDevice[] | null | undefined)?.length ?? 0) > 0 && !sys.blkioThrottle) {
      warnings.push(`Your kernel does not support ${text}`);
      (r as Record<string, unknown>)[key] = [];
    }
  }
  for (const rule of r.DeviceCgroupRules ?? []) parseDeviceCgroupRule(rule);
  for (const u of r.Ulimits ?? []) {
    if (u.Soft > u.Hard) throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
  return { resources: r, warnings };
}

// moby's adaptContainerSettings and the API's create-time normalisation: swap defaults to
// twice the memory; "unlimited" pids is no limit at all.
export function createDefaults(r: ResourceConfig): ResourceConfig {
  const out = { ...r };
  if ((out.Memory ?? 0) > 0 && (out.MemorySwap ?? 0) === 0) out.MemorySwap = (out.Memory ?? 0) * 2;
  if (out.PidsLimit !== null && out.PidsLimit !== undefined && out.PidsLimit <= 0) out.PidsLimit = null;
  if (out.OomKillDisable === null || out.OomKillDisable === undefined) out.OomKillDisable = false;
  return out;
}

// moby's Container.UpdateContainer: zero values mean "unchanged".
export function mergeUpdate(current: ResourceConfig, u: ResourceConfig): ResourceConfig {
  const c: ResourceConfig = { ...current };
  const fail = (msg: string): never => {
    throw conflict(msg);
  };
  if ((u.NanoCpus ?? 0) > 0 && (c.CpuPeriod ?? 0) > 0) fail('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if ((u.NanoCpus ?? 0) > 0 && (c.CpuQuota ?? 0) > 0) fail('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if ((u.CpuPeriod ?? 0) > 0 && (c.NanoCpus ?? 0) > 0) fail('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if ((u.CpuQuota ?? 0) > 0 && (c.NanoCpus ?? 0) > 0) fail('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const nonZero: Array<keyof ResourceConfig> = [
    'BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems',
    'MemorySwap', 'MemoryReservation', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
  ];
  const notNull: Array<keyof ResourceConfig> = ['BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'PidsLimit'];
  if ((u.Memory ?? 0) !== 0) {
    // The kernel refuses a memory limit above the memory+swap one (cgroup v1).
    if ((u.Memory ?? 0) > (c.MemorySwap ?? 0) && (u.MemorySwap ?? 0) === 0) {
      fail('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    c.Memory = u.Memory;
  }
  const set = c as Record<string, unknown>;
  for (const k of nonZero) if (u[k] !== undefined && u[k] !== 0 && u[k] !== '') set[k] = u[k];
  for (const k of notNull) if (u[k] !== undefined && u[k] !== null) set[k] = u[k];
  // The update route takes 0 and any negative as "unlimited" and keeps it as 0.
  if (u.PidsLimit !== undefined && u.PidsLimit !== null && u.PidsLimit <= 0) c.PidsLimit = 0;
  return c;
}

// ---- to the OCI spec ------------------------------------------------------------------

export interface OciThrottle { major: number; minor: number; rate: number }
export interface OciWeightDevice { major: number; minor: number; weight: number }
export interface OciLinuxResources {
  devices?: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    weightDevice?: OciWeightDevice[];
    throttleReadBpsDevice?: OciThrottle[];
    throttleWriteBpsDevice?: OciThrottle[];
    throttleReadIOPSDevice?: OciThrottle[];
    throttleWriteIOPSDevice?: OciThrottle[];
  };
}

// Device numbers of the paths that blkio limits name, looked up by the caller.
export type DeviceNumbers = ReadonlyMap<string, { major: number; minor: number }>;

export function blkioPaths(r: ResourceConfig): string[] {
  const lists = [r.BlkioWeightDevice, r.BlkioDeviceReadBps, r.BlkioDeviceWriteBps, r.BlkioDeviceReadIOps, r.BlkioDeviceWriteIOps];
  return [...new Set(lists.flatMap((l) => (l ?? []).map((d) => d.Path)))];
}

function numbers(devs: DeviceNumbers, path: string): { major: number; minor: number } {
  const n = devs.get(path);
  if (!n) throw invalid(`stat ${path}: no such file or directory`);
  return n;
}

const throttle = (list: ThrottleDevice[] | null | undefined, devs: DeviceNumbers): OciThrottle[] | undefined =>
  list ? list.map((d) => ({ ...numbers(devs, d.Path), rate: d.Rate })) : undefined;

function cpuPart(r: ResourceConfig): OciLinuxResources['cpu'] {
  const cpu: NonNullable<OciLinuxResources['cpu']> = {};
  if ((r.CpuShares ?? 0) > 0) cpu.shares = r.CpuShares;
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  // --cpus N is a CFS quota of N periods of 100ms.
  if ((r.NanoCpus ?? 0) > 0) {
    cpu.period = 100000;
    cpu.quota = Math.trunc(((r.NanoCpus ?? 0) * 100000) / 1e9);
  }
  if ((r.CpuPeriod ?? 0) !== 0 && cpu.period === undefined) cpu.period = r.CpuPeriod;
  if ((r.CpuQuota ?? 0) !== 0 && cpu.quota === undefined) cpu.quota = r.CpuQuota;
  if ((r.CpuRealtimePeriod ?? 0) !== 0) cpu.realtimePeriod = r.CpuRealtimePeriod;
  if ((r.CpuRealtimeRuntime ?? 0) !== 0) cpu.realtimeRuntime = r.CpuRealtimeRuntime;
  return Object.keys(cpu).length > 0 ? cpu : undefined;
}

function blockIoPart(r: ResourceConfig, devs: DeviceNumbers): OciLinuxResources['blockIO'] {
  const io: NonNullable<OciLinuxResources['blockIO']> = {};
  if ((r.BlkioWeight ?? 0) > 0) io.weight = r.BlkioWeight;
  if (r.BlkioWeightDevice?.length) io.weightDevice = r.BlkioWeightDevice.map((d) => ({ ...numbers(devs, d.Path), weight: d.Weight }));
  const rb = throttle(r.BlkioDeviceReadBps, devs);
  const wb = throttle(r.BlkioDeviceWriteBps, devs);
  const ri = throttle(r.BlkioDeviceReadIOps, devs);
  const wi = throttle(r.BlkioDeviceWriteIOps, devs);
  if (rb) io.throttleReadBpsDevice = rb;
  if (wb) io.throttleWriteBpsDevice = wb;
  if (ri) io.throttleReadIOPSDevice = ri;
  if (wi) io.throttleWriteIOPSDevice = wi;
  return Object.keys(io).length > 0 ? io : undefined;
}

// Docker and runc take 0 and below as "no limit", which runc writes as -1 ("max").
function pidsPart(r: ResourceConfig): OciLinuxResources['pids'] {
  if (r.PidsLimit === null || r.PidsLimit === undefined) return undefined;
  return { limit: r.PidsLimit <= 0 ? -1 : r.PidsLimit };
}

// For the spec at start (moby's getMemoryResources/getCPUResources/...).
export function ociResources(r: ResourceConfig, devs: DeviceNumbers): OciLinuxResources {
  const out: OciLinuxResources = {};
  const memory: NonNullable<OciLinuxResources['memory']> = {};
  if ((r.Memory ?? 0) > 0) memory.limit = r.Memory;
  if ((r.MemoryReservation ?? 0) > 0) memory.reservation = r.MemoryReservation;
  // -1 (unlimited) is left out: without swap accounting there is no file to write it to.
  if ((r.MemorySwap ?? 0) > 0) memory.swap = r.MemorySwap;
  if (r.MemorySwappiness !== null && r.MemorySwappiness !== undefined && r.MemorySwappiness >= 0) memory.swappiness = r.MemorySwappiness;
  if (r.OomKillDisable) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu = cpuPart(r);
  if (cpu) out.cpu = cpu;
  const pids = pidsPart(r);
  if (pids) out.pids = pids;
  const io = blockIoPart(r, devs);
  if (io) out.blockIO = io;
  return out;
}

// For `runc update` (moby's toContainerdResources): only what the update names.
export function ociUpdate(u: ResourceConfig, devs: DeviceNumbers): OciLinuxResources {
  const out: OciLinuxResources = {};
  const memory: NonNullable<OciLinuxResources['memory']> = {};
  if ((u.Memory ?? 0) !== 0) memory.limit = u.Memory;
  if ((u.MemoryReservation ?? 0) !== 0) memory.reservation = u.MemoryReservation;
  if ((u.MemorySwap ?? 0) > 0) memory.swap = u.MemorySwap;
  if (Object.keys(memory).length > 0) out.memory = memory;
  const cpu = cpuPart(u);
  if (cpu) out.cpu = cpu;
  const pids = pidsPart(u);
  if (pids) out.pids = pids;
  const io = blockIoPart(u, devs);
  if (io) out.blockIO = io;
  return out;
}

// "c 1:3 rwm", "b *:* m", "a": --device-cgroup-rule.
export function parseDeviceCgroupRule(rule: string): OciDeviceRule {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) throw invalid(`invalid device cgroup rule format: '${rule}'`);
  const num = (s: string): number | undefined => (s === '*' ? undefined : Number(s));
  const out: OciDeviceRule = { allow: true, type: m[1] as 'a' | 'c' | 'b', access: m[4] };
  const major = num(m[2]);
  const minor = num(m[3]);
  if (major !== undefined) out.major = major;
  if (minor !== undefined) out.minor = minor;
  return out;
}

// --ulimit over the daemon's defaults, one entry per resource.
export function ociRlimits(ulimits: Ulimit[] | null | undefined, defaults: OciRlimit[]): OciRlimit[] {
  const out = new Map(defaults.map((l) => [l.type, { ...l }]));
  for (const u of ulimits ?? []) {
    const type = `RLIMIT_${u.Name.toUpperCase()}`;
    out.set(type, { type, hard: u.Hard, soft: u.Soft });
  }
  return [...out.values()];
}

// Resource fields of a HostConfig, read as the one type they are.
export function resourceConfig(h: object): ResourceConfig {
  return h as ResourceConfig;
}
