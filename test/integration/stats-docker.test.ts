import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { TestDaemon } from '../helpers/daemon.js';
import type { StatsJson } from '../../src/runtime/container-stats.js';

// GET /containers/{id}/stats against a real berthd, read raw and through both CLIs.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
  for (const args of [
    ['--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done'],
    ['--name', 'idle', 'busybox', 'sleep', '600'],
  ]) {
    const run = await d.run(['run', '-d', ...args]);
    assert.equal(run.code, 0, run.stderr + d.log);
  }
  assert.equal((await d.run(['create', '--name', 'never', 'busybox', 'true'])).code, 0);
});
after(async () => {
  await d?.cleanup();
});

function get(path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request({ socketPath: d.sock, path, method: 'GET' }, resolve).on('error', reject).end());
}

async function body(res: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of res) s += chunk;
  return s;
}

// Reads `n` frames of a streaming answer, calling `each` as each one arrives, then hangs up.
async function frames(path: string, n: number, each: (f: StatsJson) => Promise<void> = async () => {}): Promise<StatsJson[]> {
  const res = await get(path);
  assert.equal(res.statusCode, 200);
  const out: StatsJson[] = [];
  let buf = '';
  try {
    for await (const chunk of res) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const f = JSON.parse(buf.slice(0, nl)) as StatsJson;
        buf = buf.slice(nl + 1);
        await each(f);
        out.push(f);
        if (out.length === n) return out;
      }
    }
  } finally {
    res.destroy();
  }
  return out;
}

const dockerCpuPercent = (f: StatsJson): number => {
  const cpuDelta = f.cpu_stats.cpu_usage.total_usage - f.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (f.cpu_stats.system_cpu_usage ?? 0) - (f.precpu_stats.system_cpu_usage ?? 0);
  return sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * (f.cpu_stats.online_cpus ?? 0) * 100 : 0;
};

