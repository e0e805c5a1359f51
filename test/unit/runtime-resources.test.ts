import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createDefaults,
  mergeUpdate,
  ociResources,
  ociRlimits,
  ociUpdate,
  parseDeviceCgroupRule,
  parseUintList,
  verifyResources,
  type CgroupSupport,
  type ResourceConfig,
} from '../../src/runtime/resources.js';
import { checkUlimits, parseLimits, readCgroupSupport } from '../../src/runtime/host-resources.js';
import { buildSpec, ociJson } from '../../src/runtime/oci-spec.js';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpecInput } from '../../src/runtime/types.js';
import { sharedSizes } from '../../src/volume/disk-usage-report.js';

const MB = 1024 * 1024;

// This project's hosts: cgroup v1 with swap accounting, no CFQ/BFQ weight, 2 CPUs.
const V1: CgroupSupport = {
  version: 1, memoryLimit: true, swapLimit: true, memoryReservation: true, memorySwappiness: true, oomKillDisable: true,
  kernelMemory: true, pidsLimit: true, cpuShares: true, cpuCfs: true, cpuRealtime: true, cpuset: true,
  blkioWeight: false, blkioWeightDevice: false, blkioThrottle: true, cpus: '0-1', mems: '0', ncpu: 2,
};
const NO_SWAP: CgroupSupport = { ...V1, swapLimit: false };

const refused: Array<[string, ResourceConfig, RegExp, CgroupSupport?]> = [
  ['memory below 6MB', { Memory: 4 * MB }, /Minimum memory limit allowed is 6MB$/],
  ['swap below memory', { Memory: 64 * MB, MemorySwap: 32 * MB }, /Minimum memoryswap limit should be larger than memory limit, see usage/],
  ['swap without memory', { MemorySwap: 64 * MB }, /You should always set the Memory limit when using Memoryswap limit, see usage/],
  ['swappiness out of range', { MemorySwappiness: 101 }, /Invalid value: 101, valid memory swappiness range is 0-100/],
  ['reservation below 6MB', { MemoryReservation: MB }, /Minimum memory reservation allowed is 6MB/],
  ['memory below reservation', { Memory: 64 * MB, MemoryReservation: 128 * MB }, /Minimum memory limit can not be less than memory reservation limit, see usage/],
  ['--cpus beyond the host', { NanoCpus: 8e9 }, /Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/],
  ['--cpus negative', { NanoCpus: -1 }, /Range of CPUs is from 0.01 to 2.00/],
  ['--cpus with --cpu-period', { NanoCpus: 1e9, CpuPeriod: 100000 }, /Conflicting options: Nano CPUs and CPU Period cannot both be set/],
  ['--cpus with --cpu-quota', { NanoCpus: 1e9, CpuQuota: 50000 }, /Conflicting options: Nano CPUs and CPU Quota cannot both be set/],
  ['period too small', { CpuPeriod: 999 }, /CPU cfs period can not be less than 1ms \(i.e. 1000\) or larger than 1s \(i.e. 1000000\)/],
  ['period too large', { CpuPeriod: 1000001 }, /CPU cfs period/],
  ['quota too small', { CpuQuota: 999 }, /CPU cfs quota can not be less than 1ms \(i.e. 1000\)/],
  ['negative shares', { CpuShares: -2 }, /invalid CPU shares \(-2\): value must be a positive integer/],
  ['cpus not there', { CpusetCpus: '0-3' }, /Requested CPUs are not available - requested 0-3, available: 0-1/],
  ['cpus malformed', { CpusetCpus: '0-a' }, /Invalid value 0-a for cpuset cpus: invalid format: 0-a/],
  ['mems not there', { CpusetMems: '1' }, /Requested memory nodes are not available - requested 1, available: 0/],
  ['blkio weight range', { BlkioWeight: 5 }, /Range of blkio weight is from 10 to 1000/, { ...V1, blkioWeight: true }],
  ['Windows IO limits', { IOMaximumIOps: 10 }, /Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps/],
  ['bad device cgroup rule', { DeviceCgroupRules: ['x 1:3 rwm'] }, /invalid device cgroup rule format: 'x 1:3 rwm'/],
  ['soft ulimit above hard', { Ulimits: [{ Name: 'nofile', Soft: 2048, Hard: 1024 }] }, /ulimit soft limit must be less than or equal to hard limit: 2048 > 1024/],
];
for (const [name, r, re, sys] of refused) {
  test(`refused: ${name}`, () => assert.throws(() => verifyResources(r, sys ?? V1, false), re));
}

