import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, chown, lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TestDaemon, berthEntry } from '../helpers/daemon.js';

// `cp` end to end, with the berth CLI and the docker CLI 28 against a real berthd: both
// directions, files and directories, the "/." rule, -a, tar streams through "-", stopped
// and running containers, and containers that plant symlinks to get at the host.
let d: TestDaemon;
let work: string;
const clis = ['berth', 'docker'] as const;
type Cli = (typeof clis)[number];

before(async () => {
  d = await TestDaemon.start();
  work = await mkdtemp('/tmp/berth-archive-cp-');
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

// stdout as bytes (tar streams), which the shared helper decodes as text.
function raw(cli: Cli, args: string[], input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const [cmd, argv] = cli === 'berth' ? [process.execPath, [berthEntry, '-H', d.host, ...args]] : ['docker', ['-H', d.host, ...args]];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { env: { ...process.env, DOCKER_CONFIG: join(d.dir, 'docker-config') } });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    p.stdin.end(input ?? Buffer.alloc(0));
  });
}

const cli = (c: Cli, args: string[]) => d.run(args, { cli: c });

async function ok(c: Cli, args: string[]): Promise<string> {
  const r = await cli(c, args);
  assert.equal(r.code, 0, `${c} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface TarItem {
  name: string;
  type: string;
  uid: number;
  gid: number;
  body: string;
  linkname?: string | null;
}

async function readTar(buf: Buffer): Promise<TarItem[]> {
  const items: TarItem[] = [];
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: unknown) => chunks.push(c as Buffer));
      s.on('end', () => {
        items.push({ name: h.name, type: h.type ?? '', uid: h.uid ?? 0, gid: h.gid ?? 0, body: Buffer.concat(chunks).toString(), linkname: h.linkname });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return items;
}

async function makeTar(items: Array<{ name: string; body?: string; type?: 'file' | 'directory' }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const it of items) pack.entry({ name: it.name, type: it.type ?? 'file', mode: 0o644 }, it.body ?? '');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

// What a path holds in a container, read back through GET archive.
async function fileIn(container: string, path: string): Promise<string> {
  const r = await raw('docker', ['cp', `${container}:${path}`, '-']);
  assert.equal(r.code, 0, r.stderr);
  const items = await readTar(r.stdout);
  assert.equal(items.length, 1, items.map((i) => i.name).join(' '));
  return items[0]!.body;
}

async function namesIn(container: string, path: string): Promise<string[]> {
  const r = await raw('docker', ['cp', `${container}:${path}`, '-']);
  assert.equal(r.code, 0, r.stderr);
  return (await readTar(r.stdout)).map((i) => i.name);
}

async function mountedRootfs(): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${d.dataRoot}/overlay2/`));
}

async function fixture(name: string): Promise<string> {
  const src = join(work, name);
  await mkdir(join(src, 'dir/sub'), { recursive: true });
  await writeFile(join(src, 'file.txt'), 'file content\n');
  await writeFile(join(src, 'dir/a'), 'A');
  await writeFile(join(src, 'dir/sub/b'), 'B');
  return src;
}