async function inspect(name: string): Promise<{ Id: string; State: { Pid: number; Status: string } }> {
  const r = await d.run(['inspect', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

// utime + stime of a process, in ns (USER_HZ is 100).
async function processCpuNs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1e7;
}

test('a busy container: CPU the docker way matches what its process really used; memory, pids, shape', async (t) => {
  const { Id, State } = await inspect('busy');
  // The shell spins in its own pid: measure it beside the frames over the same two seconds.
  const seen: Array<{ cpuNs: number; wallNs: bigint }> = [];
  const got = await frames('/containers/busy/stats?stream=1', 3, async () => {
    seen.push({ cpuNs: await processCpuNs(State.Pid), wallNs: process.hrtime.bigint() });
  });
  assert.equal(got.length, 3);
  const [first, , last] = got as [StatsJson, StatsJson, StatsJson];
  assert.equal(first.preread, '0001-01-01T00:00:00Z');
  assert.equal(first.precpu_stats.cpu_usage.total_usage, 0);
  assert.equal(got[2]!.preread, got[1]!.read);
  // Over two frames, docker's formula against the process's own accounting over the same span.
  const spanned = { ...last, precpu_stats: first.cpu_stats };
  const docker = dockerCpuPercent(spanned);
  const proc = ((seen[2]!.cpuNs - seen[0]!.cpuNs) / Number(seen[2]!.wallNs - seen[0]!.wallNs)) * 100;
  t.diagnostic(`docker-way ${docker.toFixed(1)}%, /proc ${proc.toFixed(1)}%`);
  assert.ok(docker > 10, `a spinning shell uses CPU: ${docker.toFixed(1)}%`);
  assert.ok(Math.abs(docker - proc) < Math.max(12, proc * 0.25), `docker-way ${docker.toFixed(1)}% vs /proc ${proc.toFixed(1)}%`);

  assert.equal(last.name, '/busy');
  assert.equal(last.id, Id);
  assert.ok((last.memory_stats.usage ?? 0) > 0);
  assert.equal(last.memory_stats.limit, totalmem(), 'no memory limit: the host memory');
  assert.ok((last.pids_stats.current ?? 0) >= 1);
  assert.equal(last.cpu_stats.online_cpus, (await readFile('/proc/stat', 'utf8')).split('\n').filter((l) => /^cpu\d+ /.test(l)).length);
  assert.ok(!last.networks || !('lo' in last.networks), 'loopback is not reported');
  assert.deepEqual(Object.keys(last).slice(0, 9), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats']);
});

test('an idle container uses next to no CPU', async () => {
  const [f] = await frames('/containers/idle/stats?stream=0', 1);
  assert.notEqual(f!.preread, '0001-01-01T00:00:00Z', 'stream=0 samples twice');
  assert.ok(dockerCpuPercent(f!) < 5, `${dockerCpuPercent(f!)}%`);
});

test('one-shot: a single sample, no precpu; stream with one-shot is refused', async () => {
  const [f] = await frames('/containers/busy/stats?stream=0&one-shot=1', 1);
  assert.equal(f!.preread, '0001-01-01T00:00:00Z');
  assert.ok(f!.cpu_stats.cpu_usage.total_usage > 0);
  const res = await get('/containers/busy/stats?stream=1&one-shot=1');
  assert.equal(res.statusCode, 400);
  assert.equal(JSON.parse(await body(res)).message, 'cannot have stream=true and one-shot=true');
  const missing = await get('/containers/nosuch/stats?stream=0');
  assert.equal(missing.statusCode, 404);
  await body(missing);
});

test('a container that never ran: zeros with its name, once or streamed', async () => {
  const [f] = await frames('/containers/never/stats?stream=0', 1);
  assert.equal(f!.name, '/never');
  assert.equal(f!.read, '0001-01-01T00:00:00Z');
  assert.deepEqual(f!.memory_stats, {});
  assert.deepEqual(f!.pids_stats, {});
  assert.equal(f!.blkio_stats.io_service_bytes_recursive, null);
  const streamed = await frames('/containers/never/stats', 2);
  assert.equal(streamed.length, 2);
  assert.ok(streamed.every((s) => s.cpu_stats.cpu_usage.total_usage === 0));
});

test('a paused container: the CPU counter stands still', async () => {
  assert.equal((await d.run(['pause', 'busy'])).code, 0);
  try {
    const [f] = await frames('/containers/busy/stats?stream=0', 1);
    assert.ok(f!.cpu_stats.cpu_usage.total_usage > 0);
    assert.equal(f!.cpu_stats.cpu_usage.total_usage, f!.precpu_stats.cpu_usage.total_usage);
    assert.equal(dockerCpuPercent(f!), 0);
  } finally {
    assert.equal((await d.run(['unpause', 'busy'])).code, 0);
  }
});

test('docker stats and berth stats --no-stream print a row per running container', async () => {
  for (const cli of ['docker', 'berth'] as const) {
    const r = await d.run(['stats', '--no-stream'], { cli });
    assert.equal(r.code, 0, `${cli}: ${r.stderr}`);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/, cli);
    const busy = lines.find((l) => /\sbusy\s/.test(l));
    assert.ok(busy, `${cli}: ${r.stdout}`);
    assert.match(busy!, /^[0-9a-f]{12}\s+busy\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+[1-9]\d*$/, cli);
    assert.ok(!lines.some((l) => /\snever\s/.test(l)), `${cli}: only running containers without -a`);

    const f = await d.run(['stats', '--no-stream', '--format', '{{.Name}} {{.CPUPerc}}', 'busy', 'idle'], { cli });
    assert.equal(f.code, 0, `${cli}: ${f.stderr}`);
    const rows = f.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 2, f.stdout);
    assert.match(rows[0]!, /^busy \d+\.\d\d%$/);
    assert.match(rows[1]!, /^idle \d+\.\d\d%$/);

    const stopped = await d.run(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'never'], { cli });
    assert.equal(stopped.stdout, 'never 0B / 0B 0\n', `${cli}: ${stopped.stderr}`);
  }
});
