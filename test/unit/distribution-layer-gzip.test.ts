import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import test from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { LayerGzip, sampleEntropy } from '../../src/distribution/layer-gzip.js';

// The gzip stream push uploads: segments deflated apart (or stored when they look
// incompressible) must still make one valid gzip member whose content is the input.

const KiB = 1024;
const MiB = 1024 * KiB;

function text(bytes: number): Buffer {
  const words = ['layer', 'tar', 'usr/lib/x86_64-linux-gnu/', 'libc.so.6', '#!/bin/sh\n', 'export PATH=', '\0\0\0\0', 'registry', '0644', 'root'];
  let seed = 7;
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const w = words[seed % words.length]!;
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

function chunked(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

async function* from(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

async function gzipOf(chunks: Buffer[], g = new LayerGzip({ segmentSize: 256 * KiB })): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const pieces of g.compress(from(chunks))) out.push(...pieces);
  return Buffer.concat(out);
}

const cases: Array<{ name: string; data: Buffer; chunk: number; expect: (s: { deflated: number; stored: number; wasted: number }) => boolean }> = [
  { name: 'empty', data: Buffer.alloc(0), chunk: 1, expect: (s) => s.deflated + s.stored === 0 },
  { name: 'a few bytes', data: Buffer.from('hello\n'), chunk: 64 * KiB, expect: (s) => s.wasted === 1 },
  { name: 'a little text', data: Buffer.from('hello\n'.repeat(40)), chunk: 64 * KiB, expect: (s) => s.deflated === 1 },
  { name: 'text over several segments', data: text(MiB + 3 * KiB), chunk: 64 * KiB, expect: (s) => s.deflated === 5 && s.stored === 0 },
  { name: 'random bytes', data: randomBytes(700 * KiB), chunk: 64 * KiB, expect: (s) => s.stored === 3 && s.deflated === 0 },
  { name: 'text, random, text', data: Buffer.concat([text(300 * KiB), randomBytes(600 * KiB), text(300 * KiB)]), chunk: 64 * KiB, expect: (s) => s.stored >= 1 && s.deflated >= 2 },
  { name: 'one chunk bigger than a segment', data: text(900 * KiB), chunk: 900 * KiB, expect: (s) => s.deflated === 4 },
  { name: 'odd small chunks', data: Buffer.concat([randomBytes(70 * KiB), text(200 * KiB)]), chunk: 777, expect: (s) => s.deflated + s.stored + s.wasted >= 2 },
  { name: 'a stored segment longer than a stored block', data: randomBytes(3 * 65535 + 10), chunk: 100 * KiB, expect: (s) => s.stored === 1 },
  { name: 'a last segment too short to shrink', data: randomBytes(256 * KiB + 1), chunk: 64 * KiB, expect: (s) => s.stored === 1 && s.wasted === 1 },
];

for (const c of cases) {
  test(`layer gzip round-trips: ${c.name}`, async () => {
    const g = new LayerGzip({ segmentSize: 256 * KiB });
    const gz = await gzipOf(chunked(c.data, c.chunk), g);
    assert.deepEqual(gunzipSync(gz), c.data);
    assert.ok(c.expect(g.stats), JSON.stringify(g.stats));
  });
}

test('layer gzip: text compresses about as well as one zlib stream; random bytes grow by block headers only', async () => {
  const t = text(2 * MiB);
  const ours = await gzipOf(chunked(t, 64 * KiB));
  const single = gzipSync(t, { level: 1 });
  assert.ok(ours.length < single.length * 1.02, `${ours.length} vs ${single.length}`);
  const r = randomBytes(MiB);
  const stored = await gzipOf(chunked(r, 64 * KiB));
  assert.ok(stored.length < r.length + r.length / 1000, `${stored.length}`);
});

test('layer gzip: segments deflate in parallel and come out in order', async () => {
  const data = Buffer.concat([text(600 * KiB), randomBytes(300 * KiB), text(700 * KiB)]);
  const gz = await gzipOf(chunked(data, 64 * KiB), new LayerGzip({ segmentSize: 64 * KiB, parallel: 6 }));
  assert.deepEqual(gunzipSync(gz), data);
});

test('layer gzip: abandoning the output stops reading the source', async () => {
  let read = 0;
  let closed = false;
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for (let i = 0; i < 1000; i++) {
        read++;
        yield text(64 * KiB);
      }
    } finally {
      closed = true;
    }
  }
  const it = new LayerGzip({ segmentSize: 128 * KiB, parallel: 2 }).compress(source());
  await it.next(); // header
  await it.next(); // first segment
  await it.return(undefined);
  assert.ok(closed);
  assert.ok(read < 20, `read ${read} chunks`);
});

test('layer gzip: a failing source fails the stream', async () => {
  async function* source(): AsyncGenerator<Buffer> {
    yield text(300 * KiB);
    throw new Error('disk on fire');
  }
  const g = new LayerGzip({ segmentSize: 128 * KiB });
  await assert.rejects(async () => {
    for await (const _ of g.compress(source())) void _;
  }, /disk on fire/);
});

test('sampleEntropy: order-0 bits per byte', () => {
  assert.equal(sampleEntropy(Buffer.alloc(0)), 0);
  assert.equal(sampleEntropy(Buffer.alloc(MiB)), 0);
  assert.equal(sampleEntropy(Buffer.from([0, 1, 0, 1])), 1);
  // What a segment's 16 KiB sample of random bytes measures, and of text.
  assert.ok(sampleEntropy(randomBytes(16 * KiB)) > 7.95);
  assert.ok(sampleEntropy(text(16 * KiB)) < 6);
  const e = sampleEntropy(Buffer.concat([Buffer.alloc(8 * KiB), randomBytes(8 * KiB)]));
  assert.ok(e > 4 && e < 7, String(e));
});
