import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Header, Pack } from 'tar-stream';
import { goFileError } from './opts/kvfile.js';
import { loadTar } from './copy-untar.js';
import {
  assertsDirectory,
  goBase as base,
  goClean as clean,
  hasTrailingSeparator,
  preserveTrailingDotOrSeparator,
  specifiesCurrentDir,
  splitPathDirEntry,
} from '../util/archive-path.js';

export { extractTo } from './copy-untar.js';
export { assertsDirectory, clean, preserveTrailingDotOrSeparator, splitPathDirEntry };

type HeaderArg = Partial<Header> & Pick<Header, 'name'>;

// The client side of `cp`, after moby's go-archive copy.go as the docker CLI 28 vendors
// it: what the archive is named inside the tar, and how it is renamed to land where the
// user asked. Extraction is in copy-untar.ts.

// Go's os.FileMode bits as the daemon reports them in X-Docker-Container-Path-Stat.
const MODE_DIR = 2 ** 31;
const MODE_SYMLINK = 2 ** 27;
const MODE_DEVICE = 2 ** 26;
const MODE_IRREGULAR = 2 ** 19;

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

const hasBit = (mode: number, bit: number): boolean => Math.floor(mode / bit) % 2 === 1;
export const statIsDir = (s: PathStat): boolean => hasBit(s.mode, MODE_DIR);
export const statIsSymlink = (s: PathStat): boolean => hasBit(s.mode, MODE_SYMLINK);

// command.ValidateOutputPathFileMode, on a Go file mode.
export function fileModeProblem(mode: number): string | null {
  if (hasBit(mode, MODE_DEVICE)) return 'got a device';
  if (hasBit(mode, MODE_IRREGULAR)) return 'got an irregular file';
  return null;
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName?: string;
}

export class CopyError extends Error {}


// filepath.Abs that keeps a trailing "/" or "/." the user typed.
export const resolveLocalPath = (p: string): string => preserveTrailingDotOrSeparator(path.resolve(p), p);

// filepath.Join.
export const joinPath = (dir: string, name: string): string => clean(path.posix.join(dir, name));

// archive.GetRebaseName: a symlink resolved to resolved keeps the trailing "/" or "/." of
// path, and the copy keeps the name of path when resolving changed it.
export function getRebaseName(p: string, resolved: string): { path: string; rebaseName?: string } {
  let out = resolved;
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(out)) out += '/.';
  if (hasTrailingSeparator(p) && !hasTrailingSeparator(out)) out += '/';
  return base(p) !== base(out) ? { path: out, rebaseName: base(p) } : { path: out };
}

