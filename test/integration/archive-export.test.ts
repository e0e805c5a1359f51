import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { TestDaemon } from '../helpers/daemon.js';

// `diff`, `export` and the export → import round trip, with the berth CLI and the docker
// CLI 28 against a real berthd.
let d: TestDaemon;
let work: string;

before(async () => {
  d = await TestDaemon.start();
  work = await mkdtemp('/tmp/berth-archive-export-');
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

async function ok(cli: 'berth' | 'docker', args: string[]): Promise<string> {
  const r = await d.run(args, { cli });
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function tarNames(buf: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: unknown) => chunks.push(c as Buffer));
      s.on('end', () => {
        out.set(h.name, h.type === 'file' ? Buffer.concat(chunks).toString() : h.type ?? '');
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return out;
}

async function mounted(): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(`${d.dataRoot}/overlay2/`));
}

test('diff shows A/C/D as docker does', async () => {
  await ok('docker', ['run', '--name', 'changed', 'busybox', 'sh', '-c', 'touch /tmp/a; rm /etc/shadow; echo x >> /etc/passwd; mkdir /newdir; echo n > /newdir/f']);
  for (const cli of ['berth', 'docker'] as const) {
    const lines = (await ok(cli, ['diff', 'changed'])).trim().split('\n');
    for (const want of ['C /tmp', 'A /tmp/a', 'C /etc', 'D /etc/shadow', 'C /etc/passwd', 'A /newdir', 'A /newdir/f']) {
      assert.ok(lines.includes(want), `${cli}: "${want}" in\n${lines.join('\n')}`);
    }
    // The init layer's files and the bind-mounted /etc/hosts are no change of the container.
    assert.ok(!lines.some((l) => /\/etc\/(hosts|hostname|resolv\.conf)$/.test(l)), lines.join('\n'));
  }
  await ok('docker', ['create', '--name', 'pristine', 'busybox', 'true']);
  assert.equal(await ok('docker', ['diff', 'pristine']), '');
  assert.equal(await ok('berth', ['diff', 'pristine']), '');
  const missing = await d.run(['diff', 'nosuch'], { cli: 'docker' });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such container: nosuch/);
});

test('export → import: the container\'s filesystem becomes an image that runs', async () => {
  const file = join(work, 'changed.tar');
  await ok('docker', ['export', '-o', file, 'changed']);
  const entries = await tarNames(await readFile(file));
  assert.equal(entries.get('newdir/f'), 'n\n');
  assert.ok(entries.has('bin/busybox'));
  assert.ok(entries.has('tmp/a'));
  assert.ok(!entries.has('etc/shadow'), 'deleted files are not exported');
  assert.ok(![...entries.keys()].some((n) => n.startsWith('/') || n.startsWith('./')), 'names relative to the root');
  assert.deepEqual(await mounted(), [], 'the stopped container is unmounted again');

  await ok('berth', ['export', '-o', join(work, 'berth.tar'), 'changed']);
  assert.deepEqual([...(await tarNames(await readFile(join(work, 'berth.tar')))).keys()], [...entries.keys()]);

  await ok('docker', ['import', file, 'reimported:v1']);
  assert.equal(await ok('docker', ['run', '--rm', 'reimported:v1', 'cat', '/newdir/f']), 'n\n');
  const ls = await d.run(['run', '--rm', 'reimported:v1', 'ls', '/etc/shadow'], { cli: 'docker' });
  assert.notEqual(ls.code, 0);

  const events = await ok('docker', ['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=export', '--format', '{{.Actor.Attributes.name}}']);
  assert.ok(events.split('\n').includes('changed'), events);
});

test('export of a running container, through stdout', async () => {
  await ok('docker', ['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo live > /live.txt; exec sleep 600']);
  const { spawn } = await import('node:child_process');
  const chunks: Buffer[] = [];
  let entries = new Map<string, string>();
  for (let i = 0; i < 100 && !entries.has('live.txt'); i++) {
    chunks.length = 0;
    const code = await new Promise<number>((resolve, reject) => {
      const p = spawn('docker', ['-H', d.host, 'export', 'live'], { env: { ...process.env, DOCKER_CONFIG: join(d.dir, 'docker-config') } });
      p.stdout.on('data', (c: Buffer) => chunks.push(c));
      p.on('error', reject);
      p.on('close', (c) => resolve(c ?? 1));
    });
    assert.equal(code, 0);
    entries = await tarNames(Buffer.concat(chunks));
  }
  assert.equal(entries.get('live.txt'), 'live\n');
  const state = JSON.parse(await ok('docker', ['inspect', 'live']))[0].State;
  assert.equal(state.Running, true);
  await ok('docker', ['rm', '-f', 'live']);
});