test('host → stopped container → host: files, directories, renames; nothing left mounted', async () => {
  for (const c of clis) {
    const src = await fixture(`basic-${c}`);
    const name = `cp-basic-${c}`;
    await ok(c, ['create', '--name', name, 'busybox', 'true']);
    await ok(c, ['cp', join(src, 'file.txt'), `${name}:/tmp/`]);
    await ok(c, ['cp', join(src, 'file.txt'), `${name}:/tmp/renamed.txt`]);
    await ok(c, ['cp', join(src, 'dir'), `${name}:/tmp/`]);
    await ok(c, ['cp', join(src, 'dir'), `${name}:/tmp/newdir`]);
    assert.equal(await fileIn(name, '/tmp/file.txt'), 'file content\n');
    assert.equal(await fileIn(name, '/tmp/renamed.txt'), 'file content\n');
    assert.equal(await fileIn(name, '/tmp/dir/sub/b'), 'B');
    assert.equal(await fileIn(name, '/tmp/newdir/a'), 'A');

    const out = join(work, `out-${c}`);
    await mkdir(out);
    await ok(c, ['cp', `${name}:/tmp/dir`, out]);
    await ok(c, ['cp', `${name}:/tmp/dir`, join(out, 'copy')]);
    await ok(c, ['cp', `${name}:/tmp/file.txt`, join(out, 'f.txt')]);
    assert.equal(await readFile(join(out, 'dir/sub/b'), 'utf8'), 'B');
    assert.equal(await readFile(join(out, 'copy/a'), 'utf8'), 'A');
    assert.equal(await readFile(join(out, 'f.txt'), 'utf8'), 'file content\n');

    const errors: Array<[string[], RegExp]> = [
      [['cp', `${name}:/nope`, out], new RegExp(`Could not find the file /nope in container ${name}`)],
      [['cp', join(src, 'file.txt'), `${name}:/nope/x`], new RegExp(`Could not find the file /nope in container ${name}`)],
      [['cp', join(src, 'dir'), `${name}:/tmp/file.txt`], /cannot copy directory/],
      [['cp', join(src, 'file.txt'), `${name}:/tmp/nonexist/`], /no such directory/],
      [['cp', `${name}:/tmp/file.txt`, join(out, 'missing/x')], /invalid output path: directory ".*\/missing" does not exist/],
    ];
    for (const [args, re] of errors) {
      const r = await cli(c, args);
      assert.equal(r.code, 1, `${c} ${args.join(' ')}`);
      assert.match(r.stderr, re);
    }
  }
  assert.deepEqual(await mountedRootfs(), [], 'a stopped container is unmounted after cp');
});

test('the "/." rule: a directory\'s content, not the directory', async () => {
  for (const c of clis) {
    const src = await fixture(`dot-${c}`);
    const name = `cp-dot-${c}`;
    await ok(c, ['create', '--name', name, 'busybox', 'true']);
    await ok(c, ['cp', `${join(src, 'dir')}/.`, `${name}:/tmp`]);
    await ok(c, ['cp', `${join(src, 'dir')}/.`, `${name}:/tmp/fresh`]);
    const names = await namesIn(name, '/tmp');
    for (const n of ['tmp/a', 'tmp/sub/b', 'tmp/fresh/a', 'tmp/fresh/sub/b']) assert.ok(names.includes(n), `${c}: ${n} in ${names.join(' ')}`);
    assert.ok(!names.includes('tmp/dir/'), 'the directory itself was not copied');
    const out = join(work, `dot-out-${c}`);
    await mkdir(out);
    await ok(c, ['cp', `${name}:/tmp/fresh/.`, out]);
    assert.deepEqual((await readdir(out)).sort(), ['a', 'sub']);
    const getNames = await namesIn(name, '/tmp/fresh/.');
    assert.equal(getNames[0], './');
  }
});

test('-a: the container user owns what is copied in; without it the archive\'s owner stays', async () => {
  for (const c of clis) {
    const src = await fixture(`own-${c}`);
    await chown(join(src, 'file.txt'), 1234, 5678);
    const name = `cp-own-${c}`;
    await ok(c, ['create', '--name', name, '-u', 'nobody', 'busybox', 'true']);
    await ok(c, ['cp', '-a', join(src, 'file.txt'), `${name}:/tmp/owned`]);
    await ok(c, ['cp', join(src, 'file.txt'), `${name}:/tmp/kept`]);
    const items = await readTar((await raw('docker', ['cp', `${name}:/tmp`, '-'])).stdout);
    const owner = (n: string): [number, number] => {
      const it = items.find((i) => i.name === n);
      assert.ok(it, n);
      return [it.uid, it.gid];
    };
    assert.deepEqual(owner('tmp/owned'), [65534, 65534]);
    assert.deepEqual(owner('tmp/kept'), [1234, 5678]);
  }
});

