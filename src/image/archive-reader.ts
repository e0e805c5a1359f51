import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { BerthError, invalid } from '../util/errors.js';

// An image archive read once, as a stream, into an index of its entries: nothing in it is
// ever extracted under its own name. Small files stay in memory, large ones are spooled to
// numbered files in a directory the caller owns (inside the data root), every file is
// hashed on the way, and a file under blobs/sha256/ must match its name. Links resolve
// inside the archive only: a name or link that climbs out of it is refused.

export interface ArchiveFile {
  kind: 'file';
  name: string; // the name it was first stored under
  size: number;
  digest: string; // "sha256:<hex>" of its bytes
  data: Buffer | null; // in memory, or
  path: string | null; // spooled
}

type Entry = ArchiveFile | { kind: 'dir' } | { kind: 'symlink'; target: string };

export interface ReadArchiveOptions {
  spoolDir: string;
  inMemoryMax?: number; // files up to this size stay in memory...
  memoryBudget?: number; // ...while all of them together stay under this
  maxEntries?: number;
}

const MAX_SYMLINK_HOPS = 40;
const blobNameRe = /^blobs\/sha256\/([a-f0-9]{64})$/;

// A tar entry name as a path inside the archive: "./a//b/" → "a/b". A rooted name is taken
// as relative to the archive (as Docker's untar does); climbing above it is refused.
export function cleanArchivePath(name: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw invalid(`invalid archive: ${JSON.stringify(name)} points outside the archive`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

export class ArchiveIndex {
  constructor(private readonly entries: Map<string, Entry>) {}

  has(name: string): boolean {
    return this.entries.has(cleanArchivePath(name));
  }

  // The regular file a name refers to. With follow, symlinks on the way (and a symlink at
  // the end) are resolved inside the archive; without, the name must itself be a file.
  file(name: string, what: string, follow = true): ArchiveFile {
    const resolved = follow ? this.resolve(name, what) : cleanArchivePath(name);
    const e = this.entries.get(resolved);
    if (!e) throw invalid(`invalid archive: ${what} ${JSON.stringify(name)} is not in the archive`);
    if (e.kind === 'symlink') throw invalid(`invalid archive: ${what} ${JSON.stringify(name)} is a symlink`);
    if (e.kind !== 'file') throw invalid(`invalid archive: ${what} ${JSON.stringify(name)} is not a regular file`);
    return e;
  }

  async read(f: ArchiveFile, max: number, what: string): Promise<Buffer> {
    if (f.size > max) throw invalid(`invalid archive: ${what} is too large (${f.size} bytes)`);
    if (f.data) return f.data;
    return readFile(f.path!);
  }

  open(f: ArchiveFile): Readable {
    return f.data ? Readable.from([f.data], { objectMode: false }) : createReadStream(f.path!);
  }

  // Follows symlinks component by component, like a chroot would, but refuses to leave
  // the archive rather than clamping at its root: no archive `docker save` writes needs it.
  private resolve(name: string, what: string): string {
    const outside = (): Error => invalid(`invalid archive: ${what} ${JSON.stringify(name)} points outside the archive`);
    let pending = cleanArchivePath(name).split('/').filter(Boolean);
    const done: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '.' || part === '') continue;
      if (part === '..') {
        if (done.length === 0) throw outside();
        done.pop();
        continue;
      }
      const here = [...done, part].join('/');
      const e = this.entries.get(here);
      if (e?.kind !== 'symlink') {
        done.push(part);
        continue;
      }
      if (++hops > MAX_SYMLINK_HOPS) throw invalid(`invalid archive: ${what} ${JSON.stringify(name)}: too many levels of symbolic links`);
      if (e.target.startsWith('/')) throw outside();
      pending = [...e.target.split('/'), ...pending];
    }
    return done.join('/');
  }
}

