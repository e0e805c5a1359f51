import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { LayerTars } from '../../src/image/archive-layer-tars.js';
import { digestHex, sha256Digest } from '../../src/image/digest.js';

async function withTars(fn: (t: LayerTars, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'layer-tars-'));
  try {
    const t = new LayerTars(root);
    await t.init();
    await fn(t, root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const blobs = (root: string) => readdir(join(root, 'content', 'sha256'));
const marks = (root: string) => readdir(join(root, 'image', 'layer-tars'));

// A consumer that reads slowly (the tee must wait for it) and hashes what it got.
async function slowHash(r: Readable): Promise<{ diffId: string }> {
  const h = createHash('sha256');
  for await (const c of r) {
    h.update(c as Buffer);
    await tick();
  }
  return { diffId: `sha256:${h.digest('hex')}` };
}

test('keepWhile stores what the consumer read, under its diff ID, and marks it', async () => {
  await withTars(async (t, root) => {
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const chunks = Array.from({ length: 48 }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const got = await t.keepWhile(Readable.from(chunks), slowHash);
    assert.equal(got.diffId, sha256Digest(data));
    assert.deepEqual(await blobs(root), [digestHex(got.diffId)]);
    assert.deepEqual(await marks(root), [digestHex(got.diffId)]);
    const opened = await t.open(got.diffId);
    assert.equal(opened?.size, data.length);
    opened?.stream.destroy();
  });
});

test('keepWhile: a failing consumer leaves no blob; a failing source fails both', async () => {
  await withTars(async (t, root) => {
    await assert.rejects(
      t.keepWhile(Readable.from([Buffer.alloc(100_000)]), async () => {
        throw new Error('unsafe layer');
      }),
      /unsafe layer/,
    );
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(t.keepWhile(broken, slowHash), /connection reset/);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);
    assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
  });
});

test('keepWhile: bytes that are not the layer the consumer returns are not kept', async () => {
  await withTars(async (t, root) => {
    const existing = { diffId: sha256Digest('the real layer') };
    const got = await t.keepWhile(Readable.from([Buffer.from('something else')]), async (r) => {
      for await (const _ of r) {
        // drained, as the store does for a layer it already has
      }
      return existing;
    });
    assert.equal(got, existing);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);
  });
});

test('prune removes the tars of diff IDs no layer has; other blobs stay', async () => {
  await withTars(async (t, root) => {
    const keep = await t.keepWhile(Readable.from([Buffer.from('keep')]), slowHash);
    const drop = await t.keepWhile(Readable.from([Buffer.from('drop')]), slowHash);
    const config = await t.content.put('{"not":"a layer"}');
    const removed = await t.prune(async () => new Set([keep.diffId]));
    assert.deepEqual(removed, [drop.diffId]);
    assert.deepEqual((await blobs(root)).sort(), [digestHex(keep.diffId), digestHex(config)].sort());
    assert.deepEqual(await marks(root), [digestHex(keep.diffId)]);
    assert.equal(await t.open(drop.diffId), null);
  });
});

test('adopt moves a verified file in; dropUnmarked spares marked tars', async () => {
  await withTars(async (t, root) => {
    const path = join(root, 'spooled');
    await writeFile(path, 'layer bytes');
    const d = sha256Digest('layer bytes');
    assert.equal(await t.adopt(path, d), true);
    assert.deepEqual(await readdir(root).then((n) => n.includes('spooled')), false);
    assert.equal(await t.has(d), true);
    await t.mark(d);
    await t.dropUnmarked(d);
    assert.equal(await t.has(d), true);
    await t.prune(async () => new Set());
    assert.equal(await t.has(d), false);
    assert.equal(await t.has('not a digest'), false);
  });
});

test('verify: a tar that no longer hashes to its diff ID is dropped with its mark', async () => {
  await withTars(async (t, root) => {
    const good = await t.keepWhile(Readable.from([Buffer.from('intact')]), slowHash);
    const cut = await t.keepWhile(Readable.from([Buffer.from('will be cut short')]), slowHash);
    await writeFile(t.content.path(cut.diffId), 'will be');
    assert.equal(await t.verify(good.diffId), true);
    assert.equal(await t.verify(cut.diffId), false);
    assert.equal(await t.has(cut.diffId), false);
    assert.deepEqual(await marks(root), [digestHex(good.diffId)]);
    assert.equal(await t.verify(sha256Digest('never stored')), false);
  });
});

test('keepWhile consumerHashed: the copy is stored under the consumer\'s diff ID as written, in batched writes', async () => {
  await withTars(async (t, root) => {
    const data = Buffer.alloc(5 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    const chunks = Array.from({ length: 80 }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const got = await t.keepWhile(Readable.from(chunks), slowHash, { consumerHashed: true });
    assert.equal(got.diffId, sha256Digest(data));
    assert.deepEqual(await blobs(root), [digestHex(got.diffId)]);
    assert.deepEqual(await marks(root), [digestHex(got.diffId)]);
    assert.equal(await t.verify(got.diffId), true);
    assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
  });
});

test('keepWhile consumerHashed: the copy is not hashed again (the consumer\'s word is taken)', async () => {
  await withTars(async (t, root) => {
    // A consumer that lies shows the copy was not rehashed: it lands under the lie, and
    // verify (what save runs first) is what catches a bad tar.
    const claimed = { diffId: sha256Digest('what the consumer claims') };
    const got = await t.keepWhile(Readable.from([Buffer.from('plain bytes')]), async (r) => {
      for await (const _ of r) {
        // read
      }
      return claimed;
    }, { consumerHashed: true });
    assert.equal(got, claimed);
    assert.deepEqual(await blobs(root), [digestHex(claimed.diffId)]);
    assert.equal(await t.verify(claimed.diffId), false);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);
  });
});

test('keepWhile consumerHashed: gzip bytes are still hashed (the extractor would name the gunzipped tar)', async () => {
  await withTars(async (t, root) => {
    const gz = gzipSync(Buffer.from('inner tar'));
    // The consumer's diff ID is that of the gunzipped bytes, as applyLayerTar computes it.
    const inner = { diffId: sha256Digest('inner tar') };
    const got = await t.keepWhile(Readable.from([gz.subarray(0, 1), gz.subarray(1)]), async (r) => {
      for await (const _ of r) {
        // read
      }
      return inner;
    }, { consumerHashed: true });
    assert.equal(got, inner);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);
    assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
  });
});

test('keepWhile consumerHashed: a failing consumer or source leaves nothing behind', async () => {
  await withTars(async (t, root) => {
    await assert.rejects(
      t.keepWhile(Readable.from([Buffer.alloc(3 << 20)]), async (r) => {
        for await (const _ of r) throw new Error('unsafe layer');
        return { diffId: sha256Digest('x') };
      }, { consumerHashed: true }),
      /unsafe layer/,
    );
    const broken = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('connection reset'));
      },
    });
    await assert.rejects(t.keepWhile(broken, slowHash, { consumerHashed: true }), /connection reset/);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);
    assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
  });
});