// archive.CopyInfoSourcePath (ResolveHostSourcePath): symlinks before the last separator
// are resolved; the last component too with followLink.
export async function copyInfoSourcePath(p: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName: string | undefined;
  if (followLink) {
    const real = await realpath(p).catch((err: unknown) => {
      throw goFileError('lstat', p, err);
    });
    ({ path: resolved, rebaseName } = getRebaseName(p, real));
  } else {
    const slash = p.lastIndexOf('/');
    const dirPart = p.slice(0, slash + 1) || '.';
    const basePart = p.slice(slash + 1);
    const dir = await realpath(dirPart).catch((err: unknown) => {
      throw goFileError('lstat', clean(dirPart), err);
    });
    resolved = `${dir === '/' ? '' : dir}/${basePart}`;
    if (hasTrailingSeparator(p) && base(p) !== base(resolved)) rebaseName = base(p);
  }
  const st = await lstat(resolved).catch((err: unknown) => {
    throw goFileError('lstat', resolved, err);
  });
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

// archive.CopyInfoDestinationPath: symlinks at the end are followed (ten at most); a path
// that does not exist needs an existing parent directory.
export async function copyInfoDestinationPath(p: string): Promise<CopyInfo> {
  const original = p;
  let st = await lstat(p).catch((err: NodeJS.ErrnoException) => err);
  for (let n = 0; !(st instanceof Error) && st.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${original}`);
    let target = await readlink(p);
    if (!path.isAbsolute(target)) target = joinPath(splitPathDirEntry(p)[0], target);
    p = target;
    st = await lstat(p).catch((err: NodeJS.ErrnoException) => err);
  }
  if (!(st instanceof Error)) return { path: p, exists: true, isDir: st.isDirectory() };
  if (st.code !== 'ENOENT') throw goFileError('lstat', p, st);
  const [parent] = splitPathDirEntry(p);
  const pst = await stat(parent).catch((err: unknown) => {
    throw goFileError('stat', parent, err);
  });
  if (!pst.isDirectory()) throw new Error('not a directory');
  return { path: p, exists: false, isDir: false };
}

// command.ValidateOutputPath: where a copy out of a container may land.
export async function validateOutputPath(p: string): Promise<void> {
  const dir = path.posix.dirname(clean(p));
  if (dir !== '' && dir !== '.') {
    const missing = await stat(dir).then(
      () => false,
      (err: NodeJS.ErrnoException) => err.code === 'ENOENT',
    );
    if (missing) throw new Error(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
  const st = await stat(p).catch((err: NodeJS.ErrnoException) => err);
  if (st instanceof Error) {
    if (st.code === 'ENOENT') return;
    throw goFileError('stat', p, st);
  }
  if (st.isDirectory() || st.isFile()) return;
  if (st.isBlockDevice() || st.isCharacterDevice()) {
    throw new Error(`invalid output path: ${JSON.stringify(p)} must be a directory or a regular file: got a device`);
  }
}

// archive.PrepareArchiveCopy: where to extract and how to rename the top entry.
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; from?: string; to?: string } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (src.rebaseName) srcBase = src.rebaseName;
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (dst.exists) return { dstDir, from: srcBase, to: dstBase };
  if (src.isDir) return { dstDir, from: srcBase, to: dstBase };
  if (assertsDirectory(dst.path)) throw new CopyError('no such directory');
  return { dstDir, from: srcBase, to: dstBase };
}

// archive.RebaseArchiveEntries: renames "from" and "from/..." to "to" and "to/..."; from
// "/" (a copy of a container's root) prefixes every name with to.
export function rebaseName(name: string, from: string, to: string): string {
  const oldBase = from.replace(/\/+$/, '');
  const newBase = to.replace(/\/+$/, '');
  if (oldBase === '') {
    const rest = name.replace(/^\/+/, '');
    return newBase === '' ? rest : `${newBase}/${rest}`;
  }
  if (!name.startsWith(oldBase)) return name;
  const suffix = name.slice(oldBase.length);
  return suffix === '' || suffix.startsWith('/') ? newBase + suffix : name;
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
  return asReadable(pack);
}

// tar-stream's packs are streamx streams: a Node Readable around one is what the HTTP
// client pipes (and `instanceof Readable` recognises).
function asReadable(pack: Pack): Readable {
  return Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false });
}

// archive.TarResource(Rebase): the resource under its base name ("." for "dir/.", whose
// entries are then "./..."), renamed to rebaseName when set; directories first and in
// lexical order, later names of a multiply-linked file as hardlinks, sockets skipped.
export async function tarResource(src: CopyInfo): Promise<Readable> {
  await lstat(src.path).catch((err: unknown) => {
    throw goFileError('lstat', src.path, err);
  });
  const [dir, include] = splitPathDirEntry(src.path);
  const rebase = (name: string): string => {
    if (!src.rebaseName) return name;
    const replacement = src.rebaseName === '/' ? '' : src.rebaseName;
    const i = name.indexOf(include);
    return i < 0 ? name : name.slice(0, i) + replacement + name.slice(i + include.length);
  };
  const tar = await loadTar();
  const pack = tar.pack();
  const links = new Map<string, string>();
  const add = async (abs: string, name: string): Promise<void> => {
    const st = await lstat(abs);
    const entryName = rebase(name);
    const head = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000) };
    if (st.isDirectory()) {
      await entry(pack, { ...head, name: `${entryName}/`, type: 'directory' });
      for (const child of (await readdir(abs)).sort()) await add(path.join(abs, child), `${name}/${child}`);
      return;
    }
    if (st.isSocket()) return;
    if (st.nlink > 1) {
      const first = links.get(`${st.dev}:${st.ino}`);
      if (first !== undefined) return entry(pack, { ...head, name: entryName, type: 'link', linkname: first });
      links.set(`${st.dev}:${st.ino}`, entryName);
    }
    if (st.isSymbolicLink()) return entry(pack, { ...head, name: entryName, type: 'symlink', linkname: await readlink(abs) });
    if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
      return entry(pack, { ...head, name: entryName, type, devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: st.rdev & 0xff });
    }
    await new Promise<void>((resolve, reject) => {
      const w = pack.entry({ ...head, name: entryName, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
      const r = createReadStream(abs);
      r.on('error', reject);
      r.pipe(w as unknown as NodeJS.WritableStream);
    });
  };
  const top = include === '.' ? dir : path.join(dir, include);
  add(top, include).then(
    () => pack.finalize(),
    (err: Error) => pack.destroy(err),
  );
  return asReadable(pack);
}

function entry(pack: Pack, header: HeaderArg): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}
