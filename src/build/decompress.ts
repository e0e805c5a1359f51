import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decompress, type Compression } from '../image/archive-decompress.js';
import { invalid } from '../util/errors.js';

// Build contexts and ADD'ed archives may come in any of the compressions Docker's
// DecompressStream knows. gzip is undone in-process; bzip2, xz and zstd through the
// system's own tools (bzip2 and xz are installed with Debian; zstd when present).

const TOOLS: Partial<Record<Compression, string>> = { bzip2: 'bzip2', xz: 'xz', zstd: 'zstd' };

export async function decompressAny(src: Readable): Promise<{ compression: Compression; stream: Readable }> {
  const { compression, stream } = await decompress(src);
  const tool = TOOLS[compression];
  if (!tool) return { compression, stream };
  return { compression, stream: throughTool(tool, stream) };
}

function throughTool(tool: string, input: Readable): Readable {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const out = child.stdout;
  // stdin errors (EPIPE when the tool gives up early) surface through the exit status.
  child.stdin.on('error', () => {});
  pipeline(input, child.stdin).catch(() => child.kill());
  child.on('error', (err) => out.destroy(invalid(`${tool}: ${err.message}`)));
  child.on('close', (code) => {
    if (code !== 0 && code !== null) out.destroy(invalid(`${tool}: ${stderr.trim() || `exit status ${code}`}`));
  });
  // The consumer stopped early (a lone Dockerfile sniffed, an error): the tool goes too.
  out.once('close', () => {
    if (child.exitCode === null) child.kill();
  });
  return out;
}

// Go's archive/tar accepts a stream when its first block is a header whose checksum adds
// up (Docker's IsArchivePath); anything shorter, all zeros, or with a bad sum is not a tar.
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const stored = parseOctal(block.subarray(148, 156));
  if (stored === null) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function parseOctal(field: Buffer): number | null {
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(s)) return null;
  return parseInt(s, 8);
}

// Is the file at path a (possibly compressed) tar? Reads only the first block.
export async function isArchiveFile(path: string): Promise<boolean> {
  const { stream } = await decompressAny(createReadStream(path));
  try {
    const { head } = await peek(stream, 512);
    return isTarHeader(head);
  } catch {
    return false; // a corrupt compressed file is not an archive to unpack
  } finally {
    stream.destroy();
  }
}

// The first n bytes of a stream (fewer if it ends first), and a stream of all of it.
export async function peek(src: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const it = (src as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value);
    have += r.value.length;
  }
  const first = Buffer.concat(chunks);
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      if (first.length > 0) yield first;
      while (!done) {
        const r = await it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }
  return { head: first.subarray(0, n), rest: Readable.from(replay(), { objectMode: false }) };
}