test('ingest stores a stream under its sha256', async () => {
  await withTars(async (t, root) => {
    const got = await t.ingest(Readable.from([Buffer.from('a'), Buffer.from('bc')]));
    assert.deepEqual(got, { digest: sha256Digest('abc'), size: 3 });
    assert.deepEqual(await blobs(root), [digestHex(got.digest)]);
    assert.deepEqual(await marks(root), []);
  });
});

// A pulled layer: its tar, and the verified gzip blob a download left at `path`.
async function pulledBlob(root: string, tarBytes: Buffer): Promise<{ diffId: string; digest: string; path: string }> {
  const gz = gzipSync(tarBytes);
  const path = join(root, 'download');
  await writeFile(path, gz);
  return { diffId: sha256Digest(tarBytes), digest: sha256Digest(gz), path };
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('adoptBlob keeps a pulled gzip blob as the layer tar: linked, opened uncompressed, verified', async () => {
  await withTars(async (t, root) => {
    const tarBytes = Buffer.alloc(300_000, 'x');
    const b = await pulledBlob(root, tarBytes);
    await t.adoptBlob(b.diffId, b.path, { digest: b.digest, compression: 'gzip', size: tarBytes.length });
    // The download stays its owner's to remove; the store has its own link, under the blob's digest.
    assert.deepEqual(await blobs(root), [digestHex(b.digest)]);
    assert.deepEqual(await marks(root), [digestHex(b.diffId)]);
    assert.equal(await t.has(b.diffId), true);
    assert.equal(await t.size(b.diffId), tarBytes.length);
    const opened = await t.open(b.diffId);
    assert.equal(opened?.size, tarBytes.length);
    assert.ok((await readAll(opened!.stream)).equals(tarBytes));
    assert.equal(await t.verify(b.diffId), true);
    // A second adoption (another pull of the same layer) changes nothing.
    await t.adoptBlob(b.diffId, b.path, { digest: b.digest, compression: 'gzip', size: tarBytes.length });
    assert.deepEqual(await blobs(root), [digestHex(b.digest)]);
  });
});

test('adoptBlob: a blob that does not give the diff ID is dropped by verify, with its mark', async () => {
  await withTars(async (t, root) => {
    const b = await pulledBlob(root, Buffer.from('what the registry sent'));
    const claimed = sha256Digest('what the config promised');
    await t.adoptBlob(claimed, b.path, { digest: b.digest, compression: 'gzip', size: 22 });
    assert.equal(await t.verify(claimed), false);
    assert.equal(await t.has(claimed), false);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);
    // Not gzip at all: the same.
    const path = join(root, 'garbage');
    await writeFile(path, 'not gzip');
    await t.adoptBlob(claimed, path, { digest: sha256Digest('not gzip'), compression: 'gzip', size: 8 });
    assert.equal(await t.verify(claimed), false);
    assert.deepEqual(await blobs(root), []);
  });
});

