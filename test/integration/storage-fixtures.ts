import { mkdtemp, readdir, lstat, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { readMounts, unmountUnder } from '../../src/storage/mounts.js';

// Shared by the storage integration tests: crafted archives, temp trees, cleanup.

export interface TarEntry {
  header: Partial<Header> & { name: string; pax?: Record<string, string> };
  content?: string | Buffer;
}

export async function makeTar(entries: TarEntry[], opts: { gzip?: boolean; padding?: number } = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ mtime: new Date('2020-01-02T03:04:05Z'), ...e.header } as Header, e.content ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await collected;
  let buf = Buffer.concat([...chunks, Buffer.alloc(opts.padding ?? 0)]);
  if (opts.gzip) buf = gzipSync(buf);
  return buf;
}

export const streamOf = (buf: Buffer): Readable => Readable.from([buf.subarray(0, 700), buf.subarray(700)]);

export const file = (name: string, content: string | Buffer = '', extra: Partial<TarEntry['header']> = {}): TarEntry => ({
  header: { name, type: 'file', mode: 0o644, ...extra },
  content,
});
export const dir = (name: string, extra: Partial<TarEntry['header']> = {}): TarEntry => ({
  header: { name, type: 'directory', mode: 0o755, ...extra },
});
export const symlinkEntry = (name: string, target: string): TarEntry => ({
  header: { name, type: 'symlink', linkname: target, mode: 0o777 },
});
export const hardlinkEntry = (name: string, target: string): TarEntry => ({
  header: { name, type: 'link', linkname: target, mode: 0o644 },
});

// A fresh dir under /tmp (ext4 here: overlayfs needs trusted xattrs and whiteout devices on
// the upper fs), removed with every mount below it when the test ends, passed or not.
export async function tempDir(t: { after(fn: () => Promise<void>): void }, prefix = 'berth-storage-'): Promise<string> {
  const d = await mkdtemp(`/tmp/${prefix}`);
  t.after(async () => {
    await unmountUnder(d);
    await rm(d, { recursive: true, force: true });
  });
  return d;
}

export async function mountsUnder(dir: string): Promise<string[]> {
  return (await readMounts()).map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

// Every path in a tree, relative, without following symlinks; dirs end in '/'.
export async function listTree(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(`${root}/${prefix}`)).sort()) {
    const rel = `${prefix}${name}`;
    const st = await lstat(`${root}/${rel}`);
    if (st.isDirectory()) {
      out.push(`${rel}/`);
      out.push(...(await listTree(root, `${rel}/`)));
    } else {
      out.push(rel);
    }
  }
  return out;
}
