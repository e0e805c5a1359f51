import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { lgetxattr } from '../storage/syscalls.js';
import { fdPath, openDirAt, type Located } from './archive-rootfs.js';

// Tar of a node of a container's rootfs, for `docker cp` (GET archive) and `docker export`,
// written as moby's TarWithOptions writes it (lexical order, directories first, names with
// a trailing "/" for directories, later names of a multiply-linked file as hardlinks,
// sockets skipped, only security.capability among xattrs, mtimes in whole seconds).
// Unlike storage/layer-tar.ts (image layers, nothing runs on them), the tree may belong to
// a running container that changes it while we read: every name is looked up through a
// held directory fd, files are opened with O_NOFOLLOW|O_NONBLOCK and checked with fstat,
// so a file swapped for a symlink or a FIFO is skipped, never followed or blocked on.

type Pack = ReturnType<typeof tar.pack>;
type EntryHeader = Partial<Header> & { name: string; pax?: Record<string, string> };

const O_FILE = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

// glibc's gnu_dev_major / gnu_dev_minor.
const devMajor = (rdev: bigint): number => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
const devMinor = (rdev: bigint): number => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));

// top: the name of the node's own entry ("etc", "." or "" for the root, whose entries then
// start with "/"), as moby's TarResourceRebaseOpts renames it; null leaves the node itself
// out and names its content relative to it (export). mounts: files bind-mounted into the
// container (its /etc/hosts...), by container path, read instead of what lies beneath.
export function nodeTar(node: Located, top: string | null, mounts: ReadonlyMap<string, string> = new Map()): Readable {
  const pack = tar.pack();
  new NodeWriter(pack, mounts).run(node, top).then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

class NodeWriter {
  private readonly links = new Map<string, string>(); // dev:ino -> first name

  constructor(
    private readonly pack: Pack,
    private readonly mounts: ReadonlyMap<string, string>,
  ) {}

  async run(node: Located, top: string | null): Promise<void> {
    if (node.name === null) {
      if (top !== null) await this.entry({ ...meta(node.stat), name: `${top}/`, type: 'directory' });
      return this.walk(node.dir, top === null ? '' : `${top}/`, node.path);
    }
    await this.add(node.dir, node.name, top ?? node.name, node.stat, node.path);
  }

  // dirPath: the directory's path in the container, for mounts.
  private async walk(dir: FileHandle, prefix: string, dirPath: string): Promise<void> {
    const entries = (await readdir(fdPath(dir), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const ent of entries) {
      const entryName = `${prefix}${ent.name}`;
      const path = `${dirPath === '/' ? '' : dirPath}/${ent.name}`;
      // Regular files, most of a tree, are opened at once: their fstat is all they need.
      if (ent.isFile() && !this.mounts.has(path) && (await this.addFile(dir, ent.name, entryName))) continue;
      // Gone since readdir: the container changed it; as tar does, go on.
      const st = await lstat(fdPath(dir, ent.name), { bigint: true }).catch(() => null);
      if (st) await this.add(dir, ent.name, entryName, st, path);
    }
  }

  private async add(dir: FileHandle, name: string, entryName: string, st: BigIntStats, path: string): Promise<void> {
    const mounted = this.mounts.get(path);
    if (mounted !== undefined) return this.mountedFile(mounted, entryName);
    if (st.isDirectory()) {
      const sub = await openDirAt(dir, name);
      if (!sub) return;
      try {
        await this.entry({ ...meta(await sub.stat({ bigint: true })), name: `${entryName}/`, type: 'directory' });
        await this.walk(sub, `${entryName}/`, path);
      } finally {
        await sub.close();
      }
      return;
    }
    if (st.isFile()) return void (await this.addFile(dir, name, entryName));
    if (st.isSocket()) return; // not representable in tar
    if (await this.linked(st, entryName)) return;
    if (st.isSymbolicLink()) {
      const target = await readlink(fdPath(dir, name)).catch(() => null);
      if (target === null) return;
      await this.entry({ ...meta(st), name: entryName, type: 'symlink', linkname: target });
    } else {
      const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
      await this.entry({ ...meta(st), name: entryName, type, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev) });
    }
    this.remember(st, entryName);
  }

  // The regular file name in dir; false when it is not one (any more).
  private async addFile(dir: FileHandle, name: string, entryName: string): Promise<boolean> {
    const fh = await open(fdPath(dir, name), O_FILE).catch(() => null);
    if (!fh) return false;
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) return false;
      if (await this.linked(st, entryName)) return true;
      const h: EntryHeader = { ...meta(st), name: entryName, type: 'file', size: Number(st.size) };
      const pax = capabilityPax(fdPath(dir, name));
      if (pax) h.pax = pax;
      await this.fileEntry(h, fh);
      this.remember(st, entryName);
      return true;
    } finally {
      await fh.close();
    }
  }

  // Later names of a multiply-linked node become hardlinks to the first one written.
  private async linked(st: BigIntStats, entryName: string): Promise<boolean> {
    if (st.nlink <= 1n) return false;
    const first = this.links.get(`${st.dev}:${st.ino}`);
    if (first === undefined) return false;
    await this.entry({ ...meta(st), name: entryName, type: 'link', linkname: first, size: 0 });
    return true;
  }

  private remember(st: BigIntStats, entryName: string): void {
    if (st.nlink > 1n) this.links.set(`${st.dev}:${st.ino}`, entryName);
  }

  // A file of the daemon's own (not the container's) bind-mounted over path.
  private async mountedFile(source: string, entryName: string): Promise<void> {
    const fh = await open(source, constants.O_RDONLY).catch(() => null);
    if (!fh) return;
    try {
      const st = await fh.stat({ bigint: true });
      await this.fileEntry({ ...meta(st), name: entryName, type: 'file', size: Number(st.size) }, fh);
    } finally {
      await fh.close();
    }
  }

  // Bodiless entries; an empty body is passed, or tar-stream waits for one.
  private entry(h: EntryHeader): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry(h, Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }

  // Exactly size bytes: a file that shrank while being read is padded with zeros, one that
  // grew is cut, so the archive stays well-formed (GNU tar does the same).
  private async fileEntry(h: EntryHeader, fh: FileHandle): Promise<void> {
    const size = h.size ?? 0;
    const sink = this.pack.entry(h);
    async function* body(): AsyncGenerator<Buffer> {
      const buf = Buffer.alloc(Math.min(Math.max(size, 1), 1 << 20));
      let sent = 0;
      while (sent < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - sent), sent);
        if (bytesRead === 0) break;
        sent += bytesRead;
        yield Buffer.from(buf.subarray(0, bytesRead));
      }
      while (sent < size) {
        const n = Math.min(size - sent, 1 << 16);
        sent += n;
        yield Buffer.alloc(n);
      }
    }
    await pipeline(body(), sink as unknown as NodeJS.WritableStream);
  }
}

function meta(st: BigIntStats): Omit<EntryHeader, 'name'> {
  // Whole seconds, as moby truncates them.
  return { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtime: new Date(Number(st.mtimeNs / 1_000_000_000n) * 1000) };
}

// tar-stream writes PAX values as UTF-8 text: only a value that survives that is kept.
function capabilityPax(path: string): Record<string, string> | null {
  let cap: Buffer | null;
  try {
    cap = lgetxattr(path, 'security.capability');
  } catch {
    return null;
  }
  if (!cap) return null;
  const text = cap.toString('utf8');
  return Buffer.from(text, 'utf8').equals(cap) ? { 'SCHILY.xattr.security.capability': text } : null;
}
