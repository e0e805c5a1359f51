import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

// Sniffs a stream's compression by its magic bytes, as Docker's DecompressStream does,
// and undoes gzip (the one compression image archives and layers use in practice here).
// Other compressions are named, not undone: the caller decides how to refuse them.

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function detectCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

export interface Decompressed {
  compression: Compression;
  // The uncompressed bytes for 'none' and 'gzip'; the input as it came otherwise.
  stream: Readable;
}

export async function decompress(src: Readable): Promise<Decompressed> {
  const it = (src as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < 6) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    const buf = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    chunks.push(buf);
    have += buf.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      if (head.length > 0) yield head;
      while (!done) {
        const r = await it.next();
        if (r.done) return;
        yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      }
    } finally {
      // Stopped early (the consumer went away): release the source too.
      await it.return?.();
    }
  }
  const rest = Readable.from(replay(), { objectMode: false });
  const compression = detectCompression(head);
  if (compression !== 'gzip') return { compression, stream: rest };
  const gunzip = createGunzip();
  pipeline(rest, gunzip).catch((err: unknown) => gunzip.destroy(err as Error));
  return { compression, stream: gunzip };
}
