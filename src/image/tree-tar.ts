import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

// A directory tree as a layer tar: names relative to the root without "./", directories
// with a trailing "/", entries sorted by name (so the same tree gives the same bytes),
// numeric owners, hardlinks kept as links, device nodes and fifos as such. Sockets are
// skipped (they cannot be archived).

export interface PackOptions {
  // Relative paths ("dev/null") to leave out; a directory left out takes its subtree.
  exclude?: (rel: string) => boolean;
  // Asked after lstat: 'skip' leaves the entry (and a directory's subtree) out, 'omit'
  // leaves the entry out but still walks a directory (.dockerignore's "!dir/file").
  select?: (rel: string, isDir: boolean) => 'keep' | 'omit' | 'skip';
  // Owner written on every entry (the docker CLI sends a build context as 0:0).
  owner?: { uid: number; gid: number };
}

// The walk and the reads are synchronous, the event loop let go after every file chunk
// and every ENTRY_SLICE entries: a thread-pool round trip per lstat and per 64 KiB read
// made packing a 20 MB build context take 5-10 times its I/O on a loaded host.
const READ_CHUNK = 1 << 20;
const ENTRY_SLICE = 256;
const yieldLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;

export function packTree(root: string, opts: PackOptions = {}): Readable {
  const pack = tar.pack();
  const seen = new Map<string, string>();
  const add = (header: TarHeader, body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header, body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));

  let entries = 0;
  const walk = async (rel: string): Promise<void> => {
    const names = readdirSync(rel ? join(root, rel) : root).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (opts.exclude?.(r)) continue;
      const abs = join(root, r);
      const st = lstatSync(abs);
      if (++entries % ENTRY_SLICE === 0) await yieldLoop();
      const selected = opts.select?.(r, st.isDirectory()) ?? 'keep';
      if (selected === 'skip') continue;
      const owner = opts.owner ?? st;
      const base = { mode: st.mode & 0o7777, uid: owner.uid, gid: owner.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
      if (st.isDirectory()) {
        if (selected === 'keep') await add({ ...base, name: `${r}/`, type: 'directory' });
        await walk(r);
        continue;
      }
      if (selected === 'omit') continue;
      if ((st.mode & S_IFMT) === S_IFSOCK) continue;
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        const first = seen.get(key);
        if (first !== undefined) {
          await add({ ...base, name: r, type: 'link', linkname: first });
          continue;
        }
        seen.set(key, r);
      }
      if (st.isSymbolicLink()) {
        await add({ ...base, name: r, type: 'symlink', linkname: readlinkSync(abs) });
      } else if (st.isFile()) {
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ ...base, name: r, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
          copyInto(abs, st.size, sink).catch(reject);
        });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const rdev = st.rdev;
        // glibc's makedev layout: major in bits 8-19 (and 32+), minor in 0-7 and 20-31.
        const devmajor = ((rdev >> 8) & 0xfff) | Math.floor(rdev / 2 ** 32) & ~0xfff;
        const devminor = (rdev & 0xff) | ((rdev >> 12) & 0xfff00);
        await add({ ...base, name: r, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor, devminor });
      } else if (st.isFIFO()) {
        await add({ ...base, name: r, type: 'fifo' });
      }
    }
  };

  walk('')
    .then(() => pack.finalize())
    .catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return toNodeReadable(pack);
}

export type TarHeader = Partial<tar.Header> & { name: string };

// tar-stream's streams are streamx streams: feed them by hand, hand out a Node Readable.
// Read to the end, as a stream would (a file that grew since lstat is sent as it is now);
// a buffer per chunk, as the sink keeps them queued.
async function copyInto(path: string, size: number, sink: ReturnType<tar.Pack['entry']>): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    for (let total = 0; ; ) {
      const len = total < size ? Math.min(READ_CHUNK, size - total) : 4096;
      const buf = Buffer.allocUnsafe(len);
      const n = readSync(fd, buf, 0, len, null);
      if (n === 0) break;
      total += n;
      if (!sink.write(n === len ? buf : buf.subarray(0, n))) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
      else if (n === READ_CHUNK) await yieldLoop();
    }
  } finally {
    closeSync(fd);
  }
  sink.end(null);
}

export function toNodeReadable(pack: tar.Pack): Readable {
  const out = Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
  out.once('close', () => pack.destroy(null));
  return out;
}
