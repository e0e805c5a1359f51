import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LayerTarKeepingStore } from '../../src/image/archive-layer-store.js';
import { digestHex } from '../../src/image/digest.js';
import { file, makeTar, streamOf, tempDir } from './storage-fixtures.js';

// The kept tar of a layer is written beside its extraction and named by the diff ID the
// extraction computed, without hashing it again; a registration that only drains its bytes
// (the layer exists, or another registration of it is under way) must not keep them under
// that name unless they hash to it.

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function setup(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t, 'berth-layer-store-');
  const store = new LayerTarKeepingStore(root);
  await store.init();
  return { root, store };
}

async function forgetTar(root: string, store: LayerTarKeepingStore, diffId: string): Promise<void> {
  await unlink(join(root, 'image', 'layer-tars', digestHex(diffId)));
  await store.tars.content.delete(diffId);
}

test('a registered layer keeps its tar, byte for byte, plain or gzipped', async (t) => {
  const { store } = await setup(t);
  const plain = await makeTar([file('a', 'A'.repeat(100_000))]);
  const layer = await store.register(streamOf(plain), null);
  assert.equal(layer.diffId, sha(plain));
  assert.deepEqual(await readFile(store.tars.content.path(layer.diffId)), plain);
  assert.equal(await store.tars.verify(layer.diffId), true);

  const other = await makeTar([file('b', 'B')]);
  const child = await store.register(streamOf(gzipSync(other)), layer.chainId, sha(other));
  assert.equal(child.diffId, sha(other));
  assert.deepEqual(await readFile(store.tars.content.path(sha(other))), other);
});

test('an existing layer registered again with other bytes keeps no tar under its diff ID', async (t) => {
  const { root, store } = await setup(t);
  const real = await makeTar([file('real', 'R')]);
  const layer = await store.register(streamOf(real), null);
  await forgetTar(root, store, layer.diffId);

  const impostor = await makeTar([file('impostor', 'I')]);
  const again = await store.register(streamOf(impostor), null, layer.diffId);
  assert.equal(again.chainId, layer.chainId);
  assert.equal(await store.tars.has(layer.diffId), false);

  // The real bytes, drained for an existing layer, are hashed and kept.
  await store.register(streamOf(real), null, layer.diffId);
  assert.deepEqual(await readFile(store.tars.content.path(layer.diffId)), real);
});

test('two registrations of one layer at once, one with other bytes: no wrong tar is kept', async (t) => {
  const { store } = await setup(t);
  const real = await makeTar([file('big', Buffer.alloc(2 << 20, 7))]);
  const impostor = await makeTar([file('impostor', 'I')]);
  const diffId = sha(real);
  // Whichever extracts first decides for both (the store shares one extraction); either
  // way only the real bytes may end up kept under the diff ID.
  const results = await Promise.allSettled([store.register(streamOf(real), null, diffId), store.register(streamOf(impostor), null, diffId)]);
  for (const r of results) {
    if (r.status === 'fulfilled') assert.equal(r.value.diffId, diffId);
    else assert.match((r.reason as Error).message, /layer digest mismatch/);
  }
  if (await store.tars.has(diffId)) assert.deepEqual(await readFile(store.tars.content.path(diffId)), real);
  await store.register(streamOf(real), null, diffId);
  assert.deepEqual(await readFile(store.tars.content.path(diffId)), real);
});

test('two registrations of one layer at once with the same bytes: one layer, its tar kept', async (t) => {
  const { store } = await setup(t);
  const real = await makeTar([file('big', Buffer.alloc(2 << 20, 9))]);
  const diffId = sha(real);
  const [a, b] = await Promise.all([store.register(streamOf(real), null, diffId), store.register(streamOf(real), null, diffId)]);
  assert.equal(a.chainId, b.chainId);
  assert.deepEqual(await readFile(store.tars.content.path(diffId)), real);
  assert.equal(await store.tars.verify(diffId), true);
});
