import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, stat, symlink, link, chmod, utimes, open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header, Pack } from 'tar-stream';

type HeaderArg = Partial<Header> & Pick<Header, 'name'>;
import { goFileError } from './opts/kvfile.js';

// The client side of `cp`, after moby's pkg/archive copy.go: what the archive is
// named inside the tar, how it is renamed to land where the user asked, and
// extraction that never writes outside the destination directory.

type TarLib = typeof import('tar-stream');
let tarLib: TarLib | undefined;

// tar-stream is imported at run time, by a name esbuild leaves alone, so its
// ~80 kB stay out of the CLI bundle that every command parses at start-up.
async function loadTar(): Promise<TarLib> {
  if (!tarLib) {
    const name = 'tar-stream';
    const mod = (await import(name)) as TarLib & { default?: TarLib };
    tarLib = mod.default ?? mod;
  }
  return tarLib;
}

// Go's os.FileMode bits as the daemon reports them in X-Docker-Container-Path-Stat.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

export function decodePathStat(header: string | string[] | undefined): PathStat | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  try {
    return JSON.parse(Buffer.from(v, 'base64').toString('utf8')) as PathStat;
  } catch {
    throw new Error('unable to decode container path stat header');
  }
}

export const statIsDir = (s: PathStat): boolean => Math.floor(s.mode / MODE_DIR) % 2 === 1;
export const statIsSymlink = (s: PathStat): boolean => Math.floor(s.mode / MODE_SYMLINK) % 2 === 1;

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

// Go's filepath.Clean.
function clean(p: string): string {
  if (p === '') return '.';
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

// archive.SplitPathDirEntry: "/a/b/" → ["/a", "b"]; "a/." → ["a", "."].
export function splitPathDirEntry(p: string): [dir: string, base: string] {
  let cleaned = clean(p);
  if (cleaned === '/') return ['/', '/'];
  if (path.posix.basename(p) === '.') cleaned = `${cleaned}/.`;
  return [path.posix.dirname(cleaned), path.posix.basename(cleaned)];
}

// A path that says "I am a directory": ends with a separator or "/.".
export const assertsDirectory = (p: string): boolean => p.endsWith('/') || p.endsWith('/.') || p === '.';

// filepath.Abs that keeps a trailing "/" or "/." the user typed (PreserveTrailingDotOrSeparator).
export function resolveLocalPath(p: string): string {
  let abs = path.resolve(p);
  if (p.endsWith('/.') && !abs.endsWith('/.')) abs = `${abs === '/' ? '' : abs}/.`;
  else if (p.endsWith('/') && !abs.endsWith('/')) abs += '/';
  return abs;
}

export class CopyError extends Error {}

// archive.PrepareArchiveCopy: where to extract and how to rename the top entry.
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; from?: string; to?: string } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (src.rebaseName) srcBase = src.rebaseName;
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (dst.exists) return { dstDir, from: srcBase, to: dstBase };
  if (src.isDir) return { dstDir, from: srcBase, to: dstBase };
  if (assertsDirectory(dst.path)) throw new CopyError('destination directory does not exist');
  return { dstDir, from: srcBase, to: dstBase };
}

// archive.RebaseArchiveEntries: renames "from" and "from/..." to "to" and "to/...".
export function rebaseName(name: string, from: string, to: string): string {
  const trimmed = name.replace(/^\.\//, '');
  if (from === '.') return trimmed === '.' || trimmed === '' ? to : path.posix.join(to, trimmed);
  if (trimmed === from || trimmed === `${from}/`) return to + (trimmed.endsWith('/') ? '/' : '');
  if (trimmed.startsWith(`${from}/`)) return to + trimmed.slice(from.length);
  return name;
}

export async function rebaseArchive(input: Readable, from: string, to: string): Promise<Readable> {
  const tar = await loadTar();
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, stream, next) => {
    const h = { ...header, name: rebaseName(header.name, from, to) };
    if (h.type === 'link' && h.linkname) h.linkname = rebaseName(h.linkname, from, to);
    stream.pipe(pack.entry(h, next) as unknown as NodeJS.WritableStream);
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (err: Error) => pack.destroy(err));
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract as unknown as NodeJS.WritableStream);
  // streamx streams interoperate with node's pipe() and async iteration.
  return pack as unknown as Readable;
}