test('adoptBlob: a plain tar blob is the tar itself; gzip is sniffed whatever the media type says', async () => {
  await withTars(async (t, root) => {
    const plainPath = join(root, 'plain');
    await writeFile(plainPath, 'plain tar');
    const plain = sha256Digest('plain tar');
    await t.adoptBlob(plain, plainPath, { digest: plain, compression: 'none', size: 9 });
    assert.equal((await t.open(plain))?.size, 9);
    assert.equal(await t.verify(plain), true);

    const b = await pulledBlob(root, Buffer.from('gzip bytes, tar media type'));
    await t.adoptBlob(b.diffId, b.path, { digest: b.digest, compression: 'none', size: 26 });
    assert.equal(await t.verify(b.diffId), true);
    // A plain blob that is not the layer's tar is not kept.
    const other = sha256Digest('another layer');
    await t.adoptBlob(other, plainPath, { digest: plain, compression: 'none', size: 9 });
    assert.equal(await t.has(other), false);
  });
});

test('a kept blob goes with its diff ID (prune), or when the plain tar is kept after all (mark)', async () => {
  await withTars(async (t, root) => {
    const tarBytes = Buffer.from('layer');
    const b = await pulledBlob(root, tarBytes);
    await t.adoptBlob(b.diffId, b.path, { digest: b.digest, compression: 'gzip', size: 5 });
    assert.deepEqual(await t.prune(async () => new Set()), [b.diffId]);
    assert.deepEqual(await blobs(root), []);
    assert.deepEqual(await marks(root), []);

    await t.adoptBlob(b.diffId, b.path, { digest: b.digest, compression: 'gzip', size: 5 });
    const kept = await t.keepWhile(Readable.from([tarBytes]), slowHash);
    assert.equal(kept.diffId, b.diffId);
    assert.deepEqual(await blobs(root), [digestHex(b.diffId)]);
    assert.equal(await t.verify(b.diffId), true);
  });
});