test('discarded with Docker\'s warnings where the host cannot', () => {
  const a = verifyResources({ Memory: 64 * MB }, NO_SWAP, false);
  assert.deepEqual(a.warnings, ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.']);
  assert.equal(a.resources.MemorySwap, -1);
  const b = verifyResources({ BlkioWeight: 300 }, V1, false);
  assert.deepEqual(b.warnings, ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
  assert.equal(b.resources.BlkioWeight, 0);
  const c = verifyResources({ OomKillDisable: true }, V1, false);
  assert.match(c.warnings[0]!, /OOM killer is disabled for the container, but no memory limit is set/);
  const d = verifyResources({ MemorySwappiness: 10 }, { ...V1, version: 2, memorySwappiness: false }, false);
  assert.match(d.warnings[0]!, /Memory swappiness discarded/);
  assert.equal(d.resources.MemorySwappiness, null);
  assert.equal(verifyResources({ MemorySwappiness: -1 }, V1, false).resources.MemorySwappiness, null);
  // With update, swap alone is allowed (moby's `update` flag).
  assert.doesNotThrow(() => verifyResources({ MemorySwap: 64 * MB }, V1, true));
});

test('defaults: swap is twice the memory, no pids limit for 0 or less', () => {
  assert.equal(createDefaults({ Memory: 64 * MB, MemorySwap: 0 }).MemorySwap, 128 * MB);
  assert.equal(createDefaults({ Memory: 64 * MB, MemorySwap: -1 }).MemorySwap, -1);
  assert.equal(createDefaults({ Memory: 64 * MB, MemorySwap: 100 * MB }).MemorySwap, 100 * MB);
  assert.equal(createDefaults({ PidsLimit: 0 }).PidsLimit, null);
  assert.equal(createDefaults({ PidsLimit: -1 }).PidsLimit, null);
  assert.equal(createDefaults({ PidsLimit: 10 }).PidsLimit, 10);
  assert.equal(createDefaults({}).OomKillDisable, false);
});

test('to linux.resources: the values the tutorial cats from the cgroup files', () => {
  const devs = new Map([['/dev/loop0', { major: 7, minor: 0 }]]);
  assert.deepEqual(ociResources({ CpuPeriod: 100000, CpuQuota: 20000 }, devs), { cpu: { period: 100000, quota: 20000 } });
  assert.deepEqual(ociResources({ NanoCpus: 1.5e9 }, devs), { cpu: { period: 100000, quota: 150000 } });
  assert.deepEqual(ociResources({ CpuShares: 512, CpusetCpus: '0', CpusetMems: '0' }, devs), { cpu: { shares: 512, cpus: '0', mems: '0' } });
  assert.deepEqual(ociResources(createDefaults({ Memory: 64 * MB }), devs), { memory: { limit: 64 * MB, swap: 128 * MB } });
  assert.deepEqual(ociResources({ Memory: 64 * MB, MemorySwap: -1, MemoryReservation: 32 * MB, MemorySwappiness: 0, OomKillDisable: true }, devs), {
    memory: { limit: 64 * MB, reservation: 32 * MB, swappiness: 0, disableOOMKiller: true },
  });
  assert.deepEqual(ociResources({ PidsLimit: 10 }, devs), { pids: { limit: 10 } });
  assert.deepEqual(ociResources({ PidsLimit: null }, devs), {});
  assert.deepEqual(ociResources({ BlkioDeviceReadBps: [{ Path: '/dev/loop0', Rate: MB }], BlkioDeviceWriteIOps: [{ Path: '/dev/loop0', Rate: 100 }] }, devs), {
    blockIO: { throttleReadBpsDevice: [{ major: 7, minor: 0, rate: MB }], throttleWriteIOPSDevice: [{ major: 7, minor: 0, rate: 100 }] },
  });
  assert.throws(() => ociResources({ BlkioDeviceReadBps: [{ Path: '/dev/nosuch', Rate: 1 }] }, devs), /stat \/dev\/nosuch: no such file or directory/);
});

test('update: merge over the container, conflicts named as Docker names them', () => {
  const cur: ResourceConfig = { Memory: 64 * MB, MemorySwap: 128 * MB, NanoCpus: 1e9, CpuShares: 0 };
  assert.deepEqual(mergeUpdate(cur, { Memory: 100 * MB, CpuShares: 512, PidsLimit: 20, CpusetCpus: '' }), { ...cur, Memory: 100 * MB, CpuShares: 512, PidsLimit: 20 });
  assert.throws(() => mergeUpdate(cur, { Memory: 256 * MB }), /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
  assert.equal(mergeUpdate(cur, { Memory: 256 * MB, MemorySwap: 512 * MB }).MemorySwap, 512 * MB);
  assert.throws(() => mergeUpdate(cur, { CpuQuota: 20000 }), /CPU Quota cannot be updated as NanoCPUs has already been set/);
  assert.throws(() => mergeUpdate({ CpuPeriod: 100000 }, { NanoCpus: 1e9 }), /Nano CPUs cannot be updated as CPU Period has already been set/);
  assert.deepEqual(ociUpdate({ Memory: 100 * MB, PidsLimit: -1 }, new Map()), { memory: { limit: 100 * MB }, pids: { limit: -1 } });
  assert.deepEqual(ociUpdate({}, new Map()), {});
  // --pids-limit 0 or -1 lifts the limit: kept as 0 (moby's update route), -1 for runc.
  for (const p of [0, -1, -5]) {
    assert.equal(mergeUpdate({ PidsLimit: 50 }, { PidsLimit: p }).PidsLimit, 0);
    assert.deepEqual(ociUpdate({ PidsLimit: p }, new Map()), { pids: { limit: -1 } });
  }
  assert.equal(mergeUpdate({ PidsLimit: 50 }, {}).PidsLimit, 50);
});

test('cpuset lists, device cgroup rules, rlimits', () => {
  assert.deepEqual([...parseUintList('0-2,5')], [0, 1, 2, 5]);
  assert.deepEqual([...parseUintList('')], []);
  assert.throws(() => parseUintList('3-1'), /invalid format: 3-1/);
  assert.deepEqual(parseDeviceCgroupRule('c 1:3 rwm'), { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  assert.deepEqual(parseDeviceCgroupRule('b *:* m'), { allow: true, type: 'b', access: 'm' });
  assert.deepEqual(ociRlimits([{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 10, Hard: 10 }], [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]), [
    { type: 'RLIMIT_NOFILE', hard: 2048, soft: 1024 },
    { type: 'RLIMIT_NPROC', hard: 10, soft: 10 },
  ]);
});

test('host limits: a hard limit above berthd\'s own is refused without CAP_SYS_RESOURCE', () => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 20000                files     \nMax processes             unlimited            unlimited            processes \n';
  const hard = parseLimits(text);
  assert.deepEqual(hard, { nofile: 20000 });
  checkUlimits([{ Name: 'nofile', Soft: 1024, Hard: 2048 }, { Name: 'nproc', Soft: 1e9, Hard: 1e9 }], { hard, canRaise: false });
  assert.throws(() => checkUlimits([{ Name: 'nofile', Soft: 30000, Hard: 30000 }], { hard, canRaise: false }), /ulimit nofile: hard limit 30000 is above the host's hard limit 20000/);
  checkUlimits([{ Name: 'nofile', Soft: 30000, Hard: 30000 }], { hard, canRaise: true });
});

test('the spec carries resources, extra devices and rlimits', () => {
  const input: SpecInput = {
    id: 'c1', rootfs: '/r', args: ['sh'], env: [], cwd: '/', user: '', hostname: 'h1', domainname: '',
    tty: false, readonlyRootfs: false, privileged: false, capAdd: [], capDrop: [], mounts: [],
    cgroupsPath: '/berth/c1', netns: { mode: 'new' }, shmSize: 0, groupAdd: [],
    resources: { memory: { limit: 64 * MB }, devices: [{ allow: true, type: 'b', major: 7, minor: 0, access: 'rwm' }] },
    devices: [{ path: '/dev/xvda', type: 'b', major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 }],
    ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
  };
  const spec = buildSpec(input, { boundingCaps: [], nofileLimit: 20000 });
  assert.deepEqual(spec.linux.resources.memory, { limit: 64 * MB });
  assert.deepEqual(spec.linux.resources.devices[0], { allow: false, access: 'rwm' });
  assert.deepEqual(spec.linux.resources.devices.at(-1), { allow: true, type: 'b', major: 7, minor: 0, access: 'rwm' });
  assert.ok(spec.linux.devices.some((d) => d.path === '/dev/xvda' && d.major === 7));
  assert.deepEqual(spec.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 2048, soft: 1024 }]);
});

test('--ulimit X=-1 is RLIM_INFINITY, written as the exact uint64 runc reads', () => {
  const input: SpecInput = {
    id: 'c1', rootfs: '/r', args: ['sh'], env: [], cwd: '/', user: '', hostname: 'h1', domainname: '',
    tty: false, readonlyRootfs: false, privileged: false, capAdd: [], capDrop: [], mounts: [],
    cgroupsPath: '/berth/c1', netns: { mode: 'new' }, shmSize: 0, groupAdd: [], resources: {}, devices: [],
    ulimits: [{ Name: 'core', Soft: -1, Hard: -1 }, { Name: 'memlock', Soft: 65536, Hard: -1 }],
  };
  const spec = buildSpec(input, { boundingCaps: [] });
  const text = ociJson(spec);
  assert.match(text, /\{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615\}/);
  assert.match(text, /\{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":65536\}/);
  // A config.json read back (an exec's process) parses it to an inexact float: still written exactly.
  const again = ociJson(JSON.parse(text).process);
  assert.match(again, /"hard":18446744073709551615,"soft":18446744073709551615/);
  assert.doesNotMatch(again, /18446744073709552000/);
  // Only rlimits: other negative numbers and look-alike strings stay as they are.
  assert.equal(ociJson({ cpu: { quota: -1 }, env: ['hard=-1'], x: { type: 'RLIMIT_X', hard: 5, soft: 1 } }), '{"cpu":{"quota":-1},"env":["hard=-1"],"x":{"type":"RLIMIT_X","hard":5,"soft":1}}');
  // Without CAP_SYS_RESOURCE, unlimited is above any finite host limit.
  assert.throws(() => checkUlimits([{ Name: 'nofile', Soft: -1, Hard: -1 }], { hard: { nofile: 20000 }, canRaise: false }), /ulimit nofile: hard limit unlimited is above the host's hard limit 20000/);
  checkUlimits([{ Name: 'core', Soft: -1, Hard: -1 }], { hard: {}, canRaise: false });
});

// cgroup v2: runc (and crun) turn linux.resources into memory.max, memory.swap.max (swap
// minus memory), cpu.max ("quota period"), cpu.weight (from shares), cpuset.cpus, io.max,
// io.weight and pids.max; berth's part is what it may ask for, read from the unified tree.
test('cgroup v2: what the host can do, read from the unified hierarchy', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-cg2-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeFile(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
  await writeFile(join(root, 'cpuset.cpus.effective'), '0-3\n');
  await writeFile(join(root, 'cpuset.mems.effective'), '0\n');
  await mkdir(join(root, 'system.slice', 'berthd.service'), { recursive: true });
  const self = join(root, 'self-cgroup');
  await writeFile(self, '0::/system.slice/berthd.service\n');
  // No memory.swap.max: no swap accounting, so -m limits memory alone, with Docker's warning.
  let sys = await readCgroupSupport(root, self);
  assert.deepEqual(
    { ...sys, ncpu: 0 },
    {
      version: 2, memoryLimit: true, swapLimit: false, memoryReservation: true, memorySwappiness: false, oomKillDisable: false,
      kernelMemory: false, pidsLimit: true, cpuShares: true, cpuCfs: true, cpuRealtime: false, cpuset: true,
      blkioWeight: true, blkioWeightDevice: true, blkioThrottle: true, cpus: '0-3', mems: '0', ncpu: 0,
    },
  );
  const noSwap = verifyResources({ Memory: 64 * MB }, sys, false);
  assert.deepEqual(noSwap.warnings, ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.']);
  assert.deepEqual(ociResources(createDefaults(noSwap.resources), new Map()), { memory: { limit: 64 * MB } });
  // With it (in berthd's own cgroup), swap is limited: runc writes memory.swap.max = swap - memory.
  await writeFile(join(root, 'system.slice', 'berthd.service', 'memory.swap.max'), 'max\n');
  sys = await readCgroupSupport(root, self);
  assert.equal(sys.swapLimit, true);
  assert.deepEqual(ociResources(createDefaults(verifyResources({ Memory: 64 * MB }, sys, false).resources), new Map()), { memory: { limit: 64 * MB, swap: 128 * MB } });
  // berthd in the root cgroup (which never has the file): its children tell.
  await writeFile(self, '0::/\n');
  assert.equal((await readCgroupSupport(root, self)).swapLimit, false);
  await writeFile(join(root, 'system.slice', 'memory.swap.max'), 'max\n');
  assert.equal((await readCgroupSupport(root, self)).swapLimit, true);
  // What v2 cannot do is discarded with Docker's warnings, not handed to runc to fail on.
  const v2 = verifyResources({ Memory: 64 * MB, MemorySwappiness: 10, OomKillDisable: true, CpuRealtimeRuntime: 0, PidsLimit: 100, NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '3', BlkioWeight: 300 }, sys, false);
  assert.deepEqual(v2.warnings, [
    'Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.',
    'Your kernel does not support OomKillDisable. OomKillDisable discarded.',
  ]);
  assert.deepEqual(ociResources(createDefaults(v2.resources), new Map()), {
    memory: { limit: 64 * MB, swap: 128 * MB },
    cpu: { shares: 512, cpus: '3', period: 100000, quota: 150000 },
    pids: { limit: 100 },
    blockIO: { weight: 300 },
  });
  assert.throws(() => verifyResources({ CpusetCpus: '4' }, sys, false), /Requested CPUs are not available - requested 4, available: 0-3/);
  assert.throws(() => verifyResources({ CpuRealtimeRuntime: 1000 }, sys, false), /Your kernel does not support CPU real-time scheduler/);
});

test('df: an image\'s shared size is what it shares with other images', () => {
  const chains = new Map([['img1', ['a', 'b']], ['img2', ['a', 'c']], ['img3', ['d']]]);
  const sizes = new Map([['a', 100], ['b', 10], ['c', 20], ['d', 5]]);
  assert.deepEqual([...sharedSizes(chains, sizes)], [['img1', 100], ['img2', 100], ['img3', 0]]);
});
