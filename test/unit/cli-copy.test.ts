import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile, readlink, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import {
  decodePathStat,
  extractTo,
  prepareArchiveCopy,
  rebaseArchive,
  rebaseName,
  resolveLocalPath,
  splitPathDirEntry,
  statIsDir,
  tarResource,
  CopyError,
} from '../../src/cli/copy-archive.js';

test('splitPathDirEntry as moby splits', () => {
  assert.deepEqual(splitPathDirEntry('/a/b'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
  assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
  assert.deepEqual(splitPathDirEntry('b'), ['.', 'b']);
  assert.deepEqual(splitPathDirEntry('/'), ['/', '/']);
});

test('resolveLocalPath keeps a trailing "/" or "/."', () => {
  assert.equal(resolveLocalPath('/x/y/'), '/x/y/');
  assert.equal(resolveLocalPath('/x/y/.'), '/x/y/.');
  assert.equal(resolveLocalPath('/x/y'), '/x/y');
});

test('PrepareArchiveCopy cases', () => {
  const file = { path: '/src/f', exists: true, isDir: false };
  const dir = { path: '/src/d', exists: true, isDir: true };
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst', exists: true, isDir: true }), { dstDir: '/dst' });
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/g', exists: true, isDir: false }), { dstDir: '/dst', from: 'f', to: 'g' });
  assert.throws(() => prepareArchiveCopy(dir, { path: '/dst/g', exists: true, isDir: false }), CopyError);
  assert.deepEqual(prepareArchiveCopy(dir, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', from: 'd', to: 'new' });
  assert.throws(() => prepareArchiveCopy(file, { path: '/dst/new/', exists: false, isDir: false }), CopyError);
  assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/new', exists: false, isDir: false }), { dstDir: '/dst', from: 'f', to: 'new' });
});

test('rebaseName', () => {
  assert.equal(rebaseName('d', 'd', 'e'), 'e');
  assert.equal(rebaseName('d/', 'd', 'e'), 'e/');
  assert.equal(rebaseName('d/x/y', 'd', 'e'), 'e/x/y');
  assert.equal(rebaseName('dd/x', 'd', 'e'), 'dd/x');
  assert.equal(rebaseName('./x', '.', 'e'), 'e/x');
});

test('path stat header', () => {
  const st = { name: 'etc', size: 4096, mode: 2 ** 31 + 0o755, mtime: '2024-01-01T00:00:00Z', linkTarget: '' };
  const decoded = decodePathStat(Buffer.from(JSON.stringify(st)).toString('base64'));
  assert.ok(decoded && statIsDir(decoded));
  assert.equal(decodePathStat(undefined), undefined);
});

test('tar a local tree, rename it, extract it; entries outside the destination are refused', async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), 'berth-cli-cp-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'src/sub'), { recursive: true });
  await writeFile(path.join(root, 'src/a.txt'), 'A');
  await writeFile(path.join(root, 'src/sub/b.txt'), 'B', { mode: 0o600 });
  await symlink('a.txt', path.join(root, 'src/link'));
  const archive = await tarResource({ path: path.join(root, 'src'), exists: true, isDir: true });
  await mkdir(path.join(root, 'out'));
  await extractTo(await rebaseArchive(archive, 'src', 'copy'), path.join(root, 'out'));
  assert.equal(await readFile(path.join(root, 'out/copy/a.txt'), 'utf8'), 'A');
  assert.equal(await readFile(path.join(root, 'out/copy/sub/b.txt'), 'utf8'), 'B');
  assert.equal((await stat(path.join(root, 'out/copy/sub/b.txt'))).mode & 0o777, 0o600);
  assert.equal(await readlink(path.join(root, 'out/copy/link')), 'a.txt');

  const evil = tar.pack();
  evil.entry({ name: '../escape.txt' }, 'x');
  evil.finalize();
  await assert.rejects(extractTo(evil as unknown as Readable, path.join(root, 'out')), /is outside of/);
});
