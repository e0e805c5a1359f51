import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { Overlay2Store } from '../../src/storage/overlay2.js';
import { ChangeKind, listChanges } from '../../src/storage/changes.js';
import { directoryTar } from '../../src/storage/layer-tar.js';
import { applyLayerTar } from '../../src/storage/tar-apply.js';
import { mknod, S_IFCHR } from '../../src/storage/syscalls.js';
import { dir, file, listTree, makeTar, mountsUnder, streamOf, symlinkEntry, tempDir } from './storage-fixtures.js';

const roots: string[] = [];
after(async () => {
  for (const root of roots) assert.deepEqual(await mountsUnder(root), [], `mounts left under ${root}`);
});

// Type, metadata and content of every path: two trees are the same filesystem if equal.
async function describe(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const rel of await listTree(root)) {
    const p = `${root}/${rel}`;
    const st = await lstat(p);
    let what = '';
    if (st.isFile()) what = createHash('sha256').update(await readFile(p)).digest('hex').slice(0, 12);
    else if (st.isSymbolicLink()) what = `-> ${await readlink(p)}`;
    else if (st.isCharacterDevice() || st.isBlockDevice()) what = `dev ${st.rdev}`;
    out.push(`${rel} ${(st.mode & 0o170000).toString(8)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
  }
  return out;
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t, 'berth-changes-');
  roots.push(root);
  const store = new Overlay2Store(root);
  await store.init();
  const image = await store.register(
    streamOf(
      await makeTar([
        file('b', 'B'),
        dir('d'),
        file('d/x', 'X'),
        file('d/y', 'Y'),
        dir('etc'),
        file('etc/motd', 'hello'),
        dir('o'),
        file('o/p', 'P'),
        dir('keep'),
        file('keep/k', 'K'),
        symlinkEntry('bin', 'usr/bin'),
        file('usr/bin/tool', '#!/bin/sh\n', { mode: 0o4755, uid: 3, gid: 4 }),
      ]),
    ),
    null,
  );
  await store.createRw('c1', image.chainId);
  t.after(() => store.removeRw('c1'));
  const merged = await store.mountRw('c1');
  return { root, store, image, merged };
}

// What a process in the container would do.
async function mutate(merged: string): Promise<void> {
  await writeFile(`${merged}/new`, 'N');
  await writeFile(`${merged}/etc/motd`, 'changed');
  await rm(`${merged}/b`);
  await rm(`${merged}/d`, { recursive: true });
  await rm(`${merged}/o`, { recursive: true });
  await mkdir(`${merged}/o`);
  await writeFile(`${merged}/o/q`, 'Q');
  await writeFile(`${merged}/keep/new2`, '2');
  await mkdir(`${merged}/a/b/c`, { recursive: true });
  await link(`${merged}/new`, `${merged}/a/hard`);
  await symlink('../new', `${merged}/a/soft`);
  mknod(`${merged}/a/null`, S_IFCHR | 0o666, 1, 3);
  await writeFile(`${merged}/usr/bin/tool`, '#!/bin/sh\nexit 0\n');
}

test('changes lists what the container did, in Docker kinds and order', async (t) => {
  const { store, merged } = await setup(t);
  assert.deepEqual(await store.rwChanges('c1'), []);
  await mutate(merged);
  const { upper, lowers } = await store.rwDirs('c1');
  const changes = await listChanges(upper, lowers);
  const { Modify: C, Add: A, Delete: D } = ChangeKind;
  assert.deepEqual(changes, [
    { Path: '/a', Kind: A },
    { Path: '/a/b', Kind: A },
    { Path: '/a/b/c', Kind: A },
    { Path: '/a/hard', Kind: A },
    { Path: '/a/null', Kind: A },
    { Path: '/a/soft', Kind: A },
    { Path: '/b', Kind: D },
    { Path: '/d', Kind: D },
    { Path: '/etc', Kind: C }, // the directory of a modified file, as the seed's `docker diff`
    { Path: '/etc/motd', Kind: C },
    { Path: '/keep', Kind: C },
    { Path: '/keep/new2', Kind: A },
    { Path: '/new', Kind: A },
    { Path: '/o', Kind: D },
    { Path: '/o/q', Kind: A },
    { Path: '/usr', Kind: C }, // every directory above a change, outermost first
    { Path: '/usr/bin', Kind: C },
    { Path: '/usr/bin/tool', Kind: C },
  ]);
  assert.deepEqual(await store.rwChanges('c1'), changes);
});

test('a committed rw layer reproduces the container filesystem', async (t) => {
  const { store, image, merged } = await setup(t);
  await mutate(merged);
  const committed = await store.register(await store.rwDiffTar('c1'), image.chainId);
  assert.equal(committed.parent, image.chainId);
  await store.createRw('c2', committed.chainId);
  t.after(() => store.removeRw('c2'));
  const merged2 = await store.mountRw('c2');
  assert.deepEqual(await describe(merged2), await describe(merged));
  assert.equal((await lstat(`${merged2}/a/hard`)).ino, (await lstat(`${merged2}/new`)).ino, 'hardlink kept');
  // Whiteouts went through as OCI files and came back as overlay devices.
  const diff = (await store.graphDriver(committed.chainId)).UpperDir as string;
  assert.ok((await lstat(`${diff}/b`)).isCharacterDevice());
  assert.deepEqual(await listChanges(diff, await store.layerDiffDirs(image.chainId)), await store.rwChanges('c1'));
});

test('export tars the merged view with metadata intact', async (t) => {
  const { merged } = await setup(t);
  await mutate(merged);
  const out = await tempDir(t, 'berth-export-');
  await applyLayerTar(directoryTar(merged), out);
  assert.deepEqual(await describe(out), await describe(merged));
  const tool = await lstat(`${out}/usr/bin/tool`);
  assert.equal(tool.mode & 0o7777, 0o4755);
  assert.deepEqual([tool.uid, tool.gid], [3, 4]);
});

test('a consumer that stops reading does not hang the writer', async (t) => {
  const src = await tempDir(t, 'berth-export-');
  for (let i = 0; i < 20; i++) await writeFile(`${src}/f${i}`, Buffer.alloc(256 * 1024, i));
  const stream = directoryTar(src);
  for await (const chunk of stream) {
    assert.ok(chunk.length > 0);
    break; // destroys the stream
  }
  assert.ok(stream.destroyed);
  // A complete read of the same tree still works and is a valid archive.
  const out = await tempDir(t, 'berth-export-');
  await applyLayerTar(directoryTar(src), out);
  assert.deepEqual(await describe(out), await describe(src));
});
