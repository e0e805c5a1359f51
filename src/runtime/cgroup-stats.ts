import { readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupDirs } from './cgroup-paths.js';

// A container's resource accounting read from its cgroup, in the shape of Docker's stats
// (moby api/types/container/stats.go; field names are the JSON ones). cgroup v1 follows
// containerd's cgroup1 readers, v2 its cgroup2 ones, and both are mapped the way moby's
// daemon/stats_unix.go maps them, so the numbers mean what docker stats expects.

export interface ThrottlingData {
  periods: number;
  throttled_periods: number;
  throttled_time: number;
}

export interface CpuUsage {
  total_usage: number;
  percpu_usage?: number[]; // omitted when empty (cgroup v2 has none)
  usage_in_kernelmode: number;
  usage_in_usermode: number;
}

export interface CpuStats {
  cpu_usage: CpuUsage;
  system_cpu_usage?: number; // omitted when 0
  online_cpus?: number; // omitted when 0
  throttling_data: ThrottlingData;
}

// Every field is omitted when zero or empty (Go omitempty), so a stopped container's is {}.
export interface MemoryStats {
  usage?: number;
  max_usage?: number;
  stats?: Record<string, number>;
  failcnt?: number;
  limit?: number;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface BlkioStats {
  io_service_bytes_recursive: BlkioEntry[] | null;
  io_serviced_recursive: BlkioEntry[] | null;
  io_queue_recursive: BlkioEntry[] | null;
  io_service_time_recursive: BlkioEntry[] | null;
  io_wait_time_recursive: BlkioEntry[] | null;
  io_merged_recursive: BlkioEntry[] | null;
  io_time_recursive: BlkioEntry[] | null;
  sectors_recursive: BlkioEntry[] | null;
}

export interface PidsStats {
  current?: number; // omitted when 0
  limit?: number; // omitted when 0 (no limit)
}

export interface CgroupStats {
  cpu: CpuStats; // without the host's system_cpu_usage / online_cpus
  memory: MemoryStats;
  blkio: BlkioStats;
  pids: PidsStats;
}

export const zeroCpuStats = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

export const nullBlkio = (): BlkioStats => ({
  io_service_bytes_recursive: null,
  io_serviced_recursive: null,
  io_queue_recursive: null,
  io_service_time_recursive: null,
  io_wait_time_recursive: null,
  io_merged_recursive: null,
  io_time_recursive: null,
  sectors_recursive: null,
});

const emptyBlkio = (): BlkioStats => ({
  io_service_bytes_recursive: [],
  io_serviced_recursive: [],
  io_queue_recursive: [],
  io_service_time_recursive: [],
  io_wait_time_recursive: [],
  io_merged_recursive: [],
  io_time_recursive: [],
  sectors_recursive: [],
});

// USER_HZ: cpuacct.stat counts in it (see host-cpu.ts).
const NS_PER_TICK = 1e9 / 100;

// The memory.stat keys moby reports for cgroup v1 (a fixed set: absent ones read 0).
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault',
  'pgmajfault', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'hierarchical_memory_limit', 'hierarchical_memsw_limit', 'total_cache', 'total_rss', 'total_rss_huge',
  'total_mapped_file', 'total_dirty', 'total_writeback', 'total_pgpgin', 'total_pgpgout', 'total_pgfault',
  'total_pgmajfault', 'total_inactive_anon', 'total_active_anon', 'total_inactive_file', 'total_active_file',
  'total_unevictable',
];

// And for cgroup v2 ("not compatible with v1", as moby says).
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback',
  'anon_thp', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'slab_reclaimable', 'slab_unreclaimable', 'pgfault', 'pgmajfault', 'workingset_refault',
  'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal', 'pgactivate',
  'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

// ---- parsers (pure) ----------------------------------------------------------------

// "key value" lines: memory.stat, cpu.stat, cpuacct.stat, memory.events.
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v, extra] = line.trim().split(/\s+/);
    if (!k || v === undefined || extra !== undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

// A single number, or "max" (no limit) which reads as `unlimited`.
export function parseUint(text: string, unlimited = 0): number {
  const s = text.trim();
  if (s === 'max') return unlimited;
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0) throw new Error(`invalid cgroup value: ${JSON.stringify(s)}`);
  return n;
}

