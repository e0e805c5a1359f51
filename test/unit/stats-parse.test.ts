import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupDirs, containerCgroupsPath, parseCgroupMounts } from '../../src/runtime/cgroup-paths.js';
import { clampLimit, parseBlkio, parseIoStat, parseKeyValues, parsePercpu, parseUint } from '../../src/runtime/cgroup-stats.js';
import { parseProcStat } from '../../src/runtime/host-cpu.js';
import { parseNetDev } from '../../src/runtime/net-stats.js';

const hybrid = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

const comounted = `25 22 0:22 / /sys/fs/cgroup rw - tmpfs tmpfs rw
26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
27 25 0:24 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory`;

const unified = `22 21 0:19 / /sys rw - sysfs sysfs rw
25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
90 25 0:22 /sub /sys/fs/cgroup/sub/deeper rw - cgroup2 cgroup2 rw`;

test('parseCgroupMounts: v1, hybrid, co-mounted, pure v2, none', () => {
  const h = parseCgroupMounts(hybrid);
  assert.deepEqual(h, {
    version: 1,
    mounts: { cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', memory: '/sys/fs/cgroup/memory', blkio: '/sys/fs/cgroup/blkio', pids: '/sys/fs/cgroup/pids' },
  });
  const c = parseCgroupMounts(comounted);
  assert.ok(c && c.version === 1);
  assert.equal(c.mounts.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(c.mounts.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
  assert.deepEqual(parseCgroupMounts(unified), { version: 2, mount: '/sys/fs/cgroup' });
  assert.equal(parseCgroupMounts('22 21 0:19 / /sys rw - sysfs sysfs rw\n'), null);
  assert.equal(parseCgroupMounts(''), null);
  assert.equal(parseCgroupMounts('garbage line\n\n'), null);
  assert.deepEqual(parseCgroupMounts('1 2 0:1 / /c\\040g rw - cgroup2 cgroup2 rw'), { version: 2, mount: '/c g' });
});

test('cgroupDirs and containerCgroupsPath', () => {
  const path = containerCgroupsPath('/berth/', 'abc');
  assert.equal(path, '/berth/abc');
  // A container's own --cgroup-parent wins; a relative one counts from the root.
  assert.equal(containerCgroupsPath('/berth', 'abc', '/mine/'), '/mine/abc');
  assert.equal(containerCgroupsPath('/berth', 'abc', 'mine/sub'), '/mine/sub/abc');
  assert.equal(containerCgroupsPath('/berth', 'abc', ''), '/berth/abc');
  assert.deepEqual(cgroupDirs(parseCgroupMounts(comounted)!, path), {
    version: 1,
    cpuacct: '/sys/fs/cgroup/cpu,cpuacct/berth/abc',
    cpu: '/sys/fs/cgroup/cpu,cpuacct/berth/abc',
    memory: '/sys/fs/cgroup/memory/berth/abc',
  });
  assert.deepEqual(cgroupDirs({ version: 2, mount: '/sys/fs/cgroup' }, path), { version: 2, dir: '/sys/fs/cgroup/berth/abc' });
});

test('parseProcStat: system usage in ns from the first seven fields, online cpus', () => {
  const text = 'cpu  230208 10 151792 317784 7596 1 3530 99 98 97\ncpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\nintr 5\nctxt 9\n';
  const ticks = 230208 + 10 + 151792 + 317784 + 7596 + 1 + 3530; // steal and guest left out
  assert.deepEqual(parseProcStat(text), { systemUsage: ticks * 1e7, onlineCpus: 2 });
  assert.equal(parseProcStat('cpu 1 2 3\n'), null, 'too few fields');
  assert.equal(parseProcStat('cpu 1 2 3 4 5 x 7 8\n'), null, 'not a number');
  assert.equal(parseProcStat('intr 1\n'), null, 'no cpu line');
  assert.deepEqual(parseProcStat('cpu 1 1 1 1 1 1 1\n'), { systemUsage: 7e7, onlineCpus: 0 });
});

test('parseNetDev: every interface but lo', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    1296      16    1    2    0     0          0         0      936      12    3    4    0     0       0          0
eth1: 5 6 7 8 0 0 0 0 9 10 11 12 0 0 0 0
 bad: 1 2 3
`;
  assert.deepEqual(parseNetDev(text), {
    eth0: { rx_bytes: 1296, rx_packets: 16, rx_errors: 1, rx_dropped: 2, tx_bytes: 936, tx_packets: 12, tx_errors: 3, tx_dropped: 4 },
    eth1: { rx_bytes: 5, rx_packets: 6, rx_errors: 7, rx_dropped: 8, tx_bytes: 9, tx_packets: 10, tx_errors: 11, tx_dropped: 12 },
  });
  assert.deepEqual(parseNetDev(''), {});
});

test('parseKeyValues, parseUint, parsePercpu', () => {
  assert.deepEqual(parseKeyValues('user 24\nsystem 13\n\nbad\nthree fields here\nnan x\n'), { user: 24, system: 13 });
  assert.equal(parseUint('123\n'), 123);
  assert.equal(parseUint('max\n'), 0);
  assert.equal(parseUint('max', 77), 77);
  for (const bad of ['', 'abc', '-1', '1 2']) assert.throws(() => parseUint(bad), /invalid cgroup value/, bad);
  assert.deepEqual(parsePercpu('727903855 1052887845 \n'), [727903855, 1052887845]);
  assert.deepEqual(parsePercpu('\n'), []);
});

test('parseBlkio: as containerd reads blkio files', () => {
  const text = '8:0 Read 4096\n8:0 Write 512\n8:0 Sync 0\n8:0 Async 4608\n8:0 Discard 0\n8:0 Total 4608\nTotal 4608\n';
  assert.deepEqual(parseBlkio(text), [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 512 },
    { major: 8, minor: 0, op: 'Sync', value: 0 },
    { major: 8, minor: 0, op: 'Async', value: 4608 },
    { major: 8, minor: 0, op: 'Discard', value: 0 },
    { major: 8, minor: 0, op: 'Total', value: 4608 },
  ]);
  assert.deepEqual(parseBlkio('253:1 77\n'), [{ major: 253, minor: 1, op: '', value: 77 }], 'op-less files (sectors, time)');
  assert.deepEqual(parseBlkio('Total 0\n'), []);
  assert.deepEqual(parseBlkio(''), []);
  assert.throws(() => parseBlkio('8:0\n'), /invalid blkio line/);
  assert.throws(() => parseBlkio('8:x Read 1\n'), /invalid blkio line/);
});

test('parseIoStat: a read and a write entry per device', () => {
  assert.deepEqual(parseIoStat('8:0 rbytes=1024 wbytes=2048 rios=1 wios=2 dbytes=0 dios=0\n259:0 rbytes=5\nnonsense\n'), [
    { major: 8, minor: 0, op: 'read', value: 1024 },
    { major: 8, minor: 0, op: 'write', value: 2048 },
    { major: 259, minor: 0, op: 'read', value: 5 },
    { major: 259, minor: 0, op: 'write', value: 0 },
  ]);
  assert.deepEqual(parseIoStat(''), []);
});

test('clampLimit: the unlimited sentinel reads as the host memory', () => {
  assert.equal(clampLimit(9223372036854771712, 25276026880), 25276026880);
  assert.equal(clampLimit(512 * 1024 * 1024, 25276026880), 512 * 1024 * 1024);
  assert.equal(clampLimit(100, 0), 100, 'unknown host memory: as read');
});
