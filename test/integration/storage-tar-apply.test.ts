import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { applyLayerTar } from '../../src/storage/tar-apply.js';
import { lgetxattr } from '../../src/storage/syscalls.js';
import { BerthError } from '../../src/util/errors.js';
import { dir, file, hardlinkEntry, listTree, makeTar, streamOf, symlinkEntry, tempDir } from './storage-fixtures.js';
import type { TarEntry } from './storage-fixtures.js';

// Policy under test (see tar-apply.ts): a relative name climbing above the root and a
// hardlink whose target is outside or absent are errors (as Docker's breakoutError); a
// rooted name and anything reached through a symlink are confined to the root, like a chroot.

interface Sandbox {
  sandbox: string;
  root: string;
  before: string[];
}

// root sits two levels down a fresh tree, so "../../" from it still lands in the tree.
async function sandbox(t: Parameters<typeof tempDir>[0]): Promise<Sandbox> {
  const sb = await tempDir(t);
  const root = `${sb}/a/b/root`;
  await mkdir(root, { recursive: true });
  await mkdir(`${sb}/outside-dir`, { mode: 0o755 });
  await chmod(`${sb}/outside-dir`, 0o755);
  await writeFile(`${sb}/outside-file`, 'original');
  await chmod(`${sb}/outside-file`, 0o644);
  return { sandbox: sb, root, before: await outsideState(sb) };
}

// Everything in the tree but the root's own content, with modes, owners and file bodies.
async function outsideState(sb: string): Promise<string[]> {
  const out: string[] = [];
  for (const rel of await listTree(sb)) {
    // The root's own link count changes with its content; only what is around it matters.
    if (rel.startsWith('a/b/root/')) continue;
    const st = await lstat(`${sb}/${rel}`);
    const body = st.isFile() ? await readFile(`${sb}/${rel}`, 'utf8') : '';
    out.push(`${rel} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.nlink} ${body}`);
  }
  return out;
}

async function apply(root: string, entries: TarEntry[]): Promise<void> {
  await applyLayerTar(streamOf(await makeTar(entries)), root);
}

const isInvalid = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, `expected a BerthError, got ${String(err)}`);
  assert.equal(err.kind, 'InvalidParameter');
  assert.match(err.message, pattern);
  return true;
};

