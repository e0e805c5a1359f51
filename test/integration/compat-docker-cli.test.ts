import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TestDaemon, type RunResult } from '../helpers/daemon.js';

// The real docker CLI pointed at berthd must give the same results as berth itself.
const hasDocker = (() => {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let d: TestDaemon;
before(async () => {
  if (!hasDocker) return;
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await d?.cleanup();
});

const both = async (args: string[]): Promise<[RunResult, RunResult]> => [await d.run(args), await d.docker(args)];

test('run --rm: same output and exit code', { skip: !hasDocker && 'docker CLI not installed' }, async () => {
  const [b, k] = await both(['run', '--rm', 'busybox', 'echo', 'hello world']);
  assert.equal(k.stdout, 'hello world\n', k.stderr);
  assert.deepEqual(b, k);
  const [b2, k2] = await both(['run', '--rm', 'busybox', 'sh', '-c', 'exit 7']);
  assert.equal(k2.code, 7);
  assert.equal(b2.code, 7);
});

test('run -d, ps -a, logs, inspect, stop, rm', { skip: !hasDocker && 'docker CLI not installed' }, async () => {
  const r = await d.docker(['run', '-d', '--name', 'dk', 'busybox', 'sh', '-c', 'echo started; exec sleep 600']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  let logs = '';
  for (let i = 0; i < 100 && !logs; i++) logs = (await d.docker(['logs', 'dk'])).stdout;
  assert.equal(logs, 'started\n');
  assert.equal((await d.run(['logs', 'dk'])).stdout, 'started\n');
  const fmt = ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Names}}'];
  const [bps, kps] = await both(fmt);
  assert.equal(kps.stdout, bps.stdout);
  assert.match(kps.stdout, new RegExp(`${id} busybox "sh -c 'echo started; exec sleep 600'" dk`));
  const [bi, ki] = await both(['inspect', '--format', '{{.Id}} {{.State.Status}} {{.Config.Hostname}}', 'dk']);
  assert.equal(ki.stdout, `${id} running ${id.slice(0, 12)}\n`);
  assert.equal(bi.stdout, ki.stdout);
  const stop = await d.docker(['stop', '-t', '1', 'dk']);
  assert.equal(stop.stdout, 'dk\n', stop.stderr);
  const rmr = await d.docker(['rm', 'dk']);
  assert.equal(rmr.stdout, 'dk\n');
  const gone = await both(['inspect', 'dk']);
  for (const g of gone) {
    assert.equal(g.code, 1);
    assert.match(g.stderr, /No such object: dk/);
  }
});

test('images, import, rmi', { skip: !hasDocker && 'docker CLI not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/berth-import-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'root/etc'), { recursive: true });
  await writeFile(join(dir, 'root/etc/greeting'), 'hi\n');
  execFileSync('tar', ['-C', join(dir, 'root'), '-cf', join(dir, 'root.tar'), '.']);
  const imp = await d.docker(['import', '-c', 'CMD ["cat", "/etc/greeting"]', '-m', 'from test', join(dir, 'root.tar'), 'imported:v1']);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const [bimg, kimg] = await both(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
  assert.equal(bimg.stdout, kimg.stdout);
  assert.match(kimg.stdout, /imported:v1 [0-9a-f]{12}/);
  const hist = await d.docker(['history', '--format', '{{.Comment}}', 'imported:v1']);
  assert.equal(hist.stdout, 'from test\n');
  const rmi = await d.docker(['rmi', 'imported:v1']);
  assert.equal(rmi.code, 0, rmi.stderr);
  assert.match(rmi.stdout, /^Untagged: imported:v1\nDeleted: sha256:/);
  const [bno, kno] = await both(['rmi', 'imported:v1']);
  assert.equal(kno.code, 1);
  assert.match(kno.stderr, /No such image: imported:v1/);
  assert.equal(bno.code, kno.code);
});

test('engine errors look the same', { skip: !hasDocker && 'docker CLI not installed' }, async () => {
  const [b, k] = await both(['run', '--rm', 'busybox', 'nosuchcommand']);
  assert.equal(k.code, 127);
  assert.equal(b.code, 127);
  assert.match(k.stderr, /executable file not found in \$PATH/);
  // The start's error only: the waiting attach ends quietly, as with dockerd.
  for (const r of [b, k]) assert.doesNotMatch(r.stdout + r.stderr, /Error attaching/);
  const [b2, k2] = await both(['create', '--name', 'x y', 'busybox']);
  assert.notEqual(k2.code, 0);
  assert.equal(b2.code, k2.code);
  assert.match(k2.stderr, /Invalid container name \(x y\)/);
});
