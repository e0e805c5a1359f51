import { totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupDirs, hostCgroupLayout, type CgroupLayout } from './cgroup-paths.js';
import { nullBlkio, readCgroupStats, zeroCpuStats, type BlkioStats, type CpuStats, type MemoryStats, type PidsStats } from './cgroup-stats.js';
import { readHostCpu, type HostCpu } from './host-cpu.js';
import { readNetworkStats, type NetworkStats } from './net-stats.js';

// GET /containers/{id}/stats: Docker's StatsResponse, sampled from the container's cgroup,
// its init process's network namespace and the host's /proc/stat.

export interface StatsJson {
  read: string;
  preread: string;
  pids_stats: PidsStats;
  blkio_stats: BlkioStats;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: MemoryStats;
  name?: string;
  id?: string;
  networks?: Record<string, NetworkStats>;
}

// What the sampler needs to know of a container, looked up afresh for every sample.
export interface StatsTarget {
  id: string;
  name: string; // with the leading slash, as Docker reports it
  running: boolean; // false for created, exited, dead and restarting (no process to measure)
  pid: number; // host pid of the container's init process
  cgroupsPath: string;
  hostNetwork: boolean; // shares the host's namespace: Docker reports no networks then
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

// One sample, before the previous one's CPU figures are attached.
type Sample = Omit<StatsJson, 'preread' | 'precpu_stats'>;

export interface StatsSources {
  layout(): Promise<CgroupLayout>;
  hostCpu(): Promise<HostCpu>;
  hostMemory(): number;
  networks(pid: number): Promise<Record<string, NetworkStats>>;
  now(): string;
}

const hostSources: StatsSources = {
  layout: hostCgroupLayout,
  hostCpu: () => readHostCpu(),
  hostMemory: totalmem,
  networks: (pid) => readNetworkStats(pid),
  now: isoNow,
};

// The stats of a container with nothing to measure: zeros, with its name and id (moby
// publishes exactly this for a stopped container, and for one whose stats fail).
export function emptySample(t: Pick<StatsTarget, 'id' | 'name'>): Sample {
  return {
    read: ZERO_TIME,
    pids_stats: {},
    blkio_stats: nullBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpuStats(),
    memory_stats: {},
    name: t.name,
    id: t.id,
  };
}

export class StatsSampler {
  constructor(private readonly src: StatsSources = hostSources) {}

  async sample(t: StatsTarget): Promise<Sample> {
    if (!t.running || t.pid <= 0) return emptySample(t);
    try {
      const dirs = cgroupDirs(await this.src.layout(), t.cgroupsPath);
      const read = this.src.now();
      const [cg, networks] = await Promise.all([
        readCgroupStats(dirs, this.src.hostMemory()),
        t.hostNetwork ? Promise.resolve({}) : this.src.networks(t.pid).catch(() => ({})),
      ]);
      // Sampled right after the container's, so both deltas cover the same time span.
      const host = await this.src.hostCpu();
      const s: Sample = {
        read,
        pids_stats: cg.pids,
        blkio_stats: cg.blkio,
        num_procs: 0,
        storage_stats: {},
        cpu_stats: withHost(cg.cpu, host),
        memory_stats: cg.memory,
        name: t.name,
        id: t.id,
      };
      if (Object.keys(networks).length) s.networks = networks;
      return s;
    } catch {
      // The cgroup went away under us: the container stopped between lookup and read.
      return emptySample(t);
    }
  }
}

function withHost(cpu: CpuStats, host: HostCpu): CpuStats {
  return {
    cpu_usage: cpu.cpu_usage,
    ...(host.systemUsage ? { system_cpu_usage: host.systemUsage } : {}),
    ...(host.onlineCpus ? { online_cpus: host.onlineCpus } : {}),
    throttling_data: cpu.throttling_data,
  };
}

// Docker's field order, with the previous sample's read time and CPU figures.
export function frame(s: Sample, pre: { read: string; cpu: CpuStats }): StatsJson {
  const out: StatsJson = {
    read: s.read,
    preread: pre.read,
    pids_stats: s.pids_stats,
    blkio_stats: s.blkio_stats,
    num_procs: s.num_procs,
    storage_stats: s.storage_stats,
    cpu_stats: s.cpu_stats,
    precpu_stats: pre.cpu,
    memory_stats: s.memory_stats,
    name: s.name,
    id: s.id,
  };
  if (s.networks) out.networks = s.networks;
  return out;
}

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
  intervalMs?: number; // Docker's collector samples once a second
  signal?: AbortSignal;
}

// The frames of one stats request, as moby's ContainerStats produces them:
// - stream: a frame per interval until the client goes or the container is removed; the
//   first frame's precpu is zero, each later one carries the previous frame's CPU figures;
// - stream=false: one frame; the daemon samples twice an interval apart so the CPU delta is
//   meaningful, unless one-shot asks for a single sample (precpu zero);
// - a container that is not running answers zeros (once, or every interval when streaming).
export async function* statsFrames(current: () => StatsTarget | null, sampler: StatsSampler, opts: StatsOptions): AsyncGenerator<StatsJson> {
  const interval = opts.intervalMs ?? 1000;
  let pre = { read: ZERO_TIME, cpu: zeroCpuStats() };
  const wait = (): Promise<boolean> =>
    sleep(interval, undefined, { signal: opts.signal }).then(
      () => true,
      () => false,
    );
  if (!opts.stream) {
    const t = current();
    if (!t) return;
    if (!t.running || opts.oneShot) {
      yield frame(await sampler.sample(t), pre);
      return;
    }
    const first = await sampler.sample(t);
    pre = { read: first.read, cpu: first.cpu_stats };
    if (!(await wait())) return;
    const t2 = current();
    if (!t2) return;
    yield frame(await sampler.sample(t2), pre);
    return;
  }
  for (;;) {
    if (opts.signal?.aborted) return;
    const t = current();
    if (!t) return;
    const s = await sampler.sample(t);
    yield frame(s, pre);
    pre = { read: s.read, cpu: s.cpu_stats };
    if (!(await wait())) return;
  }
}

// Millisecond precision: Go's RFC3339Nano parser takes any number of fraction digits.
function isoNow(): string {
  return new Date().toISOString();
}
