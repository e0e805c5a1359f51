import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from '../../src/image/content-store.js';
import { BerthError } from '../../src/util/errors.js';

const sha = (s: string | Buffer): string => 'sha256:' + createHash('sha256').update(s).digest('hex');

async function tempStore(t: { after: (fn: () => Promise<void>) => void }): Promise<{ store: ContentStore; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const store = new ContentStore(root);
  await store.init();
  return { store, root };
}

test('put stores bytes under their sha256 and get returns them', async (t) => {
  const { store, root } = await tempStore(t);
  const digest = await store.put('hello');
  assert.equal(digest, sha('hello'));
  assert.deepEqual(await readdir(join(root, 'content', 'sha256')), [digest.slice(7)]);
  assert.equal((await store.get(digest)).toString(), 'hello');
  assert.equal(await store.size(digest), 5);
  assert.equal(await store.has(digest), true);
  assert.equal(await store.put('hello'), digest, 'idempotent');
});

test('putStream verifies while streaming; a wrong digest stores nothing', async (t) => {
  const { store, root } = await tempStore(t);
  const data = Buffer.alloc(300_000, 7);
  const good = await store.putStream(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), sha(data));
  assert.deepEqual(good, { digest: sha(data), size: data.length });

  const wrong = sha('something else');
  await assert.rejects(store.putStream(Readable.from([Buffer.from('payload')]), wrong), (err: unknown) => {
    assert.ok(err instanceof BerthError);
    assert.match(err.message, /digest mismatch/);
    return true;
  });
  assert.equal(await store.has(sha('payload')), false);
  assert.equal(await store.has(wrong), false);
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), [], 'no temp file left behind');

  const unverified = await store.putStream(Readable.from([Buffer.from('payload')]));
  assert.equal(unverified.digest, sha('payload'));
});

test('a failing source stores nothing', async (t) => {
  const { store, root } = await tempStore(t);
  const src = new Readable({
    read() {
      this.push(Buffer.from('partial'));
      this.destroy(new Error('connection reset'));
    },
  });
  await assert.rejects(store.putStream(src), /connection reset/);
  assert.deepEqual(await readdir(join(root, 'content', 'sha256')), []);
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
});

test('open streams a blob; missing blobs are NotFound; delete is idempotent', async (t) => {
  const { store } = await tempStore(t);
  const digest = await store.put(Buffer.from('streamed'));
  const chunks: Buffer[] = [];
  for await (const c of await store.open(digest)) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'streamed');

  await store.delete(digest);
  await store.delete(digest);
  assert.equal(await store.has(digest), false);
  await assert.rejects(store.get(digest), (err: unknown) => err instanceof BerthError && err.kind === 'NotFound');
  await assert.rejects(store.open(digest), (err: unknown) => err instanceof BerthError && err.kind === 'NotFound');
  await assert.rejects(store.size(digest), (err: unknown) => err instanceof BerthError && err.kind === 'NotFound');
});

test('get refuses a blob whose bytes no longer match its name', async (t) => {
  const { store } = await tempStore(t);
  const digest = await store.put('original');
  await writeFile(store.path(digest), 'tampered');
  await assert.rejects(store.get(digest), /digest mismatch on disk/);
});

test('bad digests are rejected before touching the disk', async (t) => {
  const { store } = await tempStore(t);
  for (const d of ['sha256:xyz', 'md5:' + 'a'.repeat(32), '../../etc/passwd', 'sha256:' + 'A'.repeat(64)]) {
    await assert.rejects(store.has(d), (err: unknown) => err instanceof BerthError && err.kind === 'InvalidParameter', d);
  }
  await assert.rejects(store.putStream(Readable.from([Buffer.from('x')]), 'sha256:nope'), /invalid digest/);
});

test('init clears leftovers of interrupted writes', async (t) => {
  const { root } = await tempStore(t);
  await writeFile(join(root, 'content', 'ingest', 'stale'), 'half a blob');
  await new ContentStore(root).init();
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
});