test('"../evil" is a breakout error and writes nothing outside', async (t) => {
  const s = await sandbox(t);
  for (const name of ['../evil', './../../evil', 'x/../../evil']) {
    await assert.rejects(apply(s.root, [file('ok'), file(name, 'evil')]), isInvalid(/outside of the layer root/), name);
  }
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('an absolute name is extracted under the root', async (t) => {
  const s = await sandbox(t);
  await apply(s.root, [file('/abs/evil', 'x'), file('/../../rooted', 'y')]);
  assert.equal(await readFile(`${s.root}/abs/evil`, 'utf8'), 'x');
  assert.equal(await readFile(`${s.root}/rooted`, 'utf8'), 'y');
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('a file through an absolute symlink stays inside the root', async (t) => {
  const s = await sandbox(t);
  await apply(s.root, [symlinkEntry('link', `${s.sandbox}/outside-dir`), file('link/file', 'x')]);
  assert.equal(await readlink(`${s.root}/link`), `${s.sandbox}/outside-dir`);
  assert.equal(await readFile(`${s.root}${s.sandbox}/outside-dir/file`, 'utf8'), 'x');
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('a file through a climbing relative symlink stays inside the root', async (t) => {
  const s = await sandbox(t);
  await apply(s.root, [symlinkEntry('l', '../../'), file('l/x', 'x'), symlinkEntry('deep/l2', '../../../../outside-dir'), file('deep/l2/y', 'y')]);
  assert.equal(await readFile(`${s.root}/x`, 'utf8'), 'x');
  assert.equal(await readFile(`${s.root}/outside-dir/y`, 'utf8'), 'y');
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('entries replacing a symlink never write, chmod or chown through it', async (t) => {
  const s = await sandbox(t);
  await apply(s.root, [
    symlinkEntry('esc', '../../../outside-file'),
    file('esc', 'pwned', { mode: 0o777, uid: 1234 }),
    symlinkEntry('d', `${s.sandbox}/outside-dir`),
    dir('d', { mode: 0o777, uid: 1234 }),
    symlinkEntry('s', `${s.sandbox}/outside-file`),
    hardlinkEntry('hs', 's'),
  ]);
  assert.ok((await lstat(`${s.root}/esc`)).isFile());
  assert.ok((await lstat(`${s.root}/d`)).isDirectory());
  assert.equal((await lstat(`${s.root}/hs`)).ino, (await lstat(`${s.root}/s`)).ino);
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('a hardlink to a host path or outside the root is an error', async (t) => {
  const s = await sandbox(t);
  const passwdLinks = (await stat('/etc/passwd')).nlink;
  await assert.rejects(apply(s.root, [hardlinkEntry('h', '/etc/passwd')]), isInvalid(/does not exist in the layer/));
  await assert.rejects(apply(s.root, [hardlinkEntry('h', '../outside-file')]), isInvalid(/outside of the layer root/));
  await assert.rejects(apply(s.root, [hardlinkEntry('h', '../../../outside-file')]), isInvalid(/outside of the layer root/));
  await assert.rejects(
    apply(s.root, [symlinkEntry('hostetc', '/etc'), hardlinkEntry('h', 'hostetc/passwd')]),
    isInvalid(/does not exist in the layer/),
  );
  await assert.rejects(
    apply(s.root, [symlinkEntry('up', '../../..'), hardlinkEntry('h', 'up/outside-file')]),
    isInvalid(/does not exist in the layer/),
  );
  await assert.rejects(apply(s.root, [dir('dd'), hardlinkEntry('h', 'dd')]), isInvalid(/is a directory/));
  assert.equal((await stat('/etc/passwd')).nlink, passwdLinks);
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('a hardlink through a symlink links the file inside the root', async (t) => {
  const s = await sandbox(t);
  await apply(s.root, [file('etc/passwd', 'root:x:0:0'), symlinkEntry('e', '/etc'), hardlinkEntry('h', 'e/passwd')]);
  assert.equal((await lstat(`${s.root}/h`)).ino, (await lstat(`${s.root}/etc/passwd`)).ino);
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('whiteouts, opaque markers and devices through symlinks stay inside the root', async (t) => {
  const s = await sandbox(t);
  await apply(s.root, [
    symlinkEntry('w', `${s.sandbox}/outside-dir`),
    file('w/.wh.foo'),
    file('w/.wh..wh..opq'),
    { header: { name: 'w/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: 'w/fifo', type: 'fifo', mode: 0o644 } },
  ]);
  const inside = `${s.root}${s.sandbox}/outside-dir`;
  assert.ok((await lstat(`${inside}/foo`)).isCharacterDevice());
  assert.ok((await lstat(`${inside}/null`)).isCharacterDevice());
  assert.ok((await lstat(`${inside}/fifo`)).isFIFO());
  assert.equal(lgetxattr(inside, 'trusted.overlay.opaque')?.toString(), 'y');
  assert.equal(lgetxattr(`${s.sandbox}/outside-dir`, 'trusted.overlay.opaque'), null);
  assert.deepEqual(await outsideState(s.sandbox), s.before);
});

test('ownership, modes, times, links, devices and xattrs are kept', async (t) => {
  const root = await tempDir(t);
  const mtime = new Date('2001-02-03T04:05:06Z');
  const dirTime = new Date('1999-12-31T23:59:59Z');
  await apply(root, [
    dir('bin', { mode: 0o755, uid: 0, gid: 0, mtime: dirTime }),
    file('bin/su', '#!/bin/sh\n', { mode: 0o4755, uid: 0, gid: 0, mtime }),
    file('bin/sg', 'x', { mode: 0o2711, uid: 1234, gid: 5678, mtime }),
    dir('tmp', { mode: 0o1777, mtime: dirTime }),
    file('tmp/late-child', 'written after the dir entry'),
    symlinkEntry('bin/sh', 'su'),
    // A hardlink header carries its target's metadata (GNU tar writes it so) and, as in
    // Docker, is applied to the shared inode.
    { header: { ...hardlinkEntry('bin/su2', 'bin/su').header, mode: 0o4755, mtime } },
    { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 } },
    { header: { name: 'dev/loop0', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660, gid: 6 } },
    { header: { name: 'run/fifo', type: 'fifo', mode: 0o600, uid: 42 } },
    file('attrs', 'x', { pax: { 'SCHILY.xattr.user.comment': 'hello', 'SCHILY.xattr.trusted.overlay.opaque': 'y' } }),
  ]);
  const su = await lstat(`${root}/bin/su`);
  assert.equal(su.mode & 0o7777, 0o4755, 'setuid survives chown');
  assert.equal(su.mtime.getTime(), mtime.getTime());
  const sg = await lstat(`${root}/bin/sg`);
  assert.equal(sg.mode & 0o7777, 0o2711);
  assert.deepEqual([sg.uid, sg.gid], [1234, 5678]);
  const tmp = await lstat(`${root}/tmp`);
  assert.equal(tmp.mode & 0o7777, 0o1777);
  assert.equal(tmp.mtime.getTime(), dirTime.getTime(), 'dir mtime set after its children');
  assert.equal((await lstat(`${root}/bin`)).mtime.getTime(), dirTime.getTime());
  assert.equal(await readlink(`${root}/bin/sh`), 'su');
  assert.equal((await lstat(`${root}/bin/su2`)).ino, su.ino);
  const nul = await lstat(`${root}/dev/null`);
  assert.ok(nul.isCharacterDevice());
  assert.equal(nul.rdev, (1 << 8) | 3);
  assert.equal(nul.mode & 0o7777, 0o666);
  const loop = await lstat(`${root}/dev/loop0`);
  assert.ok(loop.isBlockDevice());
  assert.equal(loop.rdev, 7 << 8);
  assert.equal(loop.gid, 6);
  const fifo = await lstat(`${root}/run/fifo`);
  assert.ok(fifo.isFIFO());
  assert.equal(fifo.uid, 42);
  assert.equal(lgetxattr(`${root}/attrs`, 'user.comment')?.toString(), 'hello');
  assert.equal(lgetxattr(`${root}/attrs`, 'trusted.overlay.opaque'), null, 'overlay xattrs from the archive are dropped');
});

test('the diff id hashes the whole uncompressed tar, gzip or not', async (t) => {
  const entries = [dir('etc'), file('etc/os-release', 'ID=test\n'), file('big', Buffer.alloc(200_000, 7))];
  const plain = await makeTar(entries, { padding: 10240 });
  const want = `sha256:${createHash('sha256').update(plain).digest('hex')}`;
  const a = await applyLayerTar(streamOf(plain), await tempDir(t));
  assert.deepEqual(a, { diffId: want, tarSize: plain.length });
  const gz = await makeTar(entries, { padding: 10240, gzip: true });
  assert.notEqual(gz[0], plain[0]);
  const b = await applyLayerTar(streamOf(gz), await tempDir(t));
  assert.deepEqual(b, { diffId: want, tarSize: plain.length });
  const empty = await applyLayerTar(Readable.from([]), await tempDir(t));
  assert.equal(empty.diffId, `sha256:${createHash('sha256').digest('hex')}`);
});

test('whiteouts become 0:0 char devices, opaque markers an xattr', async (t) => {
  const root = await tempDir(t);
  await apply(root, [
    file('.wh.gone', '', { uid: 7, gid: 8 }),
    dir('d'),
    file('d/.wh..wh..opq'),
    file('d/kept', 'k'),
    file('.wh..wh.plnk'),
    file('sub/.wh.nested'),
  ]);
  const gone = await lstat(`${root}/gone`);
  assert.ok(gone.isCharacterDevice());
  assert.equal(gone.rdev, 0);
  assert.deepEqual([gone.uid, gone.gid], [7, 8]);
  assert.ok((await lstat(`${root}/sub/nested`)).isCharacterDevice());
  assert.equal(lgetxattr(`${root}/d`, 'trusted.overlay.opaque')?.toString(), 'y');
  assert.deepEqual(await listTree(root), ['d/', 'd/kept', 'gone', 'sub/', 'sub/nested']);
});

test('a later entry replaces an earlier one as Docker does', async (t) => {
  const root = await tempDir(t);
  await apply(root, [
    file('x', 'file first'),
    dir('x'),
    file('x/child', 'c'),
    dir('y'),
    file('y/child', 'c'),
    file('y', 'file replaces dir'),
    dir('z', { mode: 0o700 }),
    file('z/one', '1'),
    dir('z', { mode: 0o750 }),
    file('z/two', '2'),
    file('f', 'old'),
    file('f', 'new'),
    symlinkEntry('s', 'x'),
    file('s/through', 't'),
  ]);
  assert.deepEqual(await listTree(root), ['f', 's', 'x/', 'x/child', 'x/through', 'y', 'z/', 'z/one', 'z/two']);
  assert.equal(await readFile(`${root}/y`, 'utf8'), 'file replaces dir');
  assert.equal(await readFile(`${root}/f`, 'utf8'), 'new');
  assert.equal((await lstat(`${root}/z`)).mode & 0o777, 0o750, 'merged dirs take the later metadata');
});

test('bad input fails clearly', async (t) => {
  const root = await tempDir(t);
  await assert.rejects(applyLayerTar(Readable.from([Buffer.from('not a tar at all'.repeat(64))]), root), /Invalid tar header/);
  const good = await makeTar([file('a', 'x'.repeat(5000))]);
  await assert.rejects(applyLayerTar(Readable.from([good.subarray(0, 1500)]), root), /Unexpected end of data/);
  const zstd = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(100)]);
  await assert.rejects(applyLayerTar(Readable.from([zstd]), root), isInvalid(/zstd/));
  const gzGarbage = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 1)]);
  await assert.rejects(applyLayerTar(Readable.from([gzGarbage]), root));
  // A GNU sparse entry ('S'), which tar-stream cannot read: an error, not a garbled file.
  const sparse = Buffer.from(await makeTar([file('sparse', 'x')]));
  sparse[156] = 'S'.charCodeAt(0);
  sparse.fill(' ', 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += sparse[i] as number;
  sparse.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  await assert.rejects(applyLayerTar(Readable.from([sparse]), root), isInvalid(/unhandled tar header type/));
  const failing = new Readable({
    read() {
      this.destroy(new Error('source broke'));
    },
  });
  await assert.rejects(applyLayerTar(failing, root), /source broke/);
});
