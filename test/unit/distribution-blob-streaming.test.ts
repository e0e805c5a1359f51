import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobDownloads, ConsumerFailed } from '../../src/distribution/blob-download.js';
import type { RegistryClient } from '../../src/distribution/registry-client.js';

// BlobDownloads.fetch: the consumer reads the blob while it downloads, and its
// stream ends only once the blob matched its digest.

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// A registry client whose GET answers come from a list of bodies, one per attempt.
function fakeClient(bodies: Array<() => Readable>): { client: RegistryClient; gets: () => number } {
  let n = 0;
  const client = {
    async getBlob(): Promise<IncomingMessage> {
      const body = bodies[Math.min(n++, bodies.length - 1)]!();
      return Object.assign(body, { headers: {} }) as unknown as IncomingMessage;
    },
  } as unknown as RegistryClient;
  return { client, gets: () => n };
}

const chunked = (b: Buffer, size = 100_000): Readable => Readable.from(Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)));

async function readAllOf(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function newDownloads(t: { after(fn: () => Promise<void>): void }): Promise<{ downloads: BlobDownloads; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-blobstream-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const downloads = new BlobDownloads(root);
  await downloads.init();
  return { downloads, root };
}

test('the consumer gets every byte, and the blob is kept for reuse', async (t) => {
  const { downloads, root } = await newDownloads(t);
  const blob = randomBytes(1_500_000);
  const digest = digestOf(blob);
  const { client } = fakeClient([() => chunked(blob)]);
  const { verified, result } = downloads.fetch(client, digest, blob.length, () => {}, readAllOf);
  assert.equal(await verified, downloads.path(digest));
  assert.ok((await result).equals(blob));
  assert.ok((await readFile(downloads.path(digest))).equals(blob));
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);

  // A second fetch of a blob already here reads it from the file.
  const { client: none, gets } = fakeClient([() => chunked(Buffer.alloc(0))]);
  const again = downloads.fetch(none, digest, blob.length, () => {}, readAllOf);
  assert.ok((await again.result).equals(blob));
  assert.equal(gets(), 0);
});

test('wrong bytes: the consumer stream fails instead of ending, nothing is kept', async (t) => {
  const { downloads, root } = await newDownloads(t);
  const blob = randomBytes(600_000);
  const digest = digestOf(blob);
  const bad = Buffer.from(blob);
  bad[300_000] ^= 0xff;
  for (const [what, body, size] of [
    ['flipped byte', bad, blob.length],
    ['too long', Buffer.concat([blob, Buffer.from('x')]), blob.length],
    ['unknown size, flipped', bad, 0],
  ] as const) {
    const { client } = fakeClient([() => chunked(body)]);
    let ended = false;
    const { verified, result } = downloads.fetch(client, digest, size, () => {}, async (s) => {
      await readAllOf(s);
      ended = true;
    });
    await assert.rejects(verified, /filesystem layer verification failed/, what);
    await assert.rejects(result, what);
    assert.equal(ended, false, `${what}: the consumer saw no end`);
    assert.deepEqual(await readdir(join(root, 'content', 'downloads')), [], what);
    assert.deepEqual(await readdir(join(root, 'content', 'ingest')), [], what);
  }
});

test('a consumer that gives up stops the download with its own error', async (t) => {
  const { downloads, root } = await newDownloads(t);
  // More than the consumer's buffer, so the download has to wait for it.
  const blob = randomBytes(16_000_000);
  const digest = digestOf(blob);
  const { client } = fakeClient([() => chunked(blob, 65_536)]);
  const boom = new Error('not a tar');
  const { verified, result } = downloads.fetch(client, digest, blob.length, () => {}, async (s) => {
    for await (const _ of s) throw boom;
  });
  const err = await verified.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ConsumerFailed, `${String(err)} ${(err as Error)?.stack}`);
  assert.equal(err.cause, boom);
  await assert.rejects(result, (e) => e === boom);
  assert.deepEqual(await readdir(join(root, 'content', 'downloads')), []);
  assert.deepEqual(await readdir(join(root, 'content', 'ingest')), []);
});

test('a network failure: the consumer is called again for the next attempt, after the first settled', async (t) => {
  const { downloads } = await newDownloads(t);
  const blob = randomBytes(800_000);
  const digest = digestOf(blob);
  const broken = (): Readable =>
    new Readable({
      read() {
        this.push(blob.subarray(0, 200_000));
        this.destroy(new Error('connection reset'));
      },
    });
  const { client, gets } = fakeClient([broken, () => chunked(blob)]);
  const calls: Array<'start' | 'failed' | 'ok'> = [];
  const { verified, result } = downloads.fetch(client, digest, blob.length, () => {}, async (s) => {
    calls.push('start');
    try {
      const b = await readAllOf(s);
      calls.push('ok');
      return b;
    } catch (err) {
      calls.push('failed');
      throw err;
    }
  });
  await verified;
  assert.ok((await result).equals(blob));
  assert.equal(gets(), 2);
  assert.deepEqual(calls, ['start', 'failed', 'start', 'ok']);
});

test('a second pull of a blob being downloaded reads the file, which outlives the first pull removing it', async (t) => {
  const { downloads } = await newDownloads(t);
  const blob = randomBytes(900_000);
  const digest = digestOf(blob);
  const { client, gets } = fakeClient([() => chunked(blob)]);
  const first = downloads.fetch(client, digest, blob.length, () => {}, readAllOf);
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const second = downloads.fetch(client, digest, blob.length, () => {}, async (s) => {
    await gate;
    return readAllOf(s);
  });
  assert.ok((await first.result).equals(blob));
  assert.equal(await second.verified, downloads.path(digest));
  // The first pull registered its layer: the blob may go, but the second still reads it.
  await downloads.remove(digest);
  assert.ok((await readFile(downloads.path(digest))).equals(blob));
  open();
  assert.ok((await second.result).equals(blob));
  assert.equal(gets(), 1);
  for (let i = 0; i < 1000 && (await readdir(join(downloads.path(digest), '..'))).length > 0; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(await readdir(join(downloads.path(digest), '..')), [], 'removed once read');
});
