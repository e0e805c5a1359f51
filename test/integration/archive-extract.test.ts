import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { applyLayerTar } from '../../src/storage/tar-apply.js';
import { dir, file, hardlinkEntry, makeTar, streamOf, symlinkEntry, tempDir } from './storage-fixtures.js';
import type { TarEntry } from './storage-fixtures.js';

// tar-apply's plain extraction for PUT /containers/{id}/archive (docker cp into a container):
// names land under a directory of the rootfs, symlinks still resolve against the rootfs's
// own root, whiteouts are plain files, the owner can be forced (cp -a with a Config.User),
// and a directory is not replaced by a file nor the reverse (noOverwriteDirNonDir).

async function rootfs(t: Parameters<typeof tempDir>[0]): Promise<{ top: string; root: string }> {
  const top = await tempDir(t, 'berth-archive-extract-');
  const root = `${top}/rootfs`;
  await mkdir(`${root}/etc`, { recursive: true });
  await mkdir(`${root}/tmp/dest`, { recursive: true });
  await mkdir(`${top}/etc`);
  await writeFile(`${root}/etc/passwd`, 'container');
  await writeFile(`${top}/etc/passwd`, 'host');
  await symlink('/', `${root}/tmp/dest/escape`);
  return { top, root };
}

const put = async (root: string, base: string, entries: TarEntry[], opts: Parameters<typeof applyLayerTar>[2] = {}): Promise<void> => {
  await applyLayerTar(streamOf(await makeTar(entries)), root, { base, whiteouts: false, noOverwriteDirNonDir: true, ...opts });
};

test('entries land under base; symlinks resolve to the rootfs, never the host', async (t) => {
  const { top, root } = await rootfs(t);
  await put(root, 'tmp/dest', [file('a.txt', 'A'), dir('d'), file('d/b', 'B'), file('escape/etc/passwd', 'through the link'), file('/abs', 'rooted')]);
  assert.equal(await readFile(`${root}/tmp/dest/a.txt`, 'utf8'), 'A');
  assert.equal(await readFile(`${root}/tmp/dest/d/b`, 'utf8'), 'B');
  assert.equal(await readFile(`${root}/tmp/dest/abs`, 'utf8'), 'rooted');
  assert.equal(await readFile(`${root}/etc/passwd`, 'utf8'), 'through the link');
  assert.equal(await readFile(`${top}/etc/passwd`, 'utf8'), 'host');
  await assert.rejects(put(root, 'tmp/dest', [file('../../x', 'climb')]), /outside of the layer root/);
  await assert.rejects(put(root, 'tmp/dest', [hardlinkEntry('h', '../../../etc/passwd')]), /invalid hardlink/);
});

test('whiteouts are plain files here; overlay xattrs are never written', async (t) => {
  const { root } = await rootfs(t);
  await put(root, 'tmp/dest', [file('.wh.x', 'not a whiteout'), file('.wh..wh..opq', '')]);
  assert.ok((await lstat(`${root}/tmp/dest/.wh.x`)).isFile());
  assert.ok((await lstat(`${root}/tmp/dest/.wh..wh..opq`)).isFile());
});

test('noOverwriteDirNonDir: moby\'s messages with container paths', async (t) => {
  const { root } = await rootfs(t);
  await mkdir(`${root}/tmp/dest/d`);
  await writeFile(`${root}/tmp/dest/f`, '');
  await assert.rejects(put(root, 'tmp/dest', [file('d', 'x')]), /^BerthError: cannot overwrite directory "\/tmp\/dest\/d" with non-directory "\/tmp\/dest"$/);
  await assert.rejects(put(root, 'tmp/dest', [dir('f')]), /cannot overwrite non-directory "\/tmp\/dest\/f" with directory "\/tmp\/dest"/);
  // Without the option, as for layers: replaced.
  await put(root, 'tmp/dest', [file('d', 'x')], { noOverwriteDirNonDir: false });
  assert.equal(await readFile(`${root}/tmp/dest/d`, 'utf8'), 'x');
});

test('owner overrides every entry\'s uid and gid; without it the tar\'s are kept', async (t) => {
  const { root } = await rootfs(t);
  await put(root, 'tmp/dest', [file('kept', 'k', { uid: 1234, gid: 5678 }), symlinkEntry('l', 'kept')]);
  const kept = await lstat(`${root}/tmp/dest/kept`);
  assert.deepEqual([kept.uid, kept.gid], [1234, 5678]);
  await put(root, 'tmp/dest', [dir('o', { uid: 1, gid: 1 }), file('o/f', 'x', { uid: 1234, gid: 5678 }), symlinkEntry('o/l', 'f')], { owner: { uid: 65534, gid: 65533 } });
  for (const p of ['o', 'o/f', 'o/l']) {
    const st = await lstat(`${root}/tmp/dest/${p}`);
    assert.deepEqual([st.uid, st.gid], [65534, 65533], p);
  }
});
