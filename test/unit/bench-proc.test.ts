import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  listProcesses,
  measureEngineMemory,
  parseSmapsRollup,
  parseStat,
  selectEngineProcesses,
  type ProcInfo,
  type ProcessSetSpec,
} from '../../bench/lib/proc.js';

test('parseStat handles comm with spaces and parentheses', () => {
  assert.deepEqual(parseStat('42 (dockerd) S 1 42 42 0 -1 4194560'), { pid: 42, comm: 'dockerd', ppid: 1 });
  assert.deepEqual(parseStat('7 (a b) c)) R 3 7 7 0'), { pid: 7, comm: 'a b) c)', ppid: 3 });
  for (const bad of ['', 'garbage', '12 (x', 'x (y) S z']) assert.throws(() => parseStat(bad), bad);
});

test('parseSmapsRollup reads Rss and Pss in bytes', () => {
  const text = [
    '55d0c0000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]',
    'Rss:               73012 kB',
    'Pss:               71340 kB',
    'Pss_Anon:          60000 kB',
    'Shared_Clean:       2000 kB',
  ].join('\n');
  assert.deepEqual(parseSmapsRollup(text), { rss: 73012 * 1024, pss: 71340 * 1024 });
  assert.throws(() => parseSmapsRollup('Rss: 1 kB\n'), /Pss/);
  assert.throws(() => parseSmapsRollup(''), /Rss/);
});

const p = (pid: number, ppid: number, comm: string, cmdline = comm, hostPidNs = true): ProcInfo => ({
  pid, ppid, comm, cmdline, hostPidNs,
});

test('selectEngineProcesses: daemon tree plus our monitors, never containers or strangers', () => {
  const procs = [
    p(1, 0, 'init'),
    p(100, 1, 'dockerd', 'dockerd -H unix:///b/docker.sock'),
    p(101, 100, 'containerd', 'containerd --config /b/docker-exec/containerd/containerd.toml'),
    p(200, 1, 'containerd-shim', 'containerd-shim-runc-v2 -namespace moby -id a -address /b/docker-exec/containerd/containerd.sock'),
    p(201, 200, 'sleep', 'sleep 600', false), // the container: another pid namespace
    p(300, 1, 'containerd-shim', 'containerd-shim-runc-v2 -namespace moby -id b -address /other/containerd.sock'),
    p(400, 1, 'conmon', 'conmon -b /b/docker-exec/x'), // right path, wrong name
    p(500, 1, 'bash'),
  ];
  const spec: ProcessSetSpec = {
    daemonPids: [100],
    monitorComm: 'containerd-shim',
    markers: ['-address /b/docker-exec/'],
  };
  assert.deepEqual(selectEngineProcesses(procs, spec).map((x) => x.pid), [100, 101, 200]);
  // A daemon pid that is gone, and no markers: nothing but what exists.
  assert.deepEqual(selectEngineProcesses(procs, { daemonPids: [999], monitorComm: 'containerd-shim', markers: [] }), []);
  // Empty markers or comm never match everything.
  assert.deepEqual(selectEngineProcesses(procs, { daemonPids: [], monitorComm: '', markers: [''] }), []);
});

test('selectEngineProcesses follows children of a monitor in our namespace', () => {
  const procs = [
    p(10, 1, 'node', 'node bin/berthd'),
    p(11, 10, 'runc', 'runc create'),
    p(20, 1, 'conmon', 'conmon -b /t/berth-exec/c1'),
    p(21, 20, 'runc', 'runc init'),
    p(22, 20, 'sh', 'sh', false),
  ];
  const spec = { daemonPids: [10], monitorComm: 'conmon', markers: ['/t/berth-root/', '/t/berth-exec/'] };
  assert.deepEqual(selectEngineProcesses(procs, spec).map((x) => x.pid), [10, 11, 20, 21]);
});

test('measureEngineMemory on this very process', async () => {
  const procs = await listProcesses();
  assert.ok(procs.some((x) => x.pid === process.pid && x.hostPidNs));
  const fig = await measureEngineMemory({ daemonPids: [process.pid], monitorComm: '', markers: [] });
  assert.ok(fig.processes >= 1);
  assert.ok(fig.rss > 1024 * 1024, `rss ${fig.rss}`);
  assert.ok(fig.pss > 0 && fig.pss <= fig.rss, `pss ${fig.pss} rss ${fig.rss}`);
  assert.equal(fig.monitors, 0);
});
