import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { invalid } from '../util/errors.js';

// Decompresses gzip transparently (sniffed by magic bytes, as Docker's DecompressStream
// does); anything else is taken as a plain tar. Other compressions fail clearly.
export async function* decompressedTar(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, r.value]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  if (head[0] === 0x1f && head[1] === 0x8b) {
    // zlib's default 16 KiB output chunks cost 3-5 times the time of 256 KiB ones here.
    const gunzip = createGunzip({ chunkSize: 256 << 10 });
    const feeding = pipeline(all(), gunzip).catch((err: unknown) => gunzip.destroy(err as Error));
    for await (const chunk of gunzip) yield chunk as Buffer;
    await feeding;
    return;
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) throw invalid('zstd-compressed layers are not supported');
  if (head.subarray(0, 3).toString('latin1') === 'BZh') throw invalid('bzip2-compressed layers are not supported');
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw invalid('xz-compressed layers are not supported');
  yield* all();
}


// How a layer blob is compressed, as its media type says (gzip is also sniffed).
export type LayerCompression = 'gzip' | 'zstd' | 'none';

// A layer blob's tar, uncompressed: zstd through the zstd tool (Node 20's zlib has none),
// gzip sniffed and undone in large chunks.
export function plainLayer(bytes: AsyncIterable<Buffer>, compression: LayerCompression): Readable {
  if (compression === 'zstd') return zstdDecompress(bytes);
  return Readable.from(decompressedTar(bytes), { objectMode: false });
}

function zstdDecompress(src: AsyncIterable<Buffer>): Readable {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'ignore'] });
  pipeline(src, child.stdin).catch((err: unknown) => child.stdout.destroy(err as Error));
  child.on('error', (err) => child.stdout.destroy(err));
  child.on('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`zstd exited with status ${code}`));
  });
  return child.stdout;
}
