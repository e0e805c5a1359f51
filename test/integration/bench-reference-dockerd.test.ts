// scripts/reference-dockerd.sh: starts a working Docker on its own paths and, even after
// the daemon was killed with containers running, stop leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../bench/lib/command.js';
import { defaultDockerCli } from '../../bench/lib/docker-engine.js';
import { mountsUnder } from '../../bench/lib/mounts.js';
import { listProcesses } from '../../bench/lib/proc.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repoRoot, 'scripts/reference-dockerd.sh');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

test('reference dockerd: start, run, crash, stop, nothing left', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to test the reference dockerd harness' : !haveDocker && 'dockerd is not installed (scripts/reference-dockerd.sh start installs it)' }, async (t) => {
  // Its own directory, so a reference dockerd someone else runs in /tmp/berth-bench is untouched.
  const dir = await mkdtemp('/tmp/refdocker-test-');
  const env = { ...process.env, REFDOCKER_DIR: dir };
  const sh = (action: string) => runCommand('bash', [script, action], env);
  const docker = (...args: string[]) =>
    runCommand(defaultDockerCli(), ['-H', `unix://${join(dir, 'docker.sock')}`, ...args]);
  t.after(async () => {
    await sh('stop');
  });

  const started = await sh('start');
  assert.equal(started.code, 0, started.stderr);
  assert.equal((await sh('status')).code, 0);
  // A second start is a no-op on a running daemon.
  const again = await sh('start');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already running/);

  const hello = await docker('run', '--rm', 'busybox', 'sh', '-c', 'echo hi from $(id -un)');
  assert.equal(hello.code, 0, hello.stderr);
  assert.equal(hello.stdout, 'hi from root\n');
  // No bridge: loopback only.
  const links = await docker('run', '--rm', 'busybox', 'ls', '/sys/class/net');
  assert.equal(links.stdout.trim(), 'lo');
  // Containers sit under the script's own cgroup parent.
  const cg = await docker('run', '--rm', 'busybox', 'cat', '/proc/self/cgroup');
  assert.match(cg.stdout, new RegExp(`:/refdocker-${basename(dir)}/[0-9a-f]{64}`));

  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await docker('run', '-d', 'busybox', 'sleep', '600');
    assert.equal(r.code, 0, r.stderr);
    ids.push(r.stdout.trim());
  }
  assert.ok((await mountsUnder([dir])).length > 0);

  // containerd 1.6 names a shim's socket sha256("<containerd address>/<namespace>/<id>").
  const shimSockets = ids.map((id) => {
    const key = `${dir}/docker-exec/containerd/containerd.sock/moby/${id}`;
    return `/run/containerd/s/${createHash('sha256').update(key).digest('hex')}`;
  });
  for (const sock of shimSockets) assert.ok(existsSync(sock), `${sock} should exist while its shim runs`);

  // Crash the daemon and its containerd: shims and containers are orphaned.
  const dockerdPid = Number(await readFile(join(dir, 'docker.pid'), 'utf8'));
  const containerdPid = Number(await readFile(join(dir, 'docker-exec/containerd/containerd.pid'), 'utf8'));
  process.kill(dockerdPid, 'SIGKILL');
  process.kill(containerdPid, 'SIGKILL');
  assert.notEqual((await sh('status')).code, 0);

  const stopped = await sh('stop');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stderr, /killing leftover shims/);

  assert.equal(existsSync(dir), false, `${dir} still exists`);
  assert.deepEqual(await mountsUnder([dir]), []);
  const leftovers = (await listProcesses()).filter(
    (p) => p.cmdline.includes(dir) || ids.some((id) => p.cmdline.includes(id)),
  );
  assert.deepEqual(leftovers.map((p) => `${p.pid} ${p.cmdline}`), []);
  const cgroups: string[] = [];
  for (const h of await readdir('/sys/fs/cgroup')) {
    if (existsSync(`/sys/fs/cgroup/${h}/refdocker-${basename(dir)}`)) cgroups.push(h);
  }
  assert.deepEqual(cgroups, []);
  // The shims' sockets are removed even though the shims were killed.
  for (const sock of shimSockets) assert.equal(existsSync(sock), false, sock);
});
