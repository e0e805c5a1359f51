import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, buildEnv, mergeEnv, devMajor, devMinor, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from '../../src/runtime/oci-spec.js';
import { effectiveCaps, normalizeCap, parseCapMask, CAPABILITY_NAMES, DOCKER_DEFAULT_CAPS } from '../../src/runtime/capabilities.js';
import type { SpecInput } from '../../src/runtime/types.js';

// This project's hosts: every capability up to CHECKPOINT_RESTORE except SYS_RESOURCE.
const HOST_BOUNDING = parseCapMask('000001fffeffffff');

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'c1', rootfs: '/r', args: ['sh'], env: [], cwd: '/', user: '', hostname: 'h1', domainname: '',
    tty: false, readonlyRootfs: false, privileged: false, capAdd: [], capDrop: [], mounts: [],
    cgroupsPath: '/berth/c1', netns: { mode: 'new' }, shmSize: 0, groupAdd: [], ...over,
  };
}

test('CapBnd mask parses to names', () => {
  assert.equal(HOST_BOUNDING.length, 40);
  assert.ok(!HOST_BOUNDING.includes('CAP_SYS_RESOURCE'));
  assert.ok(HOST_BOUNDING.includes('CAP_CHECKPOINT_RESTORE'));
  assert.deepEqual(parseCapMask('0'), []);
  assert.deepEqual(parseCapMask('5'), ['CAP_CHOWN', 'CAP_DAC_READ_SEARCH']);
});