test('tar streams through "-", both ways', async () => {
  for (const c of clis) {
    const name = `cp-stream-${c}`;
    await ok(c, ['create', '--name', name, 'busybox', 'true']);
    const input = await makeTar([{ name: 'in/', type: 'directory' }, { name: 'in/x.txt', body: 'streamed' }]);
    const put = await raw(c, ['cp', '-', `${name}:/tmp`], input);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(await fileIn(name, '/tmp/in/x.txt'), 'streamed');
    const bad = await raw(c, ['cp', '-', `${name}:/etc/passwd`], input);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, new RegExp(`destination "${name}:/etc/passwd" must be a directory`));
    const get = await raw(c, ['cp', `${name}:/tmp/in`, '-']);
    assert.equal(get.code, 0, get.stderr);
    assert.deepEqual((await readTar(get.stdout)).map((i) => [i.name, i.body]), [['in/', ''], ['in/x.txt', 'streamed']]);
  }
});

test('a running container: cp both ways, it keeps running unpaused; /etc/hosts is its own', async () => {
  const name = 'cp-running';
  await ok('docker', ['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo inside > /tmp/made-inside; exec sleep 600']);
  const src = await fixture('running');
  for (let i = 0; i < 100; i++) {
    if ((await raw('docker', ['cp', `${name}:/tmp/made-inside`, '-'])).code === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await fileIn(name, '/tmp/made-inside'), 'inside\n');
  await ok('berth', ['cp', join(src, 'dir'), `${name}:/tmp/`]);
  await ok('docker', ['cp', join(src, 'file.txt'), `${name}:/tmp/`]);
  assert.equal(await fileIn(name, '/tmp/dir/a'), 'A');
  const state = JSON.parse(await ok('docker', ['inspect', name]))[0].State;
  assert.equal(state.Running, true);
  assert.equal(state.Paused, false);
  assert.match(await fileIn(name, '/etc/hosts'), /localhost/);
  assert.equal((await fileIn(name, '/etc/hostname')).trim(), JSON.parse(await ok('docker', ['inspect', name]))[0].Config.Hostname);
  const events = await ok('docker', ['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${name}`, '--format', '{{.Action}}']);
  assert.ok(events.includes('archive-path'), events);
  assert.ok(events.includes('extract-to-dir'), events);
  assert.ok(!events.includes('pause'), 'the freeze for extraction is no user-visible pause');
  await ok('docker', ['rm', '-f', name]);
});

test('volumes and binds: cp reads and writes through them, ro refused, their symlinks stay in the container', async () => {
  const name = 'cp-volumes';
  const bind = await mkdtemp(join(work, 'bind-'));
  await writeFile(join(bind, 'b.txt'), 'bound\n');
  await ok('docker', ['run', '-d', '--name', name, '-v', 'cp-vol:/data', '-v', `${bind}:/ro:ro`, 'busybox', 'sh', '-c', 'ln -s / /data/escape; exec sleep 600']);
  const src = await fixture('volumes');
  for (const c of clis) {
    await ok(c, ['cp', join(src, 'file.txt'), `${name}:/data/from-${c}.txt`]);
    assert.equal(await fileIn(name, `/data/from-${c}.txt`), await readFile(join(src, 'file.txt'), 'utf8'));
    const r = await cli(c, ['cp', join(src, 'file.txt'), `${name}:/ro/`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /mounted volume is marked read-only/);
  }
  const items = await readTar((await raw('docker', ['cp', `${name}:/ro/b.txt`, '-'])).stdout);
  assert.deepEqual(items.map((i) => [i.name, i.body]), [['b.txt', 'bound\n']]);
  // /data/escape -> / is the container's root: its own hostname, not the host's.
  const hostname = JSON.parse(await ok('docker', ['inspect', name]))[0].Config.Hostname as string;
  const viaLink = await readTar((await raw('berth', ['cp', `${name}:/data/escape/etc/hostname`, '-'])).stdout);
  assert.equal(viaLink[0]?.body.trim(), hostname);
  // Stopped, the volume is still there for cp.
  await ok('docker', ['stop', '-t', '0', name]);
  assert.deepEqual((await readTar((await raw('berth', ['cp', `${name}:/data/from-docker.txt`, '-'])).stdout)).map((i) => i.name), ['from-docker.txt']);
  await ok('docker', ['rm', '-v', name]);
  await ok('docker', ['volume', 'rm', 'cp-vol']);
});

test('a hostile container: symlinks it planted lead into its rootfs, never the host', async () => {
  const secret = `host-secret-${randomBytes(6).toString('hex')}`;
  const pwned = `berth-pwned-${randomBytes(6).toString('hex')}`;
  await writeFile(join(work, 'secret'), secret);
  const plant = `ln -s / /escape; ln -s /etc /tmp/x; ln -s ${work} /tmp/hostdir; echo container-shadow > /etc/shadow; mkdir -p /tmp/d; ln -s ../../../.. /tmp/d/up`;
  await ok('docker', ['run', '--name', 'evil', 'busybox', 'sh', '-c', plant]);
  await ok('docker', ['run', '-d', '--name', 'evil-running', 'busybox', 'sh', '-c', `${plant}; exec sleep 600`]);
  for (let i = 0; i < 100; i++) {
    if ((await raw('docker', ['cp', 'evil-running:/tmp/d/up', '-'])).code === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const src = await fixture('evil');
  for (const name of ['evil', 'evil-running']) {
    for (const c of clis) {
      const out = join(work, `evil-out-${name}-${c}`);
      await mkdir(out);
      await ok(c, ['cp', `${name}:/escape/etc/shadow`, join(out, 'shadow')]);
      assert.equal(await readFile(join(out, 'shadow'), 'utf8'), 'container-shadow\n');
      await ok(c, ['cp', `${name}:/tmp/x/shadow`, join(out, 'shadow2')]);
      assert.equal(await readFile(join(out, 'shadow2'), 'utf8'), 'container-shadow\n');
      // The host path the link names is looked up in the container, where it is not.
      const r = await cli(c, ['cp', `${name}:/tmp/hostdir/secret`, join(out, 'secret')]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Could not find the file \/tmp\/hostdir\/secret/);
      await ok(c, ['cp', join(src, 'file.txt'), `${name}:/escape/tmp/${pwned}`]);
      await ok(c, ['cp', join(src, 'file.txt'), `${name}:/tmp/x/`]);
      const via = await cli(c, ['cp', join(src, 'dir'), `${name}:/tmp/hostdir/${pwned}`]);
      assert.equal(via.code, 1);
      assert.match(via.stderr, /Could not find the file \/tmp\/hostdir in container/);
      await assert.rejects(access(`/tmp/${pwned}`), 'nothing landed in the host /tmp');
      await assert.rejects(access(join(work, pwned)), 'nothing landed in the host directory the link names');
      assert.equal(await fileIn(name, `/tmp/${pwned}`), 'file content\n');
      assert.equal(await fileIn(name, '/etc/file.txt'), 'file content\n');
      // Out of the container, a link climbing out of the destination is refused by the CLI.
      const up = await cli(c, ['cp', `${name}:/tmp/d`, join(out, 'd')]);
      assert.equal(up.code, 1);
      assert.match(up.stderr, /invalid symlink/);
      await assert.rejects(lstat(join(out, 'd/up')));
    }
  }
  await assert.rejects(access(`/tmp/${pwned}`));
  await ok('docker', ['rm', '-f', 'evil', 'evil-running']);
});

test('cp racing a start: the start waits for the copy, the copy never unmounts a started rootfs', async () => {
  const src = await fixture('race');
  const name = 'cp-race';
  const id = (await ok('docker', ['create', '--name', name, 'busybox', 'sleep', '600'])).trim();
  const copies = [0, 1, 2, 3].map((i) => cli(i % 2 ? 'docker' : 'berth', ['cp', join(src, 'file.txt'), `${name}:/tmp/f${i}`]));
  const start = cli('docker', ['start', name]);
  const results = await Promise.all([...copies, start]);
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(await ok('docker', ['inspect', name]))[0].State.Running, true);
  assert.ok((await mountedRootfs()).includes(`${d.dataRoot}/overlay2/${id}/merged`), 'the running container keeps its rootfs');
  for (let i = 0; i < 4; i++) assert.equal(await fileIn(name, `/tmp/f${i}`), 'file content\n');
  const ls = await ok('docker', ['exec', name, 'ls', '/tmp']);
  assert.deepEqual(ls.trim().split('\n').filter((f) => f.startsWith('f')), ['f0', 'f1', 'f2', 'f3']);
  await ok('docker', ['rm', '-f', name]);
});
