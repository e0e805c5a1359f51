import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCgroupStats } from '../../src/runtime/cgroup-stats.js';
import { StatsSampler, statsFrames, ZERO_TIME, type StatsSources, type StatsTarget } from '../../src/runtime/container-stats.js';

const HOST_MEM = 8 * 1024 ** 3;

async function tree(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-stats-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const v1Files = {
  'cpuacct/c/cpuacct.usage': '3000000000\n',
  'cpuacct/c/cpuacct.usage_percpu': '1000000000 2000000000 \n',
  'cpuacct/c/cpuacct.stat': 'user 250\nsystem 40\n',
  'cpu/c/cpu.stat': 'nr_periods 7\nnr_throttled 2\nthrottled_time 900\n',
  'memory/c/memory.stat': 'cache 4096\nrss 8192\nshmem 0\ntotal_inactive_file 1024\nhierarchical_memory_limit 9223372036854771712\n',
  'memory/c/memory.usage_in_bytes': '65536\n',
  'memory/c/memory.max_usage_in_bytes': '131072\n',
  'memory/c/memory.failcnt': '0\n',
  'memory/c/memory.limit_in_bytes': '9223372036854771712\n',
  'blkio/c/blkio.throttle.io_service_bytes': '8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n',
  'blkio/c/blkio.throttle.io_serviced': '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
  'pids/c/pids.current': '3\n',
  'pids/c/pids.max': 'max\n',
};

test('cgroup v1: Docker figures from cpuacct, cpu, memory, blkio (throttle fallback), pids', async (t) => {
  const root = await tree(t, v1Files);
  const d = (c: string) => join(root, c, 'c');
  const s = await readCgroupStats({ version: 1, cpuacct: d('cpuacct'), cpu: d('cpu'), memory: d('memory'), blkio: d('blkio'), pids: d('pids') }, HOST_MEM);
  assert.deepEqual(s.cpu, {
    cpu_usage: { total_usage: 3e9, percpu_usage: [1e9, 2e9], usage_in_kernelmode: 40 * 1e7, usage_in_usermode: 250 * 1e7 },
    throttling_data: { periods: 7, throttled_periods: 2, throttled_time: 900 },
  });
  assert.equal(s.memory.usage, 65536);
  assert.equal(s.memory.max_usage, 131072);
  assert.equal('failcnt' in s.memory, false, 'zero is omitted');
  assert.equal(s.memory.limit, HOST_MEM, 'unlimited reads as host memory');
  assert.equal(Object.keys(s.memory.stats!).length, 32, 'moby reports a fixed set of keys');
  assert.deepEqual(Object.keys(s.memory.stats!), [...Object.keys(s.memory.stats!)].sort(), 'keys sorted like Go maps');
  assert.equal(s.memory.stats!.total_inactive_file, 1024);
  assert.equal(s.memory.stats!.total_rss, 0, 'absent keys read 0');
  assert.equal('shmem' in s.memory.stats!, false, 'keys moby does not report stay out');
  assert.deepEqual(s.blkio.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 8192 },
    { major: 8, minor: 0, op: 'Total', value: 12288 },
  ]);
  assert.equal(s.blkio.io_serviced_recursive!.length, 2);
  assert.deepEqual(s.blkio.sectors_recursive, [], 'empty lists, not null, on v1');
  assert.deepEqual(s.pids, { current: 3 }, 'no limit: omitted');
});

