import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { Overlay2Store } from '../../src/storage/overlay2.js';
import { chainId } from '../../src/storage/chain-id.js';
import { BerthError } from '../../src/util/errors.js';
import { file, makeTar, streamOf, tempDir } from './storage-fixtures.js';

// Overlay2Store.holdCommit: a stack of layers registered side by side (pull) is extracted at
// once and committed bottom up; a hold that fails throws the extraction away.

const sha = (buf: Buffer): string => `sha256:${createHash('sha256').update(buf).digest('hex')}`;

async function newStore(t: Parameters<typeof tempDir>[0]): Promise<{ store: Overlay2Store; root: string }> {
  const root = await tempDir(t, 'berth-held-');
  const store = new Overlay2Store(root);
  await store.init();
  return { store, root };
}

async function layer(name: string, content = 'x'.repeat(3 << 20)): Promise<{ tar: Buffer; diffId: string }> {
  const tar = await makeTar([file(name, content)]);
  return { tar, diffId: sha(tar) };
}

const staged = async (root: string): Promise<string[]> => (await readdir(`${root}/overlay2`)).filter((n) => n.startsWith('.tmp-'));

function gate(): { promise: Promise<void>; open: () => void; fail: (e: Error) => void } {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

test('a held layer registers before its parent exists and commits after it, stacked on it', async (t) => {
  const { store, root } = await newStore(t);
  const base = await layer('base.bin');
  const top = await layer('top.bin');
  const baseChain = chainId(null, base.diffId);
  const topChain = chainId(baseChain, top.diffId);
  const parentDone = gate();
  const release = store.holdCommit(topChain, parentDone.promise);
  let topDone = false;
  const topJob = store.register(streamOf(top.tar), baseChain, top.diffId).finally(() => {
    topDone = true;
    release();
  });
  // The top layer's extraction finishes aside and waits.
  for (let i = 0; i < 200 && (await staged(root)).length === 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(topDone, false);
  assert.equal(await store.get(topChain), null);

  const baseInfo = await store.register(streamOf(base.tar), null, base.diffId);
  parentDone.open();
  const topInfo = await topJob;
  assert.equal(topInfo.chainId, topChain);
  assert.equal(topInfo.parent, baseChain);
  const lower = await readFile(`${root}/overlay2/${topInfo.cacheId}/lower`, 'utf8');
  const baseLink = await readFile(`${root}/overlay2/${baseInfo.cacheId}/link`, 'utf8');
  assert.equal(lower, `l/${baseLink}`);
  assert.deepEqual(await readdir(`${root}/overlay2/${topInfo.cacheId}/diff`), ['top.bin']);
  assert.deepEqual(await staged(root), []);
});

test('a hold that fails throws the extraction away', async (t) => {
  const { store, root } = await newStore(t);
  const base = await layer('base.bin', 'b');
  const top = await layer('top.bin');
  const baseChain = chainId(null, base.diffId);
  const topChain = chainId(baseChain, top.diffId);
  const verified = gate();
  const release = store.holdCommit(topChain, verified.promise);
  const topJob = store.register(streamOf(top.tar), baseChain, top.diffId).finally(release);
  await store.register(streamOf(base.tar), null, base.diffId);
  verified.fail(new Error('blob did not match'));
  await assert.rejects(topJob, /blob did not match/);
  assert.equal(await store.get(topChain), null);
  assert.deepEqual(await staged(root), []);
});

test('a held layer whose parent never came fails at commit; unheld, a missing parent fails at once', async (t) => {
  const { store, root } = await newStore(t);
  const top = await layer('top.bin', 't');
  const missing = `sha256:${'a'.repeat(64)}`;
  const release = store.holdCommit(chainId(missing, top.diffId), Promise.resolve());
  await assert.rejects(store.register(streamOf(top.tar), missing, top.diffId).finally(release), (err: unknown) => err instanceof BerthError && err.kind === 'NotFound');
  assert.deepEqual(await staged(root), []);
  await assert.rejects(store.register(streamOf(top.tar), missing, top.diffId), (err: unknown) => err instanceof BerthError && err.kind === 'NotFound');
});
