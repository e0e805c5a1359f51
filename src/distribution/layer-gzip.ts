import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

// The gzip stream of a layer pushed to a registry, made as pigz makes one: the tar is cut
// into segments that are deflated independently on libuv's thread pool (several at once,
// so one layer keeps every CPU busy), each primed with the 32 KiB before it so the ratio
// stays that of one stream, and each ended with a sync flush so their outputs simply
// concatenate into one deflate stream; the gzip header, a final empty block and the
// CRC-32/size trailer are written here.
//
// A segment that looks incompressible (already compressed files: .gz, .jpg, .xz, random
// bytes) goes out as stored blocks without being deflated, and so does one deflate could
// not shrink: zlib's level 1 spends as much CPU on such bytes as on text (~35 MB/s a core
// here) for nothing. "Looks incompressible": the byte entropy of a 16 KiB sample spread
// over the segment is near 8 bits, where Huffman coding cannot win and LZ77 matches are
// all but absent. Any gzip reader accepts stored blocks; the digest is only ever checked
// against these bytes.

export interface LayerGzipOptions {
  level?: number;
  segmentSize?: number;
  // Segments deflating at once for this layer.
  parallel?: number;
}

export interface LayerGzipStats {
  deflated: number;
  stored: number;
  // Segments that were deflated, not shrunk, and sent stored.
  wasted: number;
}

const DEFAULT_LEVEL = 1;
const DEFAULT_SEGMENT = 1 << 20;
const WINDOW = 32 << 10;
const MAX_STORED_BLOCK = 0xffff;
// Deflate must save more than this share of a segment, or the segment is stored.
const MIN_SAVING = 1 / 64;
const SAMPLES = 8;
const SAMPLE_BYTES = 2 << 10;
// Bits per byte; a uniform random 16 KiB sample measures ~7.99.
const STORE_ENTROPY = 7.95;

// ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as Go's gzip writer leaves it.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
// A final fixed-Huffman block holding only end-of-block: what zlib writes on Z_FINISH.
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