// blkio.* files: "8:0 Read 4096" lines (op-less "8:0 4096" for time/sectors), and a
// "Total N" summary that is skipped, as containerd does.
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(/[ :]/).filter(Boolean);
    if (fields.length === 0) continue;
    if (fields.length < 3) {
      if (fields.length === 2 && fields[0] === 'Total') continue;
      throw new Error(`invalid blkio line: ${JSON.stringify(line)}`);
    }
    const op = fields.length === 4 ? fields[2]! : '';
    const nums = [fields[0], fields[1], fields.length === 4 ? fields[3] : fields[2]].map((f) => Number(f));
    if (nums.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`invalid blkio line: ${JSON.stringify(line)}`);
    out.push({ major: nums[0]!, minor: nums[1]!, op, value: nums[2]! });
  }
  return out;
}

// cgroup v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"; moby turns each
// device into a "read" and a "write" entry of io_service_bytes_recursive.
export function parseIoStat(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = dev ? /^(\d+):(\d+)$/.exec(dev) : null;
    if (!m) continue;
    const kv: Record<string, number> = {};
    for (const p of kvs) {
      const eq = p.indexOf('=');
      if (eq > 0) kv[p.slice(0, eq)] = Number(p.slice(eq + 1)) || 0;
    }
    const major = Number(m[1]);
    const minor = Number(m[2]);
    out.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
  }
  return out;
}

export function parsePercpu(text: string): number[] {
  return text.trim().split(/\s+/).filter(Boolean).map((v) => parseUint(v));
}

// Docker reports a limit above the machine's memory (the "unlimited" sentinel) as the
// machine's memory.
export function clampLimit(limit: number, hostMemory: number): number {
  return hostMemory > 0 && limit > hostMemory ? hostMemory : limit;
}

function pick(values: Record<string, number>, keys: string[]): Record<string, number> {
  // Sorted, as Go's encoding/json writes map keys.
  return Object.fromEntries([...keys].sort().map((k) => [k, values[k] ?? 0]));
}

function omitZero<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0 && v !== undefined)) as T;
}

// ---- readers ------------------------------------------------------------------------

