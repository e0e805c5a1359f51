import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ScratchLayer } from '../../src/build/build-layer.js';
import { LayerTarKeepingStore } from '../../src/image/archive-layer-store.js';
import { chainId } from '../../src/storage/chain-id.js';
import { upperDirTar } from '../../src/storage/layer-tar.js';
import { readMounts } from '../../src/storage/mounts.js';
import { BerthError } from '../../src/util/errors.js';
import { dir, file, listTree, makeTar, mountsUnder, streamOf, tempDir } from './storage-fixtures.js';

// A build step's scratch layer becomes a layer by moving its upper dir (commitRw), not by
// archiving and extracting it again: the result must be the layer the old way gave.

async function digestOf(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

async function setup(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t, 'berth-build-commit-');
  const store = new LayerTarKeepingStore(root);
  await store.init();
  const base = await store.register(
    streamOf(await makeTar([dir('etc'), file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n'), file('gone', 'G'), dir('o'), file('o/old', 'O')])),
    null,
  );
  const marks = `${root}/builder-tmp`;
  await mkdir(marks);
  t.after(async () => assert.deepEqual(await mountsUnder(root), [], 'mounts left behind'));
  return { root, store, base, marks };
}

test('a scratch layer commits by moving its upper dir: same diff ID, tar kept, files in place', async (t) => {
  const { root, store, base, marks } = await setup(t);
  const layer = await ScratchLayer.open(store, marks, base.chainId);
  try {
    await mkdir(`${layer.rootfs}/ctx/sub`, { recursive: true });
    await writeFile(`${layer.rootfs}/ctx/sub/data.bin`, Buffer.alloc(3 << 20, 9));
    await writeFile(`${layer.rootfs}/etc/passwd`, 'root:x:0:0::/root:/bin/ash\n');
    await rm(`${layer.rootfs}/gone`);
    await rm(`${layer.rootfs}/o`, { recursive: true });
    await mkdir(`${layer.rootfs}/o`);
    await writeFile(`${layer.rootfs}/o/new`, 'N');
    const info = await layer.commit();
    assert.ok(info);
    assert.equal(info.parent, base.chainId);
    assert.equal(info.chainId, chainId(base.chainId, info.diffId));
    const diff = `${root}/overlay2/${info.cacheId}/diff`;
    // The diff ID is what the layer's files archive to, and the kept tar is those bytes.
    assert.equal(await digestOf(upperDirTar(diff)), info.diffId);
    const kept = await store.tars.open(info.diffId);
    assert.ok(kept, 'the layer tar is kept');
    assert.equal(await digestOf(kept.stream), info.diffId);
    assert.equal(info.size, (3 << 20) + 'root:x:0:0::/root:/bin/ash\n'.length + 1);
    assert.equal((await store.get(info.chainId))?.cacheId, info.cacheId);
    // The scratch layer is left empty, and goes cleanly.
    assert.deepEqual(await readdir((await store.rwDirs(layer.id)).upper), []);

    // A container on the new layer sees the step's changes, deletions included.
    await store.createRw('check', info.chainId);
    t.after(() => store.removeRw('check'));
    const merged = await store.mountRw('check');
    const tree = (await listTree(merged)).filter((p) => !/^(dev|proc|sys)\/|^\.dockerenv$|^etc\/(hosts|hostname|resolv\.conf|mtab)$/.test(p));
    assert.deepEqual(tree, ['ctx/', 'ctx/sub/', 'ctx/sub/data.bin', 'etc/', 'etc/passwd', 'o/', 'o/new']);
    assert.equal(await readFile(`${merged}/etc/passwd`, 'utf8'), 'root:x:0:0::/root:/bin/ash\n');
    await store.unmountRw('check');
  } finally {
    await layer.release();
  }
  assert.deepEqual((await readdir(`${root}/overlay2`)).filter((n) => n.startsWith('.tmp-')), [], 'no temp dirs left');
  assert.deepEqual(await readdir(marks), []);
});

test('the same change committed twice on one parent is one layer', async (t) => {
  const { root, store, base, marks } = await setup(t);
  const commitOnce = async () => {
    const layer = await ScratchLayer.open(store, marks, base.chainId);
    try {
      await writeFile(`${layer.rootfs}/same`, 'S');
      return await layer.commit();
    } finally {
      await layer.release();
    }
  };
  const a = await commitOnce();
  const b = await commitOnce();
  assert.ok(a && b);
  // Mtimes are in the tar: equal only when both land in the same second, so compare
  // what must hold either way.
  if (a.diffId === b.diffId) assert.equal(a.cacheId, b.cacheId);
  const layers = (await store.list()).filter((l) => l.parent === base.chainId);
  assert.equal(layers.length, a.diffId === b.diffId ? 1 : 2);
  assert.deepEqual((await readdir(`${root}/overlay2`)).filter((n) => n.startsWith('.tmp-')), []);
});

test('an empty scratch layer commits to nothing; a mounted rw layer is refused', async (t) => {
  const { store, base, marks } = await setup(t);
  const layer = await ScratchLayer.open(store, marks, base.chainId);
  try {
    assert.equal(await layer.commit(), null);
  } finally {
    await layer.release();
  }
  await store.createRw('busy', base.chainId);
  t.after(() => store.removeRw('busy'));
  const merged = await store.mountRw('busy');
  await writeFile(`${merged}/f`, 'x');
  await assert.rejects(store.commitRw('busy'), (err: unknown) => err instanceof BerthError && err.kind === 'Conflict');
  await store.unmountRw('busy');
  const info = await store.commitRw('busy');
  assert.equal((await readMounts()).some((m) => m.mountPoint === merged), false);
  assert.equal(info.parent, base.chainId);
});
