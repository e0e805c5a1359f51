import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, readFile, truncate, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon, berthEntry, runCommand } from '../helpers/daemon.js';

// The tutorial's "docker资源限制" and "深入理解cgroups" sections: what the flags write into
// the cgroup files, and what those limits do to real workloads (the stress image).
let d: TestDaemon;
const NCPU = availableParallelism();
const MB = 1024 * 1024;
const repo = resolve(import.meta.dirname, '../..');

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

const ok = async (args: string[]): Promise<string> => {
  const r = await d.run(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const runDetached = async (args: string[]): Promise<string> => (await ok(['run', '-d', ...args])).trim();
const cgroupFile = (ctrl: string, id: string, file: string): string => `/sys/fs/cgroup/${ctrl}${d.cgroupParent}/${id}/${file}`;
const cat = async (ctrl: string, id: string, file: string): Promise<string> => (await readFile(cgroupFile(ctrl, id, file), 'utf8')).trim();
const inspect = async (ref: string): Promise<Record<string, any>> => JSON.parse(await ok(['inspect', ref]))[0];
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);

async function waitExited(id: string): Promise<Record<string, any>> {
  const code = await ok(['wait', id]);
  const st = (await inspect(id)).State;
  assert.equal(String(st.ExitCode), code.trim());
  return st;
}

test('the cgroup files hold what the tutorial cats', async (t) => {
  if (!(await exists('/sys/fs/cgroup/cpu/cpu.shares'))) return t.skip('these are cgroup v1 files; this host has another layout');
  const id = await runDetached(['--cpu-period=100000', '--cpu-quota=20000', '-c', '512', '--cpuset-cpus=0', '-m', '64m', '--memory-reservation', '32m', '--pids-limit', '50', 'busybox', 'sleep', '600']);
  t.after(() => d.run(['rm', '-f', id]));
  assert.equal(await cat('cpu', id, 'cpu.cfs_period_us'), '100000');
  assert.equal(await cat('cpu', id, 'cpu.cfs_quota_us'), '20000');
  assert.equal(await cat('cpu', id, 'cpu.shares'), '512');
  assert.equal(await cat('cpuset', id, 'cpuset.cpus'), '0');
  assert.equal(await cat('memory', id, 'memory.limit_in_bytes'), String(64 * MB));
  assert.equal(await cat('memory', id, 'memory.soft_limit_in_bytes'), String(32 * MB));
  assert.equal(await cat('pids', id, 'pids.max'), '50');
  const h = (await inspect(id)).HostConfig;
  assert.equal(h.Memory, 64 * MB);
  assert.equal(h.CpuShares, 512);
  assert.equal(h.CpuQuota, 20000);
  // --memory-swap unset: memory + swap is twice the memory (when the host accounts swap).
  if (await exists('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) {
    assert.equal(h.MemorySwap, 128 * MB);
    assert.equal(await cat('memory', id, 'memory.memsw.limit_in_bytes'), String(128 * MB));
    const id2 = await runDetached(['-m', '64m', '--memory-swap', '100m', 'busybox', 'sleep', '600']);
    t.after(() => d.run(['rm', '-f', id2]));
    assert.equal(await cat('memory', id2, 'memory.memsw.limit_in_bytes'), String(100 * MB));
  } else {
    const r = await d.run(['run', '--rm', '-m', '64m', 'busybox', 'true']);
    assert.match(r.stderr, /WARNING: Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap./);
  }
  // --cpus is a quota of 100ms periods.
  const id3 = await runDetached(['--cpus', '0.5', '--oom-kill-disable', '-m', '32m', 'busybox', 'sleep', '600']);
  t.after(() => d.run(['rm', '-f', id3]));
  assert.equal(await cat('cpu', id3, 'cpu.cfs_quota_us'), '50000');
  assert.match(await cat('memory', id3, 'memory.oom_control'), /oom_kill_disable 1/);
  // Inside, the container sees its own cgroup: the tutorial's /sys/fs/cgroup/cpu read from within.
  assert.equal(await ok(['exec', id, 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']), '20000\n');
});

test('limits out of range are refused with Docker\'s messages; what the host lacks is warned about', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--cpus', String(NCPU + 6)], new RegExp(`Range of CPUs is from 0.01 to ${NCPU}.00, as there are only ${NCPU} CPUs available`)],
    [['-m', '1m'], /Minimum memory limit allowed is 6MB/],
    [['--cpuset-cpus', '0-63'], /Requested CPUs are not available - requested 0-63/],
    [['-m', '64m', '--memory-swap', '32m'], /Minimum memoryswap limit should be larger than memory limit, see usage/],
    [['--cpu-quota', '500'], /CPU cfs quota can not be less than 1ms/],
    [['--ulimit', 'nofile=30000:30000'], /ulimit nofile: hard limit 30000 is above the host's hard limit/],
  ];
  for (const [flags, re] of cases) {
    const r = await d.run(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    const k = await d.docker(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.equal(k.code, 125);
    assert.match(k.stderr, new RegExp(`docker: Error response from daemon: ${re.source}`));
  }
  if (!(await exists('/sys/fs/cgroup/blkio/blkio.weight')) && !(await exists('/sys/fs/cgroup/blkio/blkio.bfq.weight'))) {
    const r = await d.run(['run', '--rm', '--blkio-weight', '300', 'busybox', 'echo', 'ran']);
    assert.equal(r.stdout, 'ran\n');
    assert.match(r.stderr, /WARNING: Your kernel does not support Block I\/O weight or the cgroup is not mounted. Weight discarded./);
  }
});

test('-m 64m and a process that wants 100M: OOM-killed, OOMKilled true, 137, an oom event before die', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await d.run(['run', '--name', 'oomer', '-m', '64m', 'busybox', 'sh', '-c', 'x=$(head -c 100m /dev/zero | tr "\\0" a); echo ${#x}']);
  assert.equal(r.code, 137, r.stderr);
  const st = (await inspect('oomer')).State;
  assert.equal(st.OOMKilled, true);
  assert.equal(st.ExitCode, 137);
  const ev = await ok(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=oomer', '--format', '{{.Action}}']);
  const actions = ev.split('\n').filter(Boolean);
  assert.ok(actions.includes('oom'), ev);
  assert.ok(actions.indexOf('oom') < actions.indexOf('die'), ev);
  // A start that does not run out of memory clears it.
  await ok(['start', 'oomer']);
  await waitExited('oomer');
  await ok(['rm', 'oomer']);
});

test('update changes the limits of a running container, and inspect shows them', async (t) => {
  const id = await runDetached(['-m', '64m', 'busybox', 'sleep', '600']);
  t.after(() => d.run(['rm', '-f', id]));
  assert.equal(await ok(['update', '--memory', '100m', '--pids-limit', '20', '--cpu-shares', '256', id]), `${id}\n`);
  assert.equal(await cat('memory', id, 'memory.limit_in_bytes'), String(100 * MB));
  assert.equal(await cat('pids', id, 'pids.max'), '20');
  assert.equal(await cat('cpu', id, 'cpu.shares'), '256');
  const h = (await inspect(id)).HostConfig;
  assert.equal(h.Memory, 100 * MB);
  assert.equal(h.PidsLimit, 20);
  const stats = await d.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
  assert.match(stats.stdout, /\/ 100MiB$/m, stats.stderr);
  // Through the docker CLI: --cpus becomes a quota; Docker's conflict message for too much memory.
  const k = await d.docker(['update', '--cpus', '0.5', id]);
  assert.equal(k.code, 0, k.stderr);
  assert.equal(await cat('cpu', id, 'cpu.cfs_quota_us'), '50000');
  const big = await d.docker(['update', '--memory', '1g', id]);
  assert.notEqual(big.code, 0);
  assert.match(big.stderr, new RegExp(`Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`));
  assert.equal(await cat('memory', id, 'memory.limit_in_bytes'), String(100 * MB));
  // --pids-limit -1 (or 0) lifts the limit; inspect shows 0 as dockerd keeps it.
  assert.equal((await d.docker(['update', '--pids-limit', '-1', id])).code, 0);
  assert.equal(await cat('pids', id, 'pids.max'), 'max');
  assert.equal((await inspect(id)).HostConfig.PidsLimit, 0);
  // A stopped container keeps the new values for its next start.
  await ok(['stop', '-t', '0', id]);
  await ok(['update', '--memory', '80m', '--memory-swap', '160m', id]);
  await ok(['start', id]);
  assert.equal(await cat('memory', id, 'memory.limit_in_bytes'), String(80 * MB));
});

test('--pids-limit stops forks; --ulimit nofile=1024:2048 is what ulimit says inside', async () => {
  const r = await d.run(['run', '--rm', '--pids-limit', '10', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 20); do sleep 30 & done 2>&1 | grep -c "fork" ; kill $(jobs -p) 2>/dev/null; true']);
  assert.equal(r.code, 0, r.stderr);
  const [max, failures] = r.stdout.trim().split('\n');
  assert.equal(max, '10');
  assert.ok(Number(failures) > 0, r.stdout + r.stderr);
  assert.equal(await ok(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']), '1024\n2048\n');
  const k = await d.docker(['run', '--rm', '--ulimit', 'nofile=1024:2048', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
  assert.equal(k.stdout, '1024\n2048\n');
  // -1 is unlimited (RLIM_INFINITY), in the container and in an exec into it.
  const id = (await ok(['run', '-d', '--ulimit', 'core=-1', 'busybox', 'sleep', '600'])).trim();
  try {
    assert.equal(await ok(['exec', id, 'sh', '-c', 'ulimit -c; ulimit -Hc']), 'unlimited\nunlimited\n');
    assert.deepEqual((await inspect(id)).HostConfig.Ulimits, [{ Name: 'core', Hard: -1, Soft: -1 }]);
  } finally {
    await d.run(['rm', '-f', id]);
  }
  const kc = await d.docker(['run', '--rm', '--ulimit', 'core=-1', 'busybox', 'sh', '-c', 'ulimit -c']);
  assert.equal(kc.stdout, 'unlimited\n', kc.stderr);
});

test('--device-read-bps holds dd near the limit on a loop device', async (t) => {
  const img = join(d.dir, 'loop.img');
  await writeFile(img, '');
  await truncate(img, 16 * MB);
  let loop: string;
  try {
    loop = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
  } catch (err) {
    return t.skip(`no loop device: ${(err as Error).message}`);
  }
  t.after(() => execFileSync('losetup', ['-d', loop]));
  const out = await ok([
    'run', '--rm', '--device', `${loop}:/dev/xvda`, '--device-read-bps', `${loop}:1mb`, 'busybox', 'sh', '-c',
    'cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device; time dd if=/dev/xvda of=/dev/null bs=1M count=3 iflag=direct 2>&1 | grep real',
  ]);
  const [rule, report] = out.trim().split('\n');
  assert.match(rule!, /^\d+:\d+ 1048576$/);
  // busybox time: "real\t0m 3.01s". 3 MB at 1 MB/s.
  const m = /(\d+)m ([\d.]+)s/.exec(report ?? '');
  const secs = Number(m?.[1]) * 60 + Number(m?.[2]);
  assert.ok(secs >= 2.5 && secs < 6, report);
  // The tutorial's second experiment, through the docker CLI: 100 reads a second, 200 reads of 1k.
  const k = await d.docker([
    'run', '--rm', '--device', `${loop}:/dev/xvda`, '--device-read-iops', `${loop}:100`, 'busybox', 'sh', '-c',
    'cat /sys/fs/cgroup/blkio/blkio.throttle.read_iops_device; time dd iflag=direct if=/dev/xvda of=/dev/null bs=1k count=200 2>&1 | grep real',
  ]);
  assert.equal(k.code, 0, k.stderr);
  const [iopsRule, iopsReport] = k.stdout.trim().split('\n');
  assert.match(iopsRule!, /^\d+:\d+ 100$/);
  const mi = /(\d+)m ([\d.]+)s/.exec(iopsReport ?? '');
  const iopsSecs = Number(mi?.[1]) * 60 + Number(mi?.[2]);
  assert.ok(iopsSecs >= 1.5 && iopsSecs < 5, iopsReport);
});

// ---- the stress experiments ---------------------------------------------------------------

async function buildStress(): Promise<void> {
  const r = await runCommand(join(repo, 'scripts/stress-image.sh'), [process.execPath, berthEntry, '-H', d.host], undefined, process.env);
  assert.equal(r.code, 0, r.stderr);
}

// CPU seconds per second of a container (cpuacct.usage), next to what the rest of the host
// used meanwhile (/proc/stat), so a busy host can be told from a wrong limit.
async function cpuRate(ids: string[], ms: number): Promise<{ rates: number[]; othersCpus: number }> {
  const usage = (id: string): Promise<number> => readFile(cgroupFile('cpuacct', id, 'cpuacct.usage'), 'utf8').then(Number);
  const busy = async (): Promise<number> => {
    const f = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (f.reduce((a, b) => a + b, 0) - f[3]! - f[4]!) / 100; // seconds, USER_HZ 100
  };
  const u0 = await Promise.all(ids.map(usage));
  const b0 = await busy();
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const u1 = await Promise.all(ids.map(usage));
  const b1 = await busy();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const rates = ids.map((_, i) => (u1[i]! - u0[i]!) / 1e9 / secs);
  return { rates, othersCpus: Math.max(0, (b1 - b0) / secs - rates.reduce((a, b) => a + b, 0)) };
}

async function untilRunning(id: string): Promise<void> {
  // stress forks its workers at once; give them one scheduling period to exist.
  for (let i = 0; i < 100; i++) {
    const pids = (await readFile(cgroupFile('pids', id, 'cgroup.procs'), 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (pids.length > 1) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('stress: --cpus 1.5 with --cpu 3 uses 1.5 CPUs', async (t) => {
  if (NCPU < 2) return t.skip('needs 2 CPUs');
  await buildStress();
  // As the tutorial types it, through the real docker CLI.
  const k = await d.docker(['run', '-d', '--cpus', '1.5', 'stress', '--cpu', '3']);
  assert.equal(k.code, 0, k.stderr);
  const id = k.stdout.trim();
  t.after(() => d.run(['rm', '-f', id]));
  await untilRunning(id);
  const { rates, othersCpus } = await cpuRate([id], 3000);
  const rate = rates[0]!;
  // The limit is a ceiling: never above, whatever else runs.
  assert.ok(rate <= 1.65, `used ${rate.toFixed(3)} CPUs`);
  // It is also reached, unless the rest of the host left less than that free.
  if (NCPU - othersCpus >= 1.65) assert.ok(rate >= 1.35, `used ${rate.toFixed(3)} CPUs with ${othersCpus.toFixed(2)} CPUs busy elsewhere`);
  else t.diagnostic(`host busy (${othersCpus.toFixed(2)} CPUs elsewhere): checked the ceiling only, used ${rate.toFixed(3)}`);
  assert.match(await ok(['logs', id]), /dispatching hogs: 3 cpu, 0 io, 0 vm, 0 hdd/);
});

test('stress: --cpuset-cpus=0 keeps all work on CPU 0; -c 512 gets half of a default container there', async (t) => {
  if (NCPU < 2) return t.skip('needs 2 CPUs');
  await buildStress();
  const pinned = await runDetached(['--cpuset-cpus=0', 'stress', '--cpu', '2']);
  t.after(() => d.run(['rm', '-f', pinned]));
  await untilRunning(pinned);
  await cpuRate([pinned], 1000);
  const perCpu = (await readFile(cgroupFile('cpuacct', pinned, 'cpuacct.usage_percpu'), 'utf8')).trim().split(/\s+/).map(Number);
  assert.ok(perCpu[0]! > 0);
  assert.ok(perCpu.slice(1).every((n) => n === 0), `usage per CPU: ${perCpu.join(' ')}`);
  assert.equal(await ok(['exec', pinned, 'grep', 'Cpus_allowed_list', '/proc/self/status']), 'Cpus_allowed_list:\t0\n');
  await ok(['rm', '-f', pinned]);
  // Two busy containers on one core: CPU time splits by their shares, 1024 : 512.
  const full = await runDetached(['--cpuset-cpus=0', 'stress', '--cpu', '1']);
  const k = await d.docker(['run', '-d', '--cpuset-cpus=0', '-c', '512', 'stress', '--cpu', '1']);
  assert.equal(k.code, 0, k.stderr);
  const half = k.stdout.trim();
  t.after(() => d.run(['rm', '-f', full, half]));
  await Promise.all([untilRunning(full), untilRunning(half)]);
  const { rates } = await cpuRate([full, half], 3000);
  const ratio = rates[1]! / rates[0]!;
  assert.ok(Math.abs(ratio - 0.5) <= 0.5 * 0.15, `-c 512 got ${rates[1]!.toFixed(3)}, the default ${rates[0]!.toFixed(3)}: ratio ${ratio.toFixed(3)}`);
});

test('stress: -m 64m with --vm-bytes 100M is OOM-killed, a smaller one keeps running', async (t) => {
  await buildStress();
  const r = await d.docker(['run', '--name', 'vm100', '-m', '64m', 'stress', '--vm', '1', '--vm-bytes', '100M', '--vm-hang', '0']);
  t.after(() => d.run(['rm', '-f', 'vm100']));
  // As in the tutorial: the worker gets signal 9, stress itself reports the failure.
  assert.equal(r.code, 1);
  assert.match(r.stderr, /worker \d+ got signal 9/);
  assert.equal((await inspect('vm100')).State.OOMKilled, true);
  // The tutorial's 64M fits there thanks to its host's swap (memory+swap = 128M). This host
  // may have none, so the run that must survive asks for less than the limit.
  const swapTotal = Number(/^SwapTotal:\s+(\d+)/m.exec(await readFile('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const id = await runDetached(['-m', '64m', 'stress', '--vm', '1', '--vm-bytes', swapTotal > 128 * 1024 ? '64M' : '48M', '--vm-hang', '0']);
  t.after(() => d.run(['rm', '-f', id]));
  for (let i = 0; i < 200 && !(await ok(['logs', id]).catch(() => '')).includes('sleeping forever'); i++) await new Promise((res) => setTimeout(res, 25));
  const st = (await inspect(id)).State;
  assert.equal(st.Running, true, JSON.stringify(st));
  assert.equal(st.OOMKilled, false);
});

test('cgroup directories are gone with their containers', async () => {
  const id = await runDetached(['-m', '32m', 'busybox', 'sleep', '600']);
  assert.ok(await exists(cgroupFile('memory', id, 'memory.limit_in_bytes')));
  await ok(['rm', '-f', id]);
  assert.ok(!(await exists(join('/sys/fs/cgroup/memory', d.cgroupParent, id))));
});

test('--cgroup-parent puts the container below the parent it names; top and stats find it there', async (t) => {
  if (!(await exists('/sys/fs/cgroup/memory/memory.limit_in_bytes'))) return t.skip('these are cgroup v1 files; this host has another layout');
  // A parent of the test daemon's own (so its cleanup removes it too), given without the
  // leading slash as users often do: dockerd takes it from the hierarchy's root.
  const parent = `${d.cgroupParent.slice(1)}/own-parent`;
  const id = await runDetached(['--cgroup-parent', parent, '-m', '48m', 'busybox', 'sleep', '600']);
  t.after(async () => {
    await d.run(['rm', '-f', id]);
    const { rmdir, readdir } = await import('node:fs/promises');
    for (const ctrl of await readdir('/sys/fs/cgroup')) await rmdir(join('/sys/fs/cgroup', ctrl, parent)).catch(() => {});
  });
  assert.equal(await readFile(join('/sys/fs/cgroup/memory', parent, id, 'memory.limit_in_bytes'), 'utf8').then((s) => s.trim()), String(48 * MB));
  assert.ok(!(await exists(cgroupFile('memory', id, 'memory.limit_in_bytes'))), 'not below the daemon\'s parent');
  assert.equal((await inspect(id)).HostConfig.CgroupParent, parent);
  assert.match(await ok(['top', id]), /sleep 600/);
  const stats = JSON.parse(await ok(['stats', '--no-stream', '--format', '{{json .}}', id]));
  assert.equal(stats.MemUsage.split(' / ')[1], '48MiB');
});
