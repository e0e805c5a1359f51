import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { locate } from '../../src/container/archive-rootfs.js';
import { nodeTar } from '../../src/container/archive-tar.js';

interface Entry {
  name: string;
  type: string;
  linkname?: string | null;
  body: string;
  mode: number;
  mtime: number;
}

async function list(stream: Readable): Promise<Entry[]> {
  const out: Entry[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: unknown) => chunks.push(c as Buffer));
      s.on('end', () => {
        out.push({ name: h.name, type: h.type ?? '', linkname: h.linkname, body: Buffer.concat(chunks).toString(), mode: h.mode ?? 0, mtime: h.mtime?.getTime() ?? 0 });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

async function fixture(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-archive-tar-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc/sub'), { recursive: true });
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0\n');
  await writeFile(join(root, 'etc/hosts'), ''); // a placeholder, as the init layer's
  await writeFile(join(root, 'etc/sub/b'), 'b');
  await chmod(join(root, 'etc/sub/b'), 0o4711);
  await link(join(root, 'etc/passwd'), join(root, 'etc/passwd-'));
  await symlink('/', join(root, 'etc/escape'));
  execFileSync('mkfifo', [join(root, 'etc/fifo')]);
  await utimes(join(root, 'etc/passwd'), 1_700_000_000.75, 1_700_000_000.75);
  return root;
}

test('a directory under its own name, as moby names cp archives', async (t) => {
  const root = await fixture(t);
  const node = await locate(root, '/etc', false);
  t.after(() => node.close());
  const entries = await list(nodeTar(node, 'etc'));
  assert.deepEqual(
    entries.map((e) => `${e.type} ${e.name}${e.linkname ? ` -> ${e.linkname}` : ''}`),
    [
      'directory etc/',
      'symlink etc/escape -> /',
      'fifo etc/fifo',
      'file etc/hosts',
      'file etc/passwd',
      'link etc/passwd- -> etc/passwd',
      'directory etc/sub/',
      'file etc/sub/b',
    ],
  );
  const passwd = entries.find((e) => e.name === 'etc/passwd')!;
  assert.equal(passwd.body, 'root:x:0:0\n');
  assert.equal(passwd.mtime, 1_700_000_000_000, 'whole seconds');
  assert.equal(entries.find((e) => e.name === 'etc/sub/b')!.mode, 0o4711);
});

test('"." names the content ("dir/."), "" the root (entries start with "/"), null exports', async (t) => {
  const root = await fixture(t);
  const etc = await locate(root, '/etc/.', true);
  t.after(() => etc.close());
  assert.deepEqual((await list(nodeTar(etc, '.'))).slice(0, 3).map((e) => e.name), ['./', './escape', './fifo']);
  const top = await locate(root, '/', true);
  t.after(() => top.close());
  assert.deepEqual((await list(nodeTar(top, ''))).slice(0, 3).map((e) => e.name), ['/', '/etc/', '/etc/escape']);
  assert.deepEqual((await list(nodeTar(top, null))).slice(0, 2).map((e) => e.name), ['etc/', 'etc/escape']);
});

test('a single file or symlink is one entry; a symlink is never followed', async (t) => {
  const root = await fixture(t);
  const file = await locate(root, '/etc/passwd', false);
  t.after(() => file.close());
  assert.deepEqual((await list(nodeTar(file, 'passwd'))).map((e) => [e.name, e.body]), [['passwd', 'root:x:0:0\n']]);
  const lnk = await locate(root, '/etc/escape', false);
  t.after(() => lnk.close());
  assert.deepEqual((await list(nodeTar(lnk, 'escape'))).map((e) => [e.type, e.name, e.linkname]), [['symlink', 'escape', '/']]);
});

test('files bind-mounted into the container are read instead of their placeholders', async (t) => {
  const root = await fixture(t);
  const hostsFile = join(root, '..', `${root.split('/').pop()}-hosts`);
  await writeFile(hostsFile, '127.0.0.1 localhost\n');
  t.after(() => rm(hostsFile, { force: true }));
  const mounts = new Map([['/etc/hosts', hostsFile]]);
  const etc = await locate(root, '/etc', false);
  t.after(() => etc.close());
  const hosts = (await list(nodeTar(etc, 'etc', mounts))).find((e) => e.name === 'etc/hosts')!;
  assert.equal(hosts.body, '127.0.0.1 localhost\n');
  const one = await locate(root, '/etc/hosts', false);
  t.after(() => one.close());
  assert.deepEqual((await list(nodeTar(one, 'hosts', mounts))).map((e) => e.body), ['127.0.0.1 localhost\n']);
});
