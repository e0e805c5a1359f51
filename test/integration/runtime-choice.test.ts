import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, stat, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.js';

// The OCI runtime per container: runc and crun side by side in one berthd, Docker's
// `--runtime` and its error for an unknown one, and each container kept on its own runtime
// across a daemon restart with another default.
const hasCrun = await access('/usr/bin/crun').then(() => true, () => false);
const skip = process.getuid?.() !== 0 ? 'needs root' : !hasCrun ? 'crun is not installed' : false;

let d: TestDaemon;

before(async () => {
  if (skip) return;
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

const inspect = async (id: string): Promise<{ HostConfig: { Runtime: string }; State: { Status: string; ExitCode: number } }> =>
  JSON.parse((await d.run(['inspect', id])).stdout)[0];

// Where the runtime keeps a live container's state: proof of which one runs it.
const stateDir = (runtime: string, id: string): string => join(d.execRoot, runtime === 'runc' ? 'runc' : `runtime-${runtime}`, id);

test('info lists both runtimes; the default is crun where crun works', { skip }, async () => {
  const info = JSON.parse((await d.docker(['info', '--format', '{{json .}}'])).stdout) as { Runtimes: Record<string, { path: string }>; DefaultRuntime: string };
  assert.deepEqual(Object.keys(info.Runtimes).sort(), ['crun', 'runc']);
  assert.equal(info.Runtimes.crun?.path, '/usr/bin/crun');
  const crunRefused = /crun cannot run here/.test(d.log);
  assert.equal(info.DefaultRuntime, crunRefused ? 'runc' : 'crun', d.log);
  const text = await d.docker(['info']);
  assert.match(text.stdout, /Runtimes: (crun runc|runc crun)\n/);
  assert.match(text.stdout, new RegExp(`Default Runtime: ${info.DefaultRuntime}\\n`));
});

test('--runtime runc and --runtime crun both run a container, each under its own runtime', { skip }, async (t) => {
  for (const runtime of ['runc', 'crun']) {
    const r = await d.run(['run', '--rm', '--runtime', runtime, 'busybox', 'sh', '-c', 'echo hello; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    const id = (await d.docker(['run', '-d', '--runtime', runtime, 'busybox', 'sleep', '600'])).stdout.trim();
    t.after(() => d.run(['rm', '-f', id]));
    assert.equal((await inspect(id)).HostConfig.Runtime, runtime);
    assert.ok((await stat(stateDir(runtime, id))).isDirectory(), `${runtime} holds the container's state`);
    const ex = await d.run(['exec', id, 'cat', '/sys/fs/cgroup/pids/pids.max']);
    assert.equal(ex.stdout, 'max\n', ex.stderr);
    const missing = await d.run(['exec', id, 'nosuch']);
    assert.equal(missing.code, 127);
    assert.match(missing.stdout + missing.stderr, /exec: "nosuch": executable file not found in \$PATH/);
    assert.equal((await d.run(['pause', id])).code, 0);
    assert.equal((await inspect(id)).State.Status, 'paused');
    assert.equal((await d.run(['unpause', id])).code, 0);
    assert.equal((await d.run(['update', '--pids-limit', '30', id])).code, 0);
    assert.equal((await d.run(['exec', id, 'cat', '/sys/fs/cgroup/pids/pids.max'])).stdout, '30\n');
    const lift = await d.run(['update', '--pids-limit', '-1', id]);
    assert.equal(lift.code, 0, lift.stderr);
    assert.equal((await d.run(['exec', id, 'cat', '/sys/fs/cgroup/pids/pids.max'])).stdout, 'max\n');
    const rm = await d.run(['rm', '-f', id]);
    assert.equal(rm.code, 0, rm.stderr);
    await assert.rejects(stat(stateDir(runtime, id)), { code: 'ENOENT' });
  }
});

test('a missing command: the same message and exit code under either runtime', { skip }, async () => {
  for (const runtime of ['runc', 'crun']) {
    const cases: Array<[string, number, RegExp]> = [
      ['nosuch', 127, /exec: "nosuch": executable file not found in \$PATH/],
      ['/nonexist', 127, /exec: "\/nonexist": stat \/nonexist: no such file or directory/],
      ['/etc', 126, /exec: "\/etc": permission denied/],
    ];
    for (const [cmd, code, message] of cases) {
      const r = await d.docker(['run', '--rm', '--runtime', runtime, 'busybox', cmd]);
      assert.equal(r.code, code, `${runtime} ${cmd}: ${r.stderr}`);
      assert.match(r.stderr, message, `${runtime} ${cmd}`);
    }
  }
});

test('an unknown runtime: Docker\'s error, exit 125, nothing created', { skip }, async () => {
  const before = (await d.run(['ps', '-aq'])).stdout;
  const k = await d.docker(['run', '--rm', '--runtime', 'nope', 'busybox', 'true']);
  assert.equal(k.code, 125);
  assert.match(k.stderr, /Error response from daemon: unknown or invalid runtime name: nope\n/);
  // `create` fails as the docker CLI's own create does (exit 1, not run's 125).
  const b = await d.run(['create', '--runtime', 'nope', 'busybox', 'true']);
  const kc = await d.docker(['create', '--runtime', 'nope', 'busybox', 'true']);
  assert.equal(b.code, kc.code);
  assert.match(b.stderr, /unknown or invalid runtime name: nope/);
  assert.match(kc.stderr, /Error response from daemon: unknown or invalid runtime name: nope\n/);
  assert.equal((await d.run(['ps', '-aq'])).stdout, before);
});

test('after a restart with another default, each container stays on its runtime', { skip }, async (t) => {
  const info = JSON.parse((await d.docker(['info', '--format', '{{json .}}'])).stdout) as { DefaultRuntime: string };
  const first = info.DefaultRuntime;
  const other = first === 'crun' ? 'runc' : 'crun';
  const id = (await d.run(['run', '-d', 'busybox', 'sh', '-c', 'trap "exit 7" TERM; while true; do sleep 0.2; done'])).stdout.trim();
  t.after(() => d.run(['rm', '-f', id]));
  assert.equal((await inspect(id)).HostConfig.Runtime, first);
  // SIGKILL, and back with the other runtime as the default.
  await d.kill9();
  const cfgPath = join(d.dir, 'daemon.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown>;
  await writeFile(cfgPath, JSON.stringify({ ...cfg, 'default-runtime': other }));
  t.after(() => writeFile(cfgPath, JSON.stringify(cfg)));
  await d.spawn();
  const now = JSON.parse((await d.docker(['info', '--format', '{{json .}}'])).stdout) as { DefaultRuntime: string };
  assert.equal(now.DefaultRuntime, other);
  assert.equal((await inspect(id)).State.Status, 'running');
  assert.equal((await d.run(['exec', id, 'echo', 'still here'])).stdout, 'still here\n');
  assert.equal((await d.run(['pause', id])).code, 0);
  assert.equal((await d.run(['unpause', id])).code, 0);
  const stop = await d.run(['stop', id]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await inspect(id)).State.ExitCode, 7);
  await assert.rejects(stat(stateDir(first, id)), { code: 'ENOENT' }, 'its runtime deleted it');
  // Started again, it runs under the runtime it was created with (HostConfig.Runtime).
  assert.equal((await d.run(['start', id])).code, 0);
  assert.ok((await stat(stateDir(first, id))).isDirectory());
  const fresh = (await d.run(['run', '-d', 'busybox', 'sleep', '600'])).stdout.trim();
  t.after(() => d.run(['rm', '-f', fresh]));
  assert.equal((await inspect(fresh)).HostConfig.Runtime, other);
  assert.ok((await stat(stateDir(other, fresh))).isDirectory());
});