const deflateRaw = promisify(zlib.deflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

export class LayerGzip {
  readonly stats: LayerGzipStats = { deflated: 0, stored: 0, wasted: 0 };
  private readonly level: number;
  private readonly segmentSize: number;
  private readonly parallel: number;
  private crc = 0;
  private size = 0;
  private previous: Segment | null = null;

  constructor(opts: LayerGzipOptions = {}) {
    this.level = opts.level ?? DEFAULT_LEVEL;
    this.segmentSize = Math.max(opts.segmentSize ?? DEFAULT_SEGMENT, WINDOW);
    this.parallel = Math.max(1, opts.parallel ?? availableParallelism());
  }

  // The compressed bytes in order, a segment's pieces at a time (stored blocks are many
  // small headers between slices of the input: written together, they make one writev).
  async *compress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer[]> {
    yield [GZIP_HEADER];
    const segments = new SegmentReader(source, this.segmentSize);
    const queue: Array<Promise<Buffer[]>> = [];
    try {
      for (;;) {
        while (queue.length < this.parallel) {
          const seg = await segments.next();
          if (!seg) break;
          queue.push(this.segment(seg));
        }
        const head = queue.shift();
        if (!head) break;
        yield await head;
      }
    } finally {
      // Abandoned mid-way (the upload failed): stop reading, let pending deflates settle.
      await segments.close();
      await Promise.allSettled(queue);
    }
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size % 2 ** 32, 4);
    yield [FINAL_BLOCK, trailer];
  }

  // Called in stream order: the CRC and the dictionary follow the data. The input is
  // copied only to be deflated; stored blocks point into the chunks as read.
  private segment(seg: Segment): Promise<Buffer[]> {
    for (const c of seg.chunks) this.crc = zlib.crc32(c, this.crc);
    this.size += seg.length;
    const previous = this.previous;
    this.previous = seg;
    if (sampleEntropy(sample(seg)) >= STORE_ENTROPY) {
      this.stats.stored++;
      return Promise.resolve(storedBlocks(seg));
    }
    const opts: zlib.ZlibOptions = { level: this.level, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (previous) opts.dictionary = slice(previous, Math.max(0, previous.length - WINDOW), WINDOW);
    const data = seg.chunks.length === 1 ? seg.chunks[0]! : Buffer.concat(seg.chunks, seg.length);
    return deflateRaw(data, opts).then((out) => {
      if (out.length < seg.length - seg.length * MIN_SAVING) {
        this.stats.deflated++;
        return [out];
      }
      this.stats.wasted++;
      return storedBlocks(seg);
    });
  }
}

// Consecutive bytes of the layer tar, as the chunks they were read in.
interface Segment {
  chunks: Buffer[];
  length: number;
}

// Bytes [from, from+len) of a segment, as one buffer (a copy unless in one chunk).
function slice(seg: Segment, from: number, len: number): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  for (const c of seg.chunks) {
    const end = off + c.length;
    if (end > from && off < from + len) parts.push(c.subarray(Math.max(0, from - off), Math.min(c.length, from + len - off)));
    off = end;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

// SAMPLES slices of SAMPLE_BYTES spread evenly over the segment.
function sample(seg: Segment): Buffer {
  const each = Math.min(SAMPLE_BYTES, Math.floor(seg.length / SAMPLES));
  if (each === 0) return Buffer.alloc(0);
  const step = Math.floor(seg.length / SAMPLES);
  const parts: Buffer[] = [];
  for (let i = 0; i < SAMPLES; i++) parts.push(slice(seg, i * step, each));
  return Buffer.concat(parts);
}

// Order-0 entropy of the bytes, in bits per byte.
export function sampleEntropy(data: Buffer): number {
  if (data.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < data.length; i++) counts[data[i]!]!++;
  let bits = 0;
  for (const c of counts) if (c) bits -= (c / data.length) * Math.log2(c / data.length);
  return bits;
}

// Non-final stored blocks: a byte 0 (BFINAL=0, BTYPE=00, padding; every segment ends
// byte-aligned), LEN and its complement, then the bytes themselves, not copied.
function storedBlocks(seg: Segment): Buffer[] {
  const out: Buffer[] = [];
  let chunk = 0;
  let at = 0;
  for (let left = seg.length; left > 0; ) {
    const len = Math.min(MAX_STORED_BLOCK, left);
    const h = Buffer.allocUnsafe(5);
    h[0] = 0;
    h.writeUInt16LE(len, 1);
    h.writeUInt16LE(~len & 0xffff, 3);
    out.push(h);
    for (let need = len; need > 0; ) {
      const c = seg.chunks[chunk]!;
      const n = Math.min(need, c.length - at);
      out.push(c.subarray(at, at + n));
      at += n;
      need -= n;
      if (at === c.length) {
        chunk++;
        at = 0;
      }
    }
    left -= len;
  }
  return out;
}

// The source cut into segments of exactly `size` bytes (the last one shorter).
class SegmentReader {
  private readonly it: AsyncIterator<Buffer>;
  private held: Buffer | null = null;
  private eof = false;

  constructor(
    source: AsyncIterable<Buffer>,
    private readonly size: number,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  async next(): Promise<Segment | null> {
    const chunks: Buffer[] = [];
    let length = 0;
    while (length < this.size) {
      let c = this.held;
      this.held = null;
      if (!c) {
        if (this.eof) break;
        const r = await this.it.next();
        if (r.done) {
          this.eof = true;
          break;
        }
        c = r.value;
      }
      if (c.length > this.size - length) {
        this.held = c.subarray(this.size - length);
        c = c.subarray(0, this.size - length);
      }
      if (c.length === 0) continue;
      chunks.push(c);
      length += c.length;
    }
    return length ? { chunks, length } : null;
  }

  async close(): Promise<void> {
    if (!this.eof) {
      this.eof = true;
      await this.it.return?.();
    }
  }
}