const read = (dir: string, file: string): Promise<string> => readFile(join(dir, file), 'utf8');
const readOptional = (dir: string, file: string): Promise<string | null> =>
  read(dir, file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

// Throws if the cgroup is gone (the container exited meanwhile): the caller then reports
// the stats of a stopped container, as moby does.
export async function readCgroupStats(dirs: CgroupDirs, hostMemory: number): Promise<CgroupStats> {
  if (dirs.version === 2) return readV2(dirs.dir, hostMemory);
  const [cpu, memory, blkio, pids] = await Promise.all([
    readCpuV1(dirs.cpuacct, dirs.cpu),
    dirs.memory ? readMemoryV1(dirs.memory, hostMemory) : Promise.resolve({}),
    dirs.blkio ? readBlkioV1(dirs.blkio) : Promise.resolve(nullBlkio()),
    dirs.pids ? readPids(dirs.pids) : Promise.resolve({}),
  ]);
  return { cpu, memory, blkio, pids };
}

async function readCpuV1(cpuacct: string | undefined, cpu: string | undefined): Promise<CpuStats> {
  const out = zeroCpuStats();
  if (cpuacct) {
    const [usage, percpu, stat] = await Promise.all([read(cpuacct, 'cpuacct.usage'), read(cpuacct, 'cpuacct.usage_percpu'), read(cpuacct, 'cpuacct.stat')]);
    const ticks = parseKeyValues(stat);
    const perCpu = parsePercpu(percpu);
    out.cpu_usage = {
      total_usage: parseUint(usage),
      ...(perCpu.length ? { percpu_usage: perCpu } : {}),
      usage_in_kernelmode: (ticks.system ?? 0) * NS_PER_TICK,
      usage_in_usermode: (ticks.user ?? 0) * NS_PER_TICK,
    };
  }
  if (cpu) {
    const t = parseKeyValues((await readOptional(cpu, 'cpu.stat')) ?? '');
    out.throttling_data = { periods: t.nr_periods ?? 0, throttled_periods: t.nr_throttled ?? 0, throttled_time: t.throttled_time ?? 0 };
  }
  return out;
}

async function readMemoryV1(dir: string, hostMemory: number): Promise<MemoryStats> {
  const [stat, usage, max, failcnt, limit] = await Promise.all(
    ['memory.stat', 'memory.usage_in_bytes', 'memory.max_usage_in_bytes', 'memory.failcnt', 'memory.limit_in_bytes'].map((f) => read(dir, f)),
  );
  return omitZero({
    usage: parseUint(usage!),
    max_usage: parseUint(max!),
    stats: pick(parseKeyValues(stat!), V1_MEMORY_KEYS),
    failcnt: parseUint(failcnt!),
    limit: clampLimit(parseUint(limit!), hostMemory),
  });
}

// With CFQ/BFQ-style accounting the *_recursive files carry the numbers; when they are
// absent or empty (no such scheduler on the devices), the throttle files do (containerd).
async function readBlkioV1(dir: string): Promise<BlkioStats> {
  const out = emptyBlkio();
  if (await exists(join(dir, 'blkio.io_serviced_recursive'))) {
    const files: Array<[keyof BlkioStats, string]> = [
      ['sectors_recursive', 'sectors_recursive'],
      ['io_service_bytes_recursive', 'io_service_bytes_recursive'],
      ['io_serviced_recursive', 'io_serviced_recursive'],
      ['io_queue_recursive', 'io_queued_recursive'],
      ['io_service_time_recursive', 'io_service_time_recursive'],
      ['io_wait_time_recursive', 'io_wait_time_recursive'],
      ['io_merged_recursive', 'io_merged_recursive'],
      ['io_time_recursive', 'time_recursive'],
    ];
    const lists = await Promise.all(files.map(([, f]) => read(dir, `blkio.${f}`).then(parseBlkio)));
    files.forEach(([k], i) => (out[k] = lists[i]!));
    if (lists.some((l) => l.length > 0)) return out;
  }
  const [serviced, bytes] = await Promise.all([read(dir, 'blkio.throttle.io_serviced'), read(dir, 'blkio.throttle.io_service_bytes')]);
  out.io_serviced_recursive = parseBlkio(serviced);
  out.io_service_bytes_recursive = parseBlkio(bytes);
  return out;
}

async function readPids(dir: string): Promise<PidsStats> {
  const [current, max] = await Promise.all([read(dir, 'pids.current'), readOptional(dir, 'pids.max')]);
  return omitZero({ current: parseUint(current), limit: max === null ? 0 : parseUint(max) });
}

async function readV2(dir: string, hostMemory: number): Promise<CgroupStats> {
  const [cpuStat, memCurrent, memMax, memStat, memEvents, ioStat] = await Promise.all([
    read(dir, 'cpu.stat'),
    readOptional(dir, 'memory.current'),
    readOptional(dir, 'memory.max'),
    readOptional(dir, 'memory.stat'),
    readOptional(dir, 'memory.events'),
    readOptional(dir, 'io.stat'),
  ]);
  const c = parseKeyValues(cpuStat);
  const cpu: CpuStats = {
    cpu_usage: {
      total_usage: (c.usage_usec ?? 0) * 1000,
      usage_in_kernelmode: (c.system_usec ?? 0) * 1000,
      usage_in_usermode: (c.user_usec ?? 0) * 1000,
    },
    throttling_data: { periods: c.nr_periods ?? 0, throttled_periods: c.nr_throttled ?? 0, throttled_time: (c.throttled_usec ?? 0) * 1000 },
  };
  const memory: MemoryStats =
    memCurrent === null
      ? {}
      : omitZero({
          usage: parseUint(memCurrent),
          stats: pick(parseKeyValues(memStat ?? ''), V2_MEMORY_KEYS),
          failcnt: parseKeyValues(memEvents ?? '').oom ?? 0,
          limit: clampLimit(parseUint(memMax ?? 'max', Number.MAX_SAFE_INTEGER), hostMemory),
        });
  const io = ioStat === null ? null : parseIoStat(ioStat);
  const blkio = { ...nullBlkio(), io_service_bytes_recursive: io && io.length ? io : null };
  const pids = await readPids(dir).catch(() => ({}));
  return { cpu, memory, blkio, pids };
}