async function addPath(pack: Pack, abs: string, name: string): Promise<void> {
  const st = await lstat(abs);
  const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
  if (st.isDirectory()) {
    await entry(pack, { ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
    for (const child of (await readdir(abs)).sort()) await addPath(pack, path.join(abs, child), path.posix.join(name, child));
  } else if (st.isSymbolicLink()) {
    await entry(pack, { ...base, type: 'symlink', linkname: await readlink(abs) });
  } else if (st.isFile()) {
    await new Promise<void>((resolve, reject) => {
      const w = pack.entry({ ...base, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
      const r = createReadStream(abs);
      r.on('error', reject);
      r.pipe(w as unknown as NodeJS.WritableStream);
    });
  }
  // Sockets, devices and fifos are skipped: there is nothing portable to send.
}

function entry(pack: Pack, header: HeaderArg): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

// archive.TarResource for a local source: the entry is named after the source's
// base name ("." for "dir/.", which copies the directory's contents).
export async function tarResource(src: CopyInfo, followLink: boolean): Promise<Readable> {
  const [dir, base] = splitPathDirEntry(src.path);
  let target = base === '.' ? dir : path.join(dir, base);
  if (followLink) {
    try {
      target = path.resolve(dir, await readlink(target));
    } catch {
      /* not a link */
    }
  }
  const tar = await loadTar();
  const pack = tar.pack();
  addPath(pack, target, base).then(
    () => pack.finalize(),
    (err: Error) => pack.destroy(err),
  );
  return pack as unknown as Readable;
}

export async function localCopyInfo(p: string, followLink: boolean): Promise<CopyInfo> {
  try {
    const st = followLink ? await stat(p) : await lstat(p);
    return { path: p, exists: true, isDir: st.isDirectory() };
  } catch (err) {
    throw goFileError('lstat', p.replace(/\/\.?$/, '') || '/', err);
  }
}

export async function localDestInfo(p: string): Promise<CopyInfo> {
  try {
    const st = await stat(p);
    return { path: p, exists: true, isDir: st.isDirectory() };
  } catch {
    const [dir] = splitPathDirEntry(p);
    try {
      await stat(dir);
    } catch (err) {
      throw goFileError('lstat', dir, err);
    }
    return { path: p, exists: false, isDir: false };
  }
}

function inside(root: string, name: string): string {
  const target = path.resolve(root, name);
  const rel = path.relative(root, target);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new CopyError(`invalid tar entry outside the destination: ${name}`);
  return target;
}

// Untar with moby's cp options: no chown, and no replacing a directory by a
// non-directory (or the reverse).
export async function extractTo(input: Readable, dstDir: string): Promise<void> {
  const tar = await loadTar();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    handle(header, stream as unknown as Readable).then(
      () => next(),
      (err: unknown) => {
        stream.resume();
        next(err as Error);
      },
    );
  });
  async function handle(header: Header, stream: Readable): Promise<void> {
    const target = inside(dstDir, header.name);
    const mode = (header.mode ?? 0o644) & 0o7777;
    const existing = await lstat(target).catch(() => undefined);
    if (existing) {
      const isDir = header.type === 'directory';
      if (existing.isDirectory() !== isDir) {
        throw new CopyError(`cannot overwrite ${existing.isDirectory() ? 'directory' : 'non-directory'} "${target}" with ${isDir ? 'directory' : 'non-directory'} "${header.name}"`);
      }
    }
    await mkdir(path.dirname(target), { recursive: true });
    switch (header.type) {
      case 'directory':
        if (!existing) await mkdir(target, { mode });
        else await chmod(target, mode);
        stream.resume();
        break;
      case 'symlink':
        if (existing) throw new CopyError(`file exists: ${target}`);
        await symlink(header.linkname ?? '', target);
        stream.resume();
        break;
      case 'link':
        await link(inside(dstDir, header.linkname ?? ''), target);
        stream.resume();
        break;
      case 'file':
      case 'contiguous-file': {
        const fh = await open(target, 'w', mode);
        await pipeline(stream, fh.createWriteStream());
        await chmod(target, mode);
        if (header.mtime) await utimes(target, header.mtime, header.mtime);
        break;
      }
      default:
        stream.resume();
    }
  }
  await pipeline(input, extract as unknown as NodeJS.WritableStream);
}
