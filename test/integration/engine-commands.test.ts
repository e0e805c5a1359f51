import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon.js';

// The container and image commands of the core issue, each through the berth CLI.
let d: TestDaemon;
let tmp: string;

before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/berth-cmds-');
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await d?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, tries = 200): Promise<T> {
  let v = await fn();
  for (let i = 0; i < tries && !ok(v); i++) {
    await new Promise((r) => setTimeout(r, 25));
    v = await fn();
  }
  return v;
}

test('run flags: -e, --env-file, -w, -u, --entrypoint, -h, -l, --cidfile', async () => {
  const envFile = join(tmp, 'env');
  await writeFile(envFile, '# comment\nFROM_FILE=yes\n');
  const cid = join(tmp, 'cid');
  const r = await d.run([
    'run', '--rm', '-e', 'A=1', '-e', 'B=2', '--env-file', envFile, '-w', '/tmp/work', '-u', '65534:65534',
    '-h', 'myhost', '-l', 'team=blue', '--cidfile', cid, '--entrypoint', 'sh', 'busybox',
    '-c', 'echo $A$B $FROM_FILE; pwd; id -u; hostname',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '12 yes\n/tmp/work\n65534\nmyhost\n');
  assert.match(await readFile(cid, 'utf8'), /^[0-9a-f]{64}$/);
});

test('create, start -a, wait, kill -s, ps flags and filters', async () => {
  const c = await d.run(['create', '--name', 'seq', '-l', 'role=batch', 'busybox', 'sh', '-c', 'echo ran; exit 4']);
  assert.equal(c.code, 0, c.stderr);
  const start = await d.run(['start', '-a', 'seq']);
  assert.equal(start.stdout, 'ran\n');
  assert.equal(start.code, 4);
  assert.equal((await d.run(['wait', 'seq'])).stdout, '4\n');

  const k = await d.run(['run', '-d', '--name', 'victim', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 0.1; done']);
  assert.equal(k.code, 0, k.stderr);
  assert.equal((await d.run(['kill', '-s', 'USR1', 'victim'])).stdout, 'victim\n');
  assert.equal((await d.run(['wait', 'victim'])).stdout, '42\n');

  const q = (await d.run(['ps', '-aq'])).stdout.trim().split('\n');
  assert.equal(q.length, 2);
  assert.ok(q.every((id) => /^[0-9a-f]{12}$/.test(id)));
  assert.equal((await d.run(['ps', '-lq'])).stdout.trim(), q[0]);
  assert.equal((await d.run(['ps', '-n', '1', '-q'])).stdout.trim(), q[0]);
  assert.match((await d.run(['ps', '-aq', '--no-trunc'])).stdout, /^[0-9a-f]{64}\n/);
  assert.equal((await d.run(['ps', '-a', '-f', 'label=role=batch', '--format', '{{.Names}}'])).stdout, 'seq\n');
  assert.equal((await d.run(['ps', '-a', '-f', 'exited=42', '--format', '{{.Names}}'])).stdout, 'victim\n');
  assert.equal((await d.run(['ps', '-a', '-f', 'name=vic', '--format', '{{.Names}}'])).stdout, 'victim\n');
  assert.equal((await d.run(['ps', '-a', '-f', 'ancestor=busybox', '-q'])).stdout.trim().split('\n').length, 2);
  assert.equal((await d.run(['ps', '-q', '-f', 'status=running'])).stdout, '');
  const sized = await d.run(['ps', '-a', '-s', '--format', '{{.Size}}']);
  assert.match(sized.stdout, /B \(virtual /);
  await d.run(['rm', 'seq', 'victim']);
});

test('logs: --tail, -t, --since, -f ends when the container stops', async () => {
  // "last" waits for /go, made once the first lines were checked (no timing involved).
  const r = await d.run(['run', '-d', '--name', 'lg', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done; echo err >&2; until [ -e /go ]; do sleep 0.1; done; echo last']);
  assert.equal(r.code, 0, r.stderr);
  const all = await until(() => d.run(['logs', 'lg']), (x) => x.stdout.includes('line5') && x.stderr.includes('err'));
  assert.equal(all.stdout, 'line1\nline2\nline3\nline4\nline5\n');
  assert.equal(all.stderr, 'err\n');
  assert.equal((await d.run(['exec', 'lg', 'touch', '/go'])).code, 0);
  // -f follows until the container stops, then ends by itself.
  const follow = await d.run(['logs', '-f', 'lg']);
  assert.equal(follow.code, 0);
  assert.match(follow.stdout, /line5\nlast\n$/);
  // --tail counts lines of both streams together, as Docker does.
  const tail = await d.run(['logs', '--tail', '3', 'lg']);
  assert.equal(tail.stdout, 'line5\nlast\n');
  assert.equal(tail.stderr, 'err\n');
  const ts = await d.run(['logs', '-t', '--tail', '1', 'lg']);
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z last\n$/);
  const future = await d.run(['logs', '--since', String(Math.floor(Date.now() / 1000) + 3600), 'lg']);
  assert.equal(future.stdout, '');
  await d.run(['rm', 'lg']);
});

test('images: rmi refuses an image a container uses unless -f; tag, history, prune', async () => {
  assert.equal((await d.run(['tag', 'busybox', 'mybox:1'])).code, 0);
  const c = await d.run(['create', '--name', 'user1', 'mybox:1', 'true']);
  assert.equal(c.code, 0, c.stderr);
  const id = (await d.run(['images', '-q', 'busybox'])).stdout.trim();
  const refused = await d.run(['rmi', id]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /conflict: unable to delete [0-9a-f]{12} \(must be forced\)/);
  const untag = await d.run(['rmi', 'mybox:1']);
  assert.equal(untag.stdout, 'Untagged: mybox:1\n', untag.stderr);
  const hist = await d.run(['history', '--format', '{{.ID}} {{.Size}}', 'busybox']);
  assert.match(hist.stdout, /^[0-9a-f]{12} \d/);
  const images = await d.run(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  assert.equal(images.stdout, 'busybox:latest\n');
  await d.run(['rm', 'user1']);
  const pruned = await d.run(['image', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.equal((await d.run(['images', '-q'])).stdout.trim(), id);
});

test('import from stdin with --change and --message', async () => {
  const dir = join(tmp, 'rootfs');
  execFileSync('mkdir', ['-p', join(dir, 'bin')]);
  execFileSync('cp', ['/bin/busybox', join(dir, 'bin/busybox')]);
  execFileSync('ln', ['-s', 'busybox', join(dir, 'bin/sh')]);
  execFileSync('ln', ['-s', 'busybox', join(dir, 'bin/cat')]);
  await writeFile(join(dir, 'motd'), 'imported\n');
  const tar = execFileSync('tar', ['-C', dir, '-c', '.'], { maxBuffer: 64 << 20 });
  const r = await d.run(['import', '-c', 'ENTRYPOINT ["/bin/cat"]', '-c', 'CMD ["/motd"]', '-m', 'by test', '-', 'imp:latest'], { input: tar });
  assert.equal(r.code, 0, r.stderr);
  const run = await d.run(['run', '--rm', 'imp']);
  assert.equal(run.stdout, 'imported\n', run.stderr);
  const cfg = JSON.parse((await d.run(['image', 'inspect', 'imp'])).stdout)[0];
  assert.deepEqual(cfg.Config.Entrypoint, ['/bin/cat']);
  assert.equal(cfg.Comment, 'by test');
  await d.run(['rmi', 'imp']);
});

test('ps names the image as created while the name still means it, its ID once not; labels come sorted', async () => {
  const ok = async (args: string[]): Promise<string> => {
    const r = await d.run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['tag', 'busybox', 'ps-image:v1']);
  const id = (await ok(['create', '--label', 'zeta=1', '--label', 'alpha=2', '--label', 'mid=3', 'ps-image:v1', 'true'])).trim();
  const imageId = (await ok(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim();
  const shown = async (): Promise<string> => (await ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Image}}'])).trim();
  assert.equal(await shown(), 'ps-image:v1');
  await ok(['rmi', 'ps-image:v1']);
  assert.equal(await shown(), imageId.slice(7, 19));
  const api = JSON.parse(await ok(['ps', '-a', '--filter', `id=${id}`, '--no-trunc', '--format', '{{json .}}']));
  assert.equal(api.Image, imageId, 'untruncated: the full image ID, as dockerd');

  assert.equal((await ok(['inspect', '-f', '{{json .Config.Labels}}', id])).trim(), '{"alpha":"2","mid":"3","zeta":"1"}');
  assert.equal((await ok(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Labels}}'])).trim(), 'alpha=2,mid=3,zeta=1');
  await ok(['rm', id]);
});
