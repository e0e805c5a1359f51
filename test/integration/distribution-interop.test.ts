import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestDaemon, runCommand } from '../helpers/daemon.js';
import { freePort, ok, waitFor } from './network-fixtures.js';
import { pushedDigest, startRegistry } from './distribution-fixtures.js';
import { bcryptHash } from '../../src/distribution/bcrypt.js';

// The registry client against the reference implementations: Debian's docker-registry
// (distribution 2.8, the server Docker's own registry image runs), and a reference
// dockerd 20.10 pushing and pulling through the same registry as berth
// (BERTH_TEST_REFDOCKER=1; it starts and stops its own).

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const haveRegistry = (await runCommand('sh', ['-c', 'command -v docker-registry'])).code === 0;
const haveDockerd = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;
const refSkip = process.env.BERTH_TEST_REFDOCKER !== '1' ? 'set BERTH_TEST_REFDOCKER=1 (starts a reference dockerd)' : !haveDockerd && 'dockerd is not installed';

async function twoLayerImage(d: TestDaemon, name: string, marker: string, extra = ''): Promise<void> {
  const ctr = `dist-interop-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await ok(d, ['run', '--name', ctr, 'busybox', 'sh', '-c', `echo ${marker} > /marker${extra}`]);
  await ok(d, ['commit', ctr, name]);
  await ok(d, ['rm', ctr]);
}

test("berth against Debian's docker-registry: push, pull, run, with htpasswd auth", { skip: !haveRegistry && 'docker-registry is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/berth-distreg-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  await writeFile(join(dir, 'htpasswd'), `carol:${bcryptHash('pw-carol', 5)}\n`);
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: warn}',
      `storage: {filesystem: {rootdirectory: ${dir}/data}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${port}"}`,
      `auth: {htpasswd: {realm: berth-test, path: ${dir}/htpasswd}}`,
      '',
    ].join('\n'),
  );
  const registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  registry.stderr.on('data', (c: Buffer) => (log += c.toString()));
  t.after(() => {
    registry.kill('SIGKILL');
  });
  const host = `127.0.0.1:${port}`;
  await waitFor('docker-registry to answer', async () => (await fetch(`http://${host}/v2/`)).status === 401);

  const d = await TestDaemon.start();
  t.after(() => d.cleanup());
  await ok(d, ['image', 'bootstrap', 'busybox']);
  const repo = `${host}/interop/berth`;
  await twoLayerImage(d, repo, 'made-by-berth');

  const anon = await d.run(['push', repo]);
  assert.match(anon.stderr, /no basic auth credentials\n$/, anon.stderr + log);
  const login = await d.run(['login', '-u', 'carol', '--password-stdin', host], { input: 'pw-carol\n' });
  assert.equal(login.stdout, 'Login Succeeded\n', login.stderr + log);
  const pushed = await ok(d, ['push', repo]);
  const digest = pushedDigest(pushed);
  assert.equal((pushed.match(/: Pushed$/gm) ?? []).length, 2, pushed);
  assert.match(await ok(d, ['push', repo]), /Layer already exists/);

  // A second repository: the blobs are mounted, not sent again.
  await ok(d, ['tag', repo, `${host}/interop/copy`]);
  assert.equal((((await ok(d, ['push', `${host}/interop/copy`])).match(/: Mounted from interop\/berth$/gm)) ?? []).length, 2);

  await ok(d, ['rmi', repo, `${host}/interop/copy`]);
  const pulled = await ok(d, ['pull', repo]);
  assert.match(pulled, new RegExp(`Digest: ${digest}\\n`));
  assert.match(pulled, /: Already exists\n/, 'the busybox layer was already here');
  assert.equal((await ok(d, ['run', '--rm', repo, 'cat', '/marker'])).trim(), 'made-by-berth');
  const missing = await d.run(['pull', `${host}/interop/berth:nope`]);
  assert.equal(missing.stderr, `Error response from daemon: manifest for ${host}/interop/berth:nope not found: manifest unknown: manifest unknown\n`);
});

test('berth and a reference dockerd 20.10 exchange images through a registry', { skip: refSkip }, async (t) => {
  const reg = await startRegistry();
  t.after(() => reg.close());
  const refDir = await mkdtemp('/tmp/refdocker-dist-');
  const env = { ...process.env, REFDOCKER_DIR: refDir, DOCKER_CONFIG: join(refDir, 'cli') };
  const sh = (action: string) => runCommand('bash', [join(repoRoot, 'scripts/reference-dockerd.sh'), action], undefined, env);
  const d = await TestDaemon.start();
  t.after(async () => {
    await d.cleanup().catch(() => {});
    if ((await sh('stop')).code === 0) await rm(refDir, { recursive: true, force: true });
  });
  const started = await sh('start');
  assert.equal(started.code, 0, started.stderr);
  const ref = async (...args: string[]): Promise<string> => {
    const r = await runCommand('docker', ['-H', `unix://${join(refDir, 'docker.sock')}`, ...args], undefined, env);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(d, ['image', 'bootstrap', 'busybox']);

  // berth → registry → dockerd; the layer mixes bytes berth's gzip stores (random) with
  // bytes it deflates, over several segments, so Go's gzip reader sees both.
  const fromBerth = `${reg.host}/x/from-berth:v1`;
  await twoLayerImage(d, fromBerth, 'made-by-berth', ' && head -c 3000000 /dev/urandom > /noise && cat /bin/busybox /bin/busybox > /text');
  const digest = pushedDigest(await ok(d, ['push', fromBerth]), 'v1');
  assert.match(await ref('pull', fromBerth), new RegExp(`Digest: ${digest}\\n`));
  assert.equal((await ref('run', '--rm', '--network', 'none', fromBerth, 'cat', '/marker')).trim(), 'made-by-berth');
  assert.match(await ref('push', fromBerth), /Layer already exists/);

  // dockerd → registry → berth
  const fromDocker = `${reg.host}/x/from-docker:v1`;
  await ref('run', '--name', 'dist-src', '--network', 'none', 'busybox', 'sh', '-c', 'echo made-by-docker > /marker');
  await ref('commit', 'dist-src', fromDocker);
  await ref('rm', 'dist-src');
  const theirs = pushedDigest(await ref('push', fromDocker), 'v1');
  const pulled = await ok(d, ['pull', fromDocker]);
  assert.match(pulled, new RegExp(`Digest: ${theirs}\\n`));
  assert.equal((await ok(d, ['run', '--rm', fromDocker, 'cat', '/marker'])).trim(), 'made-by-docker');
  // Pulled blobs are known by digest: pushing them elsewhere in the registry mounts them.
  await ok(d, ['tag', fromDocker, `${reg.host}/x/copy:v1`]);
  const copy = await ok(d, ['push', `${reg.host}/x/copy:v1`]);
  assert.equal((copy.match(/: Mounted from x\/from-docker$/gm) ?? []).length, 2, copy);
  assert.equal(pushedDigest(copy, 'v1'), theirs, 'the same manifest, byte for byte');
});
