import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { isOpaque, isWhiteout } from './layer-lookup.js';
import { lgetxattr } from './syscalls.js';

// Tar streams out of directories, as Docker's archive.TarWithOptions writes them: entries
// relative to the root without "./", directories before their content in lexical order,
// later names of a multiply-linked file as hardlinks, sockets skipped.
// - upperDirTar: a container's upper dir as an OCI layer (commit): overlay whiteout devices
//   become `.wh.NAME` files, opaque directories get a `.wh..wh..opq` file (Docker's
//   overlayWhiteoutConverter.ConvertWrite).
// - directoryTar: any tree as it is, e.g. a mounted merged dir (export).

export interface DirectoryTarOptions {
  overlayWhiteouts?: boolean;
}

export function upperDirTar(upper: string): Readable {
  return directoryTar(upper, { overlayWhiteouts: true });
}

export function directoryTar(root: string, opts: DirectoryTarOptions = {}): Readable {
  const pack = tar.pack();
  new TarWriter(root, pack, opts.overlayWhiteouts ?? false).run().then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

type Pack = ReturnType<typeof tar.pack>;
type EntryHeader = Partial<Header> & { name: string; pax?: Record<string, string> };

// glibc's gnu_dev_major / gnu_dev_minor; `>>>` takes the low 32 bits of st_rdev.
const devMajor = (rdev: number): number => ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const devMinor = (rdev: number): number => (rdev & 0xff) | ((rdev >>> 12) & ~0xff);

// The walk and the reads are synchronous, the event loop let go after every file chunk
// and every ENTRY_SLICE entries: a thread-pool round trip per lstat
// and per read cost several times the calls themselves on a loaded host.
const READ_CHUNK = 1 << 20;
const ENTRY_SLICE = 256;
const yieldLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class TarWriter {
  private readonly links = new Map<string, string>(); // dev:ino -> first name
  private entries = 0;

  constructor(
    private readonly root: string,
    private readonly pack: Pack,
    private readonly whiteouts: boolean,
  ) {}

  async run(): Promise<void> {
    await this.walk('');
  }

  private async walk(relDir: string): Promise<void> {
    const names = readdirSync(relDir === '' ? this.root : `${this.root}/${relDir}`).sort();
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const path = `${this.root}/${rel}`;
      // Gone since readdir: a running container changed it; as tar does, go on.
      let st: Stats;
      try {
        st = lstatSync(path);
      } catch {
        continue;
      }
      if (++this.entries % ENTRY_SLICE === 0) await yieldLoop();
      await this.add(rel, path, st);
      if (st.isDirectory()) await this.walk(rel);
    }
  }

  private async add(rel: string, path: string, st: Stats): Promise<void> {
    const base: EntryHeader = {
      name: rel,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime,
    };
    const pax = this.capabilityPax(path, st);
    if (pax) base.pax = pax;

    if (this.whiteouts && isWhiteout(st)) {
      const slash = rel.lastIndexOf('/');
      const name = `${rel.slice(0, slash + 1)}.wh.${rel.slice(slash + 1)}`;
      return this.entry({ ...base, name, type: 'file', mode: 0o600, size: 0 });
    }
    if (st.isDirectory()) {
      await this.entry({ ...base, name: `${rel}/`, type: 'directory' });
      if (this.whiteouts && isOpaque(path)) {
        await this.entry({ name: `${rel}/.wh..wh..opq`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 });
      }
      return;
    }
    if (st.isSymbolicLink()) return this.entry({ ...base, type: 'symlink', linkname: readlinkSync(path) });
    if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
      return this.entry({ ...base, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) });
    }
    if (!st.isFile()) return; // sockets: not representable in tar
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.entry({ ...base, type: 'link', linkname: first });
      this.links.set(key, rel);
    }
    await this.fileEntry({ ...base, type: 'file', size: st.size }, path);
  }

  // Bodiless entries; an empty body is passed, or tar-stream waits for a zero-size file's
  // body to be ended.
  private entry(h: EntryHeader): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry(h, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }

  // Exactly size bytes: a file that shrank while being read is padded with zeros, one that
  // grew is cut, so the archive stays well-formed (GNU tar does the same, with a warning).
  private async fileEntry(h: EntryHeader & { size: number }, path: string): Promise<void> {
    const size = h.size;
    const sink = this.pack.entry(h);
    async function* body(): AsyncGenerator<Buffer> {
      let fd: number | null = null;
      try {
        fd = openSync(path, 'r');
      } catch {
        // gone or unreadable: zeros, as below
      }
      let sent = 0;
      try {
        while (fd !== null && sent < size) {
          const buf = Buffer.allocUnsafe(Math.min(size - sent, READ_CHUNK));
          const bytesRead = readSync(fd, buf, 0, buf.length, sent);
          if (bytesRead === 0) break;
          sent += bytesRead;
          yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
          await yieldLoop();
        }
      } finally {
        if (fd !== null) closeSync(fd);
      }
      while (sent < size) {
        const n = Math.min(size - sent, 1 << 16);
        sent += n;
        yield Buffer.alloc(n);
      }
    }
    await pipeline(body(), sink as unknown as NodeJS.WritableStream);
  }

  // Docker carries only security.capability (file capabilities set by `setcap` in a build)
  // into layers. tar-stream writes PAX values as UTF-8 text, so only a value that survives
  // that round trip is kept.
  private capabilityPax(path: string, st: Stats): Record<string, string> | null {
    if (!st.isFile()) return null;
    const cap = lgetxattr(path, 'security.capability');
    if (!cap) return null;
    const text = cap.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(cap)) return null;
    return { 'SCHILY.xattr.security.capability': text };
  }
}