export async function readArchive(src: Readable, opts: ReadArchiveOptions): Promise<ArchiveIndex> {
  const inMemoryMax = opts.inMemoryMax ?? 1 << 20;
  const maxEntries = opts.maxEntries ?? 200_000;
  let memoryLeft = opts.memoryBudget ?? 64 << 20;
  const entries = new Map<string, Entry>();
  let spooled = 0;
  let count = 0;

  const extract = tar.extract();
  const feeding = pipeline(src, extract as unknown as NodeJS.WritableStream);
  feeding.catch(() => {}); // reported through the iteration below
  try {
    for await (const entry of extract) {
      const h = entry.header;
      if (++count > maxEntries) throw invalid(`invalid archive: more than ${maxEntries} entries`);
      const name = cleanArchivePath(h.name);
      switch (h.type) {
        case 'file':
        case 'contiguous-file': {
          if (name === '') throw invalid(`invalid archive: ${JSON.stringify(h.name)} is not a file name`);
          const size = h.size ?? 0;
          const inMemory = size <= inMemoryMax && size <= memoryLeft;
          const path = inMemory ? null : join(opts.spoolDir, String(++spooled));
          const { digest, data, written } = await consume(entry as AsyncIterable<Buffer>, path);
          if (written !== size) throw invalid(`invalid archive: ${JSON.stringify(h.name)} is truncated`);
          if (inMemory) memoryLeft -= size;
          const m = blobNameRe.exec(name);
          if (m && digest !== `sha256:${m[1]}`) {
            throw invalid(`invalid archive: blob ${name} does not match its digest (its content is ${digest})`);
          }
          entries.set(name, { kind: 'file', name, size, digest, data, path });
          break;
        }
        case 'directory':
          await drain(entry);
          if (name !== '' && entries.get(name)?.kind !== 'file') entries.set(name, { kind: 'dir' });
          break;
        case 'symlink':
          await drain(entry);
          if (name === '') throw invalid('invalid archive: the archive root is a symlink');
          entries.set(name, { kind: 'symlink', target: h.linkname ?? '' });
          break;
        case 'link': {
          await drain(entry);
          let target: Entry | undefined;
          try {
            target = entries.get(cleanArchivePath(h.linkname ?? ''));
          } catch {
            target = undefined;
          }
          if (target?.kind !== 'file') {
            throw invalid(`invalid archive: hard link ${JSON.stringify(h.name)} to ${JSON.stringify(h.linkname ?? '')}: no such file earlier in the archive`);
          }
          entries.set(name, target);
          break;
        }
        default:
          // Devices, fifos, global PAX headers: nothing an image archive uses; never created.
          await drain(entry);
      }
    }
    await feeding;
  } catch (err) {
    extract.destroy();
    src.destroy();
    if (!(err instanceof Error) || err instanceof BerthError) throw err;
    // A truncated or corrupt tar fails the entry being read with a bare "Stream was
    // destroyed"; the pipeline holds the parser's reason ("Unexpected end of data").
    const cause = await feeding.then(() => err, (e: unknown) => e);
    const why = cause instanceof Error && !/premature close/i.test(cause.message) ? cause : err;
    throw invalid(`invalid archive: ${why.message}`);
  }
  return new ArchiveIndex(entries);
}

async function consume(entry: AsyncIterable<Buffer>, path: string | null): Promise<{ digest: string; data: Buffer | null; written: number }> {
  const hash = createHash('sha256');
  let written = 0;
  if (path === null) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) {
      hash.update(chunk);
      chunks.push(chunk);
      written += chunk.length;
    }
    return { digest: `sha256:${hash.digest('hex')}`, data: Buffer.concat(chunks), written };
  }
  const fh = await open(path, 'wx', 0o600);
  try {
    for await (const chunk of entry) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += (await fh.write(chunk, off)).bytesWritten;
      written += chunk.length;
    }
  } finally {
    await fh.close();
  }
  return { digest: `sha256:${hash.digest('hex')}`, data: null, written };
}

async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of entry) {
    // bodies of entries that carry nothing we use
  }
}
