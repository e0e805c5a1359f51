import { constants } from 'node:fs';
import { chmod, lstat, link, lutimes, mkdir, open, realpath, rm, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar, { type Header } from 'tar-stream';

// Extraction of what `cp` brings out of a container, as go-archive's Untar with the copy
// options (NoLchown, NoOverwriteDirNonDir): names cannot climb out of the destination,
// symlinks and hardlinks cannot point out of it, an existing entry is replaced (a
// directory merges with a directory), directory mtimes are set last. The archive comes
// from a container, which may be hostile: on top of moby's lexical checks, every entry's
// parent must really be inside the destination, so symlinks the archive made earlier can
// never carry a later entry out (moby relies on its symlink check alone).

type TarLib = typeof tar;

// tar-stream is evaluated only when a command first uses it: the CLI bundle loads it
// lazily (scripts/lazy-modules.mjs), so commands without archives never pay for it.
export async function loadTar(): Promise<TarLib> {
  return tar;
}

export class BreakoutError extends Error {}

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root === '/' ? '/' : `${root}/`);

// Go's filepath.Clean of an entry name.
function cleanName(name: string): string {
  const n = path.posix.normalize(name);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

// The real path of p's deepest existing ancestor (p itself if it exists).
async function realAncestor(p: string): Promise<string> {
  for (;;) {
    try {
      return await realpath(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || p === '/') throw err;
      p = path.dirname(p);
    }
  }
}

export async function extractTo(input: Readable, destDir: string): Promise<void> {
  const tar = await loadTar();
  const dest = path.resolve(destDir);
  const root = await realpath(dest);
  const dirTimes: Array<[string, Date]> = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const body = stream as unknown as Readable;
    unpack(header, body).then(
      () => next(),
      (err: unknown) => {
        body.resume();
        next(err as Error);
      },
    );
  });

  async function unpack(h: Header, body: Readable): Promise<void> {
    const name = cleanName(h.name);
    const target = path.join(dest, name);
    const rel = path.relative(dest, target);
    if (rel === '..' || rel.startsWith('../')) throw new BreakoutError(`${JSON.stringify(name)} is outside of ${JSON.stringify(dest)}`);
    if (rel !== '') {
      // Checked before mkdir creates anything, and after.
      const parent = path.dirname(target);
      const outside = (): BreakoutError => new BreakoutError(`${JSON.stringify(name)} is outside of ${JSON.stringify(dest)}`);
      if (!inside(root, await realAncestor(parent))) throw outside();
      await mkdir(parent, { recursive: true, mode: 0o755 });
      if (!inside(root, await realpath(parent))) throw outside();
    }
    const isDir = h.type === 'directory';
    const existing = await lstat(target).catch(() => null);
    if (existing) {
      if (existing.isDirectory() && !isDir) throw new Error(`cannot overwrite directory ${JSON.stringify(target)} with non-directory ${JSON.stringify(dest)}`);
      if (!existing.isDirectory() && isDir) throw new Error(`cannot overwrite non-directory ${JSON.stringify(target)} with directory ${JSON.stringify(dest)}`);
      if (existing.isDirectory() && rel === '') return void body.resume();
      if (!isDir) await rm(target, { recursive: true, force: true });
    }
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        body.resume();
        if (!existing) await mkdir(target, { mode });
        await chmod(target, mode);
        dirTimes.push([target, mtime]);
        return;
      case 'file':
      case 'contiguous-file': {
        const fh = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
        try {
          for await (const chunk of body) await fh.write(chunk as Buffer);
        } finally {
          await fh.close();
        }
        await chmod(target, mode);
        await utimes(target, mtime, mtime);
        return;
      }
      case 'symlink': {
        body.resume();
        const linkname = h.linkname ?? '';
        if (!inside(dest, path.join(path.dirname(target), linkname))) {
          throw new BreakoutError(`invalid symlink ${JSON.stringify(target)} -> ${JSON.stringify(linkname)}`);
        }
        await symlink(linkname, target);
        await lutimes(target, mtime, mtime);
        return;
      }
      case 'link': {
        body.resume();
        const linkname = h.linkname ?? '';
        const from = path.join(dest, linkname);
        if (!inside(dest, from)) throw new BreakoutError(`invalid hardlink ${JSON.stringify(from)} -> ${JSON.stringify(linkname)}`);
        await link(from, target);
        return;
      }
      default:
        // Devices and FIFOs need privileges a client may not have; as before, skipped.
        body.resume();
    }
  }

  await pipeline(input, extract as unknown as NodeJS.WritableStream);
  for (const [dir, mtime] of dirTimes) await utimes(dir, mtime, mtime);
}
