import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHybridHierarchies } from '../../src/runtime/cgroup-hierarchies.js';
import { createFailure, execFailure, isNoSuchContainer, needsLookup, runtimeErrorMessage } from '../../src/runtime/runtime-errors.js';
import { cgroupMountPoints, crunCgroupDirs, parseCrunStatus } from '../../src/runtime/crun-shortcuts.js';
import { parseRuncState } from '../../src/runtime/runc-shortcuts.js';
import { procStatAlive } from '../../src/runtime/init-process.js';
import { liftedPidsLimit } from '../../src/runtime/crun-quirks.js';
import { RuntimeTable, runtimeKind, runtimeRoot } from '../../src/runtime/oci-runtimes.js';
import { runtimesConfig } from '../../src/daemon/config.js';
import { exitCodeForRuncError } from '../../src/runtime/conmon-runtime.js';
import { execStartExitCode } from '../../src/runtime/exec-process.js';

// This host's /proc/cgroups: hugetlb has no v1 hierarchy (0) and cgroup2 offers it.
const PROC_CGROUPS = `#subsys_name\thierarchy\tnum_cgroups\tenabled
cpuset\t3\t15\t1
cpu\t1\t15\t1
memory\t4\t249\t1
net_cls\t0\t15\t1
perf_event\t0\t15\t1
hugetlb\t0\t15\t1
rdma\t0\t1\t0
pids\t8\t15\t1
`;

test('hybrid hosts: which controllers get a v1 hierarchy of their own', () => {
  const cases: Array<[string, string, string, { mount: string[]; inUse: string[] }]> = [
    ['this host', 'hugetlb\n', '', { mount: ['hugetlb'], inUse: [] }],
    ['nothing on cgroup2: nothing to do', '', '', { mount: [], inUse: [] }],
    // Enabled for cgroup2's children: cgroups there use it; the mount would fail (EBUSY).
    ['in use on cgroup2', 'hugetlb\n', 'hugetlb\n', { mount: [], inUse: ['hugetlb'] }],
    // memory already has hierarchy 4: cgroup2 cannot really offer it; never remounted.
    ['a controller v1 already has', 'memory hugetlb', '', { mount: ['hugetlb'], inUse: [] }],
    // net_cls has no hierarchy but cgroup2 does not list it: not crun's concern.
    ['v1-only controllers are left alone', 'hugetlb', '', { mount: ['hugetlb'], inUse: [] }],
    // A disabled controller (cgroup_disable=) is never mounted.
    ['disabled controllers', 'rdma', '', { mount: [], inUse: [] }],
    // cgroup2 lists one /proc/cgroups does not know: it cannot be moved, crun stays out.
    ['unknown to /proc/cgroups', 'misc hugetlb', '', { mount: ['hugetlb'], inUse: ['misc'] }],
  ];
  for (const [name, controllers, subtree, want] of cases) {
    assert.deepEqual(planHybridHierarchies(PROC_CGROUPS, controllers, subtree), want, name);
  }
  assert.deepEqual(planHybridHierarchies('', '', ''), { mount: [], inUse: [] }, 'empty input');
  assert.deepEqual(planHybridHierarchies('garbage\n\n  \n', 'hugetlb', ''), { mount: [], inUse: ['hugetlb'] }, 'unparseable /proc/cgroups');
});

