import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildExecProcess, execStartExitCode, ociExecErrorMessage, type ExecProcessInput } from '../../src/runtime/exec-process.js';
import { buildSpec } from '../../src/runtime/oci-spec.js';
import { parseCapMask, DOCKER_DEFAULT_CAPS } from '../../src/runtime/capabilities.js';
import type { SpecInput } from '../../src/runtime/types.js';

// This project's hosts: every capability up to CHECKPOINT_RESTORE except SYS_RESOURCE.
const HOST_BOUNDING = parseCapMask('000001fffeffffff');

// The container's process as conmon-runtime writes it into config.json.
function containerProcess(over: Partial<SpecInput> = {}) {
  const input: SpecInput = {
    id: 'c1', rootfs: '/r', args: ['sleep', '600'], env: ['FOO=image', 'KEEP=1'], cwd: '/srv', user: '', hostname: 'h1',
    domainname: '', tty: false, readonlyRootfs: false, privileged: false, capAdd: [], capDrop: [], mounts: [],
    cgroupsPath: '/berth/c1', netns: { mode: 'new' }, shmSize: 0, groupAdd: [], ...over,
  };
  return buildSpec(input, { boundingCaps: HOST_BOUNDING, nofileLimit: 20000 }, { uid: 0, gid: 0, additionalGids: [], home: '/root' }).process;
}

function execInput(over: Partial<ExecProcessInput> = {}): ExecProcessInput {
  return { args: ['id'], env: ['FOO=image', 'KEEP=1'], hostname: 'h1', cwd: '/srv', tty: false, privileged: false, consoleSize: null, ...over };
}

const root = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
const nobody = { uid: 65534, gid: 65534, additionalGids: [], home: '/home' };

test('args, cwd and user are the exec\'s; rlimits and capabilities stay the container\'s', () => {
  const base = containerProcess();
  const p = buildExecProcess(base, execInput({ args: ['sh', '-c', 'id -u'], cwd: '/tmp' }), nobody, HOST_BOUNDING);
  assert.deepEqual(p.args, ['sh', '-c', 'id -u']);
  assert.equal(p.cwd, '/tmp');
  assert.deepEqual(p.user, { uid: 65534, gid: 65534, additionalGids: [65534] });
  assert.equal(p.terminal, false);
  assert.deepEqual(p.rlimits, base.rlimits);
  assert.deepEqual(p.capabilities, base.capabilities);
  assert.deepEqual(p.capabilities.bounding, [...DOCKER_DEFAULT_CAPS]);
  // The container's process is left as it was.
  assert.deepEqual(base.args, ['sleep', '600']);
});

test('env: Docker defaults under the container env, -e over both, HOME from the exec user', () => {
  const cases: Array<{ name: string; input: Partial<ExecProcessInput>; user: typeof root; want: string[] }> = [
    {
      name: 'plain',
      input: {},
      user: root,
      want: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h1', 'FOO=image', 'KEEP=1', 'HOME=/root'],
    },
    {
      name: 'tty adds TERM',
      input: { tty: true },
      user: root,
      want: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h1', 'TERM=xterm', 'FOO=image', 'KEEP=1', 'HOME=/root'],
    },
    {
      name: 'another user gets its own HOME',
      input: {},
      user: nobody,
      want: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h1', 'FOO=image', 'KEEP=1', 'HOME=/home'],
    },
    {
      name: 'an explicit HOME and PATH win',
      input: { env: ['FOO=image', 'HOME=/x', 'PATH=/bin'] },
      user: nobody,
      want: ['PATH=/bin', 'HOSTNAME=h1', 'FOO=image', 'HOME=/x'],
    },
  ];
  for (const c of cases) {
    assert.deepEqual(buildExecProcess(containerProcess(), execInput(c.input), c.user, HOST_BOUNDING).env, c.want, c.name);
  }
});

test('an empty cwd means /; additional groups are kept', () => {
  const p = buildExecProcess(containerProcess(), execInput({ cwd: '' }), { uid: 1, gid: 2, additionalGids: [3, 4], home: '/' }, HOST_BOUNDING);
  assert.equal(p.cwd, '/');
  // The primary group leads the list, as moby's getUser builds it.
  assert.deepEqual(p.user, { uid: 1, gid: 2, additionalGids: [2, 3, 4] });
});

test('--privileged: every capability of the host, nothing it lacks', () => {
  const p = buildExecProcess(containerProcess(), execInput({ privileged: true }), root, HOST_BOUNDING);
  assert.equal(p.capabilities.bounding.length, HOST_BOUNDING.length);
  assert.deepEqual(p.capabilities.effective, HOST_BOUNDING);
  assert.deepEqual(p.capabilities.permitted, HOST_BOUNDING);
  assert.ok(!p.capabilities.bounding.includes('CAP_SYS_RESOURCE'));
  assert.deepEqual(p.capabilities.inheritable, []);
});

test('consoleSize only with a tty and a real size', () => {
  const size = { height: 33, width: 101 };
  assert.deepEqual(buildExecProcess(containerProcess(), execInput({ tty: true, consoleSize: size }), root, HOST_BOUNDING).consoleSize, size);
  assert.equal(buildExecProcess(containerProcess(), execInput({ tty: true, consoleSize: size }), root, HOST_BOUNDING).terminal, true);
  assert.equal(buildExecProcess(containerProcess(), execInput({ tty: false, consoleSize: size }), root, HOST_BOUNDING).consoleSize, undefined);
  assert.equal(buildExecProcess(containerProcess(), execInput({ tty: true, consoleSize: { height: 0, width: 0 } }), root, HOST_BOUNDING).consoleSize, undefined);
  assert.equal(buildExecProcess(containerProcess(), execInput({ tty: true }), root, HOST_BOUNDING).consoleSize, undefined);
});

test('exit codes of an exec that never ran (moby setExitCodeFromError)', () => {
  const cases: Array<[string, number]> = [
    ['exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 127],
    ['exec failed: unable to start container process: exec: "/etc": permission denied', 126],
    ['exec: "/etc": is a directory', 126],
    ['chdir to cwd ("/nonexist") set in config.json failed: no such file or directory', 127],
    ['exec: "/etc/passwd/x": not a directory', 127],
    ['cannot exec in a stopped container', 128],
    ['', 128],
  ];
  for (const [msg, want] of cases) assert.equal(execStartExitCode(msg), want, msg);
});

test('the OCI error text the docker CLI prints', () => {
  assert.equal(
    ociExecErrorMessage('exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH\n'),
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown',
  );
});