test('cgroup v1: the *_recursive files win when they have entries', async (t) => {
  const root = await tree(t, {
    ...v1Files,
    'blkio/c/blkio.io_serviced_recursive': '8:0 Read 5\nTotal 5\n',
    'blkio/c/blkio.io_service_bytes_recursive': '8:0 Read 20480\nTotal 20480\n',
    ...Object.fromEntries(['sectors_recursive', 'io_queued_recursive', 'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'time_recursive'].map((f) => [`blkio/c/blkio.${f}`, ''])),
  });
  const s = await readCgroupStats({ version: 1, blkio: join(root, 'blkio/c') }, HOST_MEM);
  assert.deepEqual(s.blkio.io_service_bytes_recursive, [{ major: 8, minor: 0, op: 'Read', value: 20480 }]);
  assert.deepEqual(s.blkio.io_serviced_recursive, [{ major: 8, minor: 0, op: 'Read', value: 5 }]);
  assert.deepEqual(s.cpu.cpu_usage, { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, 'no cpuacct: zeros');
});

test('cgroup v2: cpu.stat in µs, memory.current/max/stat/events, io.stat, pids', async (t) => {
  const root = await tree(t, {
    'c/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 20\n',
    'c/memory.current': '1048576\n',
    'c/memory.max': '536870912\n',
    'c/memory.stat': 'anon 4096\nfile 8192\ninactive_file 2048\nsomething_new 1\n',
    'c/memory.events': 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n',
    'c/io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
    'c/pids.current': '2\n',
    'c/pids.max': '100\n',
  });
  const s = await readCgroupStats({ version: 2, dir: join(root, 'c') }, HOST_MEM);
  assert.deepEqual(s.cpu, {
    cpu_usage: { total_usage: 1_500_000, usage_in_kernelmode: 500_000, usage_in_usermode: 1_000_000 },
    throttling_data: { periods: 3, throttled_periods: 1, throttled_time: 20_000 },
  });
  assert.equal(s.memory.usage, 1048576);
  assert.equal(s.memory.limit, 536870912);
  assert.equal(s.memory.failcnt, 2, 'failcnt is the oom count');
  assert.equal('max_usage' in s.memory, false);
  assert.equal(s.memory.stats!.inactive_file, 2048);
  assert.equal('something_new' in s.memory.stats!, false);
  assert.deepEqual(s.blkio.io_service_bytes_recursive, [
    { major: 8, minor: 0, op: 'read', value: 10 },
    { major: 8, minor: 0, op: 'write', value: 20 },
  ]);
  assert.equal(s.blkio.io_serviced_recursive, null, 'v2 fills only the bytes list');
  assert.deepEqual(s.pids, { current: 2, limit: 100 });

  await writeFile(join(root, 'c/memory.max'), 'max\n');
  assert.equal((await readCgroupStats({ version: 2, dir: join(root, 'c') }, HOST_MEM)).memory.limit, HOST_MEM);
});

test('a cgroup that is gone makes readCgroupStats throw', async () => {
  await assert.rejects(readCgroupStats({ version: 2, dir: '/nonexistent/berth-test' }, HOST_MEM));
  await assert.rejects(readCgroupStats({ version: 1, cpuacct: '/nonexistent/berth-test' }, HOST_MEM));
});

// A sampler over a fake cgroup whose CPU counter grows by 1e9 per sample and a host whose
// counter grows by 2e9 (2 CPUs busy for a second): docker's formula then says 100%.
async function fakeSources(t: { after: (fn: () => Promise<void>) => void }): Promise<StatsSources> {
  const root = await tree(t, { 'c/cpu.stat': 'usage_usec 0\n', 'c/pids.current': '1\n' });
  let n = 0;
  let clock = 0;
  return {
    layout: async () => ({ version: 2, mount: root }),
    hostCpu: async () => ({ systemUsage: 1e12 + n * 2e9, onlineCpus: 2 }),
    hostMemory: () => HOST_MEM,
    networks: async () => ({ eth0: { rx_bytes: 1, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 2, tx_packets: 1, tx_errors: 0, tx_dropped: 0 } }),
    now: () => {
      // Each sample: bump the cgroup counter the sampler is about to read.
      n++;
      writeFileSync(join(root, 'c/cpu.stat'), `usage_usec ${n * 1e6}\n`);
      return new Date(Date.UTC(2024, 0, 1, 0, 0, ++clock)).toISOString();
    },
  };
}

const target = (over: Partial<StatsTarget> = {}): StatsTarget => ({ id: 'abc', name: '/web', running: true, pid: 42, cgroupsPath: '/c', hostNetwork: false, ...over });

async function collect<T>(it: AsyncIterable<T>, max = 10): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) {
    out.push(v);
    if (out.length >= max) break;
  }
  return out;
}

test('stream: the first frame has zero precpu, each later one the previous CPU figures', async (t) => {
  const sampler = new StatsSampler(await fakeSources(t));
  const frames = await collect(statsFrames(() => target(), sampler, { stream: true, oneShot: false, intervalMs: 0 }), 3);
  assert.equal(frames.length, 3);
  assert.equal(frames[0]!.preread, ZERO_TIME);
  assert.deepEqual(frames[0]!.precpu_stats, { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
  for (const i of [1, 2]) {
    assert.equal(frames[i]!.preread, frames[i - 1]!.read);
    assert.deepEqual(frames[i]!.precpu_stats, frames[i - 1]!.cpu_stats);
  }
  const f = frames[2]!;
  const cpuDelta = f.cpu_stats.cpu_usage.total_usage - f.precpu_stats.cpu_usage.total_usage;
  const sysDelta = f.cpu_stats.system_cpu_usage! - f.precpu_stats.system_cpu_usage!;
  assert.equal((cpuDelta / sysDelta) * f.cpu_stats.online_cpus! * 100, 100);
  assert.deepEqual(Object.keys(f), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id', 'networks']);
  assert.equal(f.name, '/web');
  assert.equal(f.networks!.eth0!.tx_bytes, 2);
});

test('stream=false samples twice; one-shot once; host network reports no networks', async (t) => {
  const sampler = new StatsSampler(await fakeSources(t));
  const [two] = await collect(statsFrames(() => target(), sampler, { stream: false, oneShot: false, intervalMs: 0 }));
  assert.notEqual(two!.preread, ZERO_TIME);
  assert.ok(two!.cpu_stats.cpu_usage.total_usage > two!.precpu_stats.cpu_usage.total_usage);
  const one = await collect(statsFrames(() => target({ hostNetwork: true }), sampler, { stream: false, oneShot: true, intervalMs: 0 }));
  assert.equal(one.length, 1);
  assert.equal(one[0]!.preread, ZERO_TIME);
  assert.ok(one[0]!.cpu_stats.cpu_usage.total_usage > 0);
  assert.equal('networks' in one[0]!, false);
});

test('a container that is not running: zeros with name and id, once or every interval', async (t) => {
  const sampler = new StatsSampler(await fakeSources(t));
  const stopped = target({ running: false, pid: 0 });
  const [once] = await collect(statsFrames(() => stopped, sampler, { stream: false, oneShot: false, intervalMs: 0 }));
  assert.deepEqual(JSON.parse(JSON.stringify(once)), {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: {},
    name: '/web',
    id: 'abc',
  });
  assert.equal((await collect(statsFrames(() => stopped, sampler, { stream: true, oneShot: false, intervalMs: 0 }), 3)).length, 3);
  const gone = await collect(statsFrames(() => target({ cgroupsPath: '/no/such/cgroup' }), sampler, { stream: false, oneShot: true }));
  assert.equal(gone[0]!.read, ZERO_TIME, 'a cgroup that vanished reads as stopped');
});

test('the stream ends when the container is removed or the client goes', async (t) => {
  const sampler = new StatsSampler(await fakeSources(t));
  let calls = 0;
  const removedAfterTwo = () => (++calls <= 2 ? target() : null);
  assert.equal((await collect(statsFrames(removedAfterTwo, sampler, { stream: true, oneShot: false, intervalMs: 0 }))).length, 2);
  const ac = new AbortController();
  const frames: unknown[] = [];
  for await (const f of statsFrames(() => target(), sampler, { stream: true, oneShot: false, intervalMs: 60_000, signal: ac.signal })) {
    frames.push(f);
    ac.abort(); // the wait for the next sample ends at once
  }
  assert.equal(frames.length, 1);
  assert.equal((await collect(statsFrames(() => null, sampler, { stream: false, oneShot: false }))).length, 0);
});