test('crun errors in runc\'s words, with the exit codes moby derives from them', () => {
  const create: Array<[string, string, boolean | undefined, string, number]> = [
    ['executable file `nosuch` not found in $PATH: No such file or directory', 'nosuch', undefined,
      'crun create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 127],
    ['executable file `/nonexist` not found in $PATH: No such file or directory', '/nonexist', undefined,
      'crun create failed: unable to start container process: exec: "/nonexist": stat /nonexist: no such file or directory', 127],
    // crun's "open executable" names nothing: the caller looked the path up.
    ['open executable: Operation not permitted', '/nonexist', false,
      'crun create failed: unable to start container process: exec: "/nonexist": stat /nonexist: no such file or directory', 127],
    ['open executable: Operation not permitted', '/etc', true,
      'crun create failed: unable to start container process: exec: "/etc": permission denied', 126],
    ['open executable: Permission denied', './noexec', true,
      'crun create failed: unable to start container process: exec: "./noexec": permission denied', 126],
    // Anything else keeps crun's words.
    ['mount `proc` to `/proc`: Operation not permitted', 'sh', undefined, 'mount `proc` to `/proc`: Operation not permitted', 128],
    ['', 'sh', undefined, '', 128],
  ];
  for (const [crun, command, exists, want, code] of create) {
    const got = createFailure('crun', crun, { command, exists });
    assert.equal(got, want, crun);
    assert.equal(exitCodeForRuncError(got, command), code, crun);
  }
  // runc's own messages pass through untouched.
  const runc = 'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH';
  assert.equal(createFailure('runc', runc, { command: 'x' }), runc);

  const exec: Array<[string, string, string, number]> = [
    ['executable file `nosuch` not found in $PATH: No such file or directory', 'nosuch',
      'exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 127],
    ['open executable: Operation not permitted', '/etc',
      'exec failed: unable to start container process: exec: "/etc": permission denied', 126],
    ['chdir `/nonexist`: No such file or directory', 'pwd',
      'exec failed: unable to start container process: chdir to cwd ("/nonexist") set in config.json failed: no such file or directory', 127],
  ];
  for (const [crun, command, want, code] of exec) {
    const got = execFailure('crun', crun, { command, exists: true });
    assert.equal(got, want, crun);
    assert.equal(execStartExitCode(got), code, crun);
  }
  assert.equal(needsLookup('crun', 'open executable: Permission denied'), true);
  assert.equal(needsLookup('crun', 'executable file `x` not found in $PATH'), false);
  assert.equal(needsLookup('runc', 'open executable: Permission denied'), false);
});

test('"no such container" as each runtime says it', () => {
  const cases: Array<['runc' | 'crun', string, boolean]> = [
    ['runc', 'container does not exist', true],
    ['runc', 'container not running', false],
    ['crun', 'error opening file `/run/berth/runtime-crun/abc/status`: No such file or directory', true],
    ['crun', "cannot open directory '/run/berth/runtime-crun/abc': No such file or directory", true],
    ['crun', 'kill container: No such process', false],
    ['crun', 'open `/etc/x`: No such file or directory', false],
  ];
  for (const [kind, msg, want] of cases) assert.equal(isNoSuchContainer(kind, msg), want, `${kind}: ${msg}`);
});

test('JSON error logs of both runtimes', () => {
  assert.equal(runtimeErrorMessage('{"level":"error","msg":"runc said","time":"x"}\n'), 'runc said');
  assert.equal(runtimeErrorMessage('{"msg":"crun said","level":"error","time":"x"}\n'), 'crun said');
  assert.equal(runtimeErrorMessage('{"msg":"a warning","level":"warning"}\n{"msg":"the error","level":"error"}\n'), 'the error');
  assert.equal(runtimeErrorMessage('plain text\n'), 'plain text');
  assert.equal(runtimeErrorMessage(''), '');
});

test('state files: crun\'s status and runc\'s state.json', () => {
  const status = JSON.stringify({ pid: 3659, 'process-start-time': 2082985, 'cgroup-path': '/berth/abc', scope: '', rootfs: 'rootfs', 'systemd-cgroup': false, bundle: '/b', created: 'x', owner: 'root', detached: true });
  assert.deepEqual(parseCrunStatus(status), { pid: 3659, processStartTime: 2082985, cgroupPath: '/berth/abc', systemdCgroup: false });
  for (const bad of ['', '{', '{}', '{"pid":"1","process-start-time":2,"cgroup-path":"/x"}', '{"pid":1,"process-start-time":2}', 'null']) {
    assert.equal(parseCrunStatus(bad), null, bad);
  }
  assert.equal(parseRuncState('{"init_process_pid":5,"init_process_start":7}')?.init_process_pid, 5);
  for (const bad of ['', '{}', '{"init_process_pid":5}', '[]']) assert.equal(parseRuncState(bad), null, bad);

  const mountinfo = [
    '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
    '31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
    '32 30 0:28 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd',
    '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '34 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '35 25 0:31 / /mnt/my\\040cg rw - cgroup cgroup rw,pids',
  ].join('\n');
  const mounts = cgroupMountPoints(mountinfo);
  assert.deepEqual(mounts, ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/memory', '/mnt/my cg']);
  // Only under /sys/fs/cgroup, and never a hierarchy's root or a path out of it.
  assert.deepEqual(crunCgroupDirs(mounts, '/berth/abc'), ['/sys/fs/cgroup/unified/berth/abc', '/sys/fs/cgroup/systemd/berth/abc', '/sys/fs/cgroup/cpu,cpuacct/berth/abc', '/sys/fs/cgroup/memory/berth/abc']);
  for (const bad of ['', '/', 'berth/abc', '/berth/../..', '/./x']) assert.equal(crunCgroupDirs(mounts, bad), null, bad);
});

test('init liveness from /proc/<pid>/stat', () => {
  const stat = (state: string, start: number): string => `123 (my (odd) cmd) ${state} 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${start} 1000 10`;
  assert.equal(procStatAlive(stat('S', 500), 500), true);
  assert.equal(procStatAlive(stat('R', 500), 500), true);
  assert.equal(procStatAlive(stat('Z', 500), 500), false);
  assert.equal(procStatAlive(stat('S', 501), 500), false, 'pid reused');
  assert.equal(procStatAlive('', 500), false);
});

test('crun 1.8 and an update that lifts the pids limit', () => {
  assert.deepEqual(liftedPidsLimit({ pids: { limit: -1 }, cpu: { shares: 256 } }), { rest: { cpu: { shares: 256 } }, lift: true });
  assert.deepEqual(liftedPidsLimit({ pids: { limit: 0 } }), { rest: {}, lift: true });
  assert.deepEqual(liftedPidsLimit({ pids: { limit: 20 } }), { rest: { pids: { limit: 20 } }, lift: false });
  assert.deepEqual(liftedPidsLimit({ memory: { limit: 1 } }), { rest: { memory: { limit: 1 } }, lift: false });
});

test('the runtime table: names, the default, Docker\'s errors', () => {
  assert.equal(runtimeKind('/usr/bin/crun'), 'crun');
  assert.equal(runtimeKind('/opt/crun-1.14'), 'crun');
  assert.equal(runtimeKind('/usr/sbin/runc'), 'runc');
  assert.equal(runtimeKind('/usr/local/bin/my-runtime'), 'runc');
  assert.equal(runtimeRoot('/run/berth', 'runc'), '/run/berth/runc');
  assert.equal(runtimeRoot('/run/berth', 'crun'), '/run/berth/runtime-crun');
  const t = new RuntimeTable([
    { name: 'runc', path: '/usr/sbin/runc', args: [], kind: 'runc', root: '/r/runc' },
    { name: 'crun', path: '/usr/bin/crun', args: ['--debug'], kind: 'crun', root: '/r/runtime-crun' },
  ], 'crun');
  assert.equal(t.default.name, 'crun');
  assert.equal(t.resolve(undefined), 'crun');
  assert.equal(t.resolve(''), 'crun');
  assert.equal(t.resolve('runc'), 'runc');
  assert.throws(() => t.resolve('nvidia'), /^Error: unknown or invalid runtime name: nvidia$|unknown or invalid runtime name: nvidia/);
  assert.deepEqual(t.info(), { runc: { path: '/usr/sbin/runc' }, crun: { path: '/usr/bin/crun', runtimeArgs: ['--debug'] } });
  assert.throws(() => new RuntimeTable([], 'runc'), /specified default runtime 'runc' does not exist/);
});

test('runtimes from --add-runtime and daemon.json', () => {
  assert.deepEqual(runtimesConfig(['my=/opt/my'], undefined), { my: { path: '/opt/my' } });
  assert.deepEqual(runtimesConfig(undefined, { c2: { path: '/usr/bin/crun', runtimeArgs: ['--cgroup-manager=cgroupfs'] } }), { c2: { path: '/usr/bin/crun', runtimeArgs: ['--cgroup-manager=cgroupfs'] } });
  assert.deepEqual(runtimesConfig(undefined, null), {});
  for (const bad of ['my', '=/x', 'my=']) assert.throws(() => runtimesConfig([bad], undefined), /is not in the format runtime=path/, bad);
  assert.throws(() => runtimesConfig(undefined, ['x']), /runtimes must be an object/);
  assert.throws(() => runtimesConfig(undefined, { x: {} }), /runtime x: path is required/);
});