test('capability names: any case, with or without CAP_, ALL; unknown ones rejected', () => {
  assert.equal(normalizeCap('net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCap('CAP_SYS_ADMIN'), 'CAP_SYS_ADMIN');
  assert.equal(normalizeCap('all'), 'ALL');
  assert.throws(() => normalizeCap('FOO'), /unknown capability: "CAP_FOO"/);
  assert.throws(() => normalizeCap(''), /unknown capability/);
});

const capCases: Array<{ name: string; add: string[]; drop: string[]; privileged?: boolean; want: (caps: string[]) => void }> = [
  { name: 'defaults', add: [], drop: [], want: (c) => assert.deepEqual(c, [...DOCKER_DEFAULT_CAPS]) },
  { name: 'add one', add: ['NET_ADMIN'], drop: [], want: (c) => { assert.equal(c.length, 15); assert.ok(c.includes('CAP_NET_ADMIN')); } },
  { name: 'drop one', add: [], drop: ['chown'], want: (c) => { assert.equal(c.length, 13); assert.ok(!c.includes('CAP_CHOWN')); } },
  { name: 'add an existing one is not doubled', add: ['CHOWN'], drop: [], want: (c) => assert.equal(c.length, 14) },
  { name: 'drop ALL then add', add: ['NET_BIND_SERVICE'], drop: ['ALL'], want: (c) => assert.deepEqual(c, ['CAP_NET_BIND_SERVICE']) },
  { name: 'drop ALL', add: [], drop: ['ALL'], want: (c) => assert.deepEqual(c, []) },
  { name: 'add ALL minus a drop', add: ['ALL'], drop: ['MKNOD'], want: (c) => { assert.equal(c.length, 39); assert.ok(!c.includes('CAP_MKNOD')); assert.ok(c.includes('CAP_SYS_ADMIN')); } },
  { name: 'add ALL stays inside the bounding set', add: ['ALL'], drop: [], want: (c) => assert.deepEqual(c, HOST_BOUNDING) },
  { name: 'a cap the host lacks is never asked for', add: ['SYS_RESOURCE'], drop: [], want: (c) => assert.ok(!c.includes('CAP_SYS_RESOURCE')) },
  { name: 'privileged = the bounding set', add: [], drop: ['ALL'], privileged: true, want: (c) => assert.deepEqual(c, HOST_BOUNDING) },
];
for (const tc of capCases) {
  test(`caps: ${tc.name}`, () => {
    tc.want(effectiveCaps({ privileged: tc.privileged ?? false, capAdd: tc.add, capDrop: tc.drop, bounding: HOST_BOUNDING }));
  });
}

test('caps: unknown names fail like Docker', () => {
  assert.throws(() => effectiveCaps({ privileged: false, capAdd: ['NOPE'], capDrop: [], bounding: HOST_BOUNDING }), /unknown capability: "CAP_NOPE"/);
});

test('spec: Docker defaults for an unprivileged container', () => {
  const s = buildSpec(input(), { boundingCaps: HOST_BOUNDING, nofileLimit: 20000 });
  assert.equal(s.process.terminal, false);
  assert.deepEqual(s.process.capabilities.bounding, [...DOCKER_DEFAULT_CAPS]);
  assert.deepEqual(s.process.capabilities.inheritable, []);
  assert.deepEqual(s.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal('oomScoreAdj' in s.process, false);
  assert.deepEqual(s.linux.maskedPaths, [...DOCKER_MASKED_PATHS]);
  assert.deepEqual(s.linux.readonlyPaths, [...DOCKER_READONLY_PATHS]);
  assert.deepEqual(s.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
  assert.equal(s.linux.cgroupsPath, '/berth/c1');
  assert.equal(s.hostname, 'h1');
  assert.deepEqual(s.root, { path: '/r', readonly: false });
  assert.deepEqual(s.linux.resources.devices[0], { allow: false, access: 'rwm' });
  assert.deepEqual(s.linux.devices.map((d) => d.path).sort(), ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero']);
  const byDest = new Map(s.mounts.map((m) => [m.destination, m]));
  assert.deepEqual([...byDest.keys()], ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.ok(byDest.get('/dev/pts')!.options.includes('newinstance'));
  assert.ok(byDest.get('/dev/pts')!.options.includes('ptmxmode=0666'));
  assert.ok(byDest.get('/dev/shm')!.options.includes(`size=${64 * 1024 * 1024}`));
  assert.ok(byDest.get('/sys')!.options.includes('ro'));
  assert.ok(byDest.get('/sys/fs/cgroup')!.options.includes('ro'));
});

test('spec: privileged gets every host cap, all devices, no masks, rw /sys', () => {
  const dev = { path: '/dev/sda', type: 'b' as const, major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 };
  const s = buildSpec(input({ privileged: true }), { boundingCaps: HOST_BOUNDING, devices: [dev] });
  assert.deepEqual(s.process.capabilities.effective, HOST_BOUNDING);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.deepEqual(s.linux.devices, [dev]);
  assert.ok(s.mounts.find((m) => m.destination === '/sys')!.options.includes('rw'));
  assert.deepEqual(s.process.rlimits, []); // no host limit given: none asked
});

test('spec: tty sets terminal and TERM; env order and overrides follow Docker', () => {
  const s = buildSpec(input({ tty: true, env: ['FOO=1', 'PATH=/bin'] }), { boundingCaps: HOST_BOUNDING }, { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.equal(s.process.terminal, true);
  assert.deepEqual(s.process.env, ['PATH=/bin', 'HOSTNAME=h1', 'TERM=xterm', 'FOO=1', 'HOME=/root']);
  const plain = buildEnv({ env: ['HOME=/x', 'TERM=dumb'], hostname: 'h', tty: false }, '/root');
  assert.deepEqual(plain, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h', 'HOME=/x', 'TERM=dumb']);
  // A bare name unsets (moby's ReplaceOrAppendEnvValues): runc refuses an entry without "=".
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C']), ['A=1', 'B=3']);
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['A']), ['B=2']);
  assert.deepEqual(buildEnv({ env: ['X=1', 'Y'], hostname: 'h', tty: false }, '/root').filter((e) => /^[XY]/.test(e)), ['X=1']);
});

test('spec: network namespace modes', () => {
  const host = { boundingCaps: HOST_BOUNDING };
  const net = (s: ReturnType<typeof buildSpec>) => s.linux.namespaces.filter((n) => n.type === 'network');
  assert.deepEqual(net(buildSpec(input({ netns: { mode: 'new' } }), host)), [{ type: 'network' }]);
  assert.deepEqual(net(buildSpec(input({ netns: { mode: 'host' } }), host)), []);
  assert.deepEqual(net(buildSpec(input({ netns: { mode: 'path', path: '/run/netns/x' } }), host)), [{ type: 'network', path: '/run/netns/x' }]);
});

test('spec: --pid host and --ipc host join the host\'s namespaces; --ipc host binds its /dev/shm', () => {
  const host = { boundingCaps: HOST_BOUNDING };
  const types = (s: ReturnType<typeof buildSpec>) => s.linux.namespaces.map((n) => n.type).sort();
  const shm = (s: ReturnType<typeof buildSpec>) => s.mounts.find((m) => m.destination === '/dev/shm');
  assert.deepEqual(types(buildSpec(input({ hostNamespaces: ['pid'] }), host)), ['ipc', 'mount', 'network', 'uts']);
  const ipc = buildSpec(input({ hostNamespaces: ['ipc'] }), host);
  assert.deepEqual(types(ipc), ['mount', 'network', 'pid', 'uts']);
  assert.equal(shm(ipc)?.type, 'bind');
  assert.equal(shm(ipc)?.source, '/dev/shm');
  assert.equal(shm(buildSpec(input({ hostNamespaces: ['pid'] }), host))?.type, 'tmpfs');
  assert.deepEqual(types(buildSpec(input({ hostNamespaces: ['pid', 'ipc'], netns: { mode: 'host' } }), host)), ['mount', 'uts']);
});

test('spec: user, groups, shm size, read-only root, extra mounts replace defaults', () => {
  const s = buildSpec(
    input({
      readonlyRootfs: true,
      shmSize: 1 << 20,
      mounts: [
        { destination: '/etc/hosts', type: 'bind', source: '/c/hosts', options: ['rbind', 'rprivate'] },
        { destination: '/dev/shm/', type: 'bind', source: '/host/shm', options: ['rbind'] },
      ],
    }),
    { boundingCaps: HOST_BOUNDING },
    { uid: 1000, gid: 100, additionalGids: [10, 20], home: '/home/u' },
  );
  // The primary group leads the list, as moby's getUser builds it.
  assert.deepEqual(s.process.user, { uid: 1000, gid: 100, additionalGids: [100, 10, 20] });
  assert.equal(s.root.readonly, true);
  const shm = s.mounts.filter((m) => m.destination.startsWith('/dev/shm'));
  assert.deepEqual(shm, [{ destination: '/dev/shm/', type: 'bind', source: '/host/shm', options: ['rbind'] }]);
  assert.ok(s.mounts.some((m) => m.destination === '/etc/hosts'));
  const s2 = buildSpec(input({ shmSize: 1 << 20 }), { boundingCaps: HOST_BOUNDING });
  assert.ok(s2.mounts.find((m) => m.destination === '/dev/shm')!.options.includes('size=1048576'));
  assert.deepEqual(s2.process.user, { uid: 0, gid: 0, additionalGids: [0] });
  assert.ok(s2.process.env.includes('HOME=/'));
});

test('device numbers decode from st_rdev', () => {
  assert.deepEqual([devMajor(0x103), devMinor(0x103)], [1, 3]);
  assert.deepEqual([devMajor(0x8801), devMinor(0x8801)], [136, 1]);
  // minor above 255 uses the high bits
  const rdev = (259 << 8) | 0x12 | (0x3 << 20);
  assert.deepEqual([devMajor(rdev), devMinor(rdev)], [259, 0x312]);
  assert.equal(CAPABILITY_NAMES.length, 41);
});

test('spec: --init runs the init as PID 1 ahead of the command, bind-mounted read-only', () => {
  const s = buildSpec(input({ args: ['sleep', '1'], init: '/usr/bin/tini-static' }), { boundingCaps: HOST_BOUNDING, nofileLimit: 0 });
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sleep', '1']);
  assert.deepEqual(s.mounts.find((m) => m.destination === '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['rbind', 'ro'] });
  const plain = buildSpec(input({ args: ['sleep', '1'] }), { boundingCaps: HOST_BOUNDING, nofileLimit: 0 });
  assert.deepEqual(plain.process.args, ['sleep', '1']);
  assert.equal(plain.mounts.some((m) => m.destination === '/sbin/docker-init'), false);
});

test('spec: --sysctl lands in linux.sysctl, absent when none', () => {
  const s = buildSpec(input({ sysctl: { 'net.core.somaxconn': '1024' } }), { boundingCaps: HOST_BOUNDING });
  assert.deepEqual(s.linux.sysctl, { 'net.core.somaxconn': '1024' });
  assert.equal('sysctl' in buildSpec(input({ sysctl: {} }), { boundingCaps: HOST_BOUNDING }).linux, false);
  assert.equal('sysctl' in buildSpec(input(), { boundingCaps: HOST_BOUNDING }).linux, false);
});
