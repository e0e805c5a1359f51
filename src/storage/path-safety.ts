import { lstat, readlink } from 'node:fs/promises';
import { invalid } from '../util/errors.js';

// Path handling for untrusted layer archives. Two rules, as a chroot would give them:
// an entry name never climbs above the root, and symlinks met on the way are followed
// inside the root only (an absolute target restarts at the root, `..` stops at it),
// like securejoin / containerd's fs.RootPath.

// Normalises a tar entry name (or hardlink target) to a relative path inside the root,
// '' meaning the root itself. Like Docker's filepath.Clean + Join: a rooted name stays
// under the root ("/../x" is "x"), a relative name that climbs out ("../x", "a/../../x")
// is a breakout and throws.
export function cleanEntryName(name: string): string {
  if (name.includes('\0')) throw invalid(`invalid tar entry name ${JSON.stringify(name)}`);
  const rooted = name.startsWith('/');
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length > 0) parts.pop();
      else if (!rooted) throw invalid(`${JSON.stringify(name)} is outside of the layer root`);
      continue;
    }
    parts.push(part);
  }
  return parts.join('/');
}

export type NodeKind = 'dir' | 'symlink' | 'other' | 'missing';

// The two questions resolution asks of a filesystem; injectable so the logic is unit-tested
// against a fake tree.
export interface ResolveFs {
  kind(absPath: string): Promise<NodeKind>;
  readlink(absPath: string): Promise<string>;
}

export const realFs: ResolveFs = {
  async kind(p) {
    try {
      const st = await lstat(p);
      return st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
      throw err;
    }
  },
  readlink: (p) => readlink(p),
};

const maxSymlinks = 255; // as Linux's MAXSYMLINKS for a whole lookup

function join(root: string, rel: string[]): string {
  return rel.length === 0 ? root : `${root === '/' ? '' : root}/${rel.join('/')}`;
}

// Resolves rel (relative to root) following every symlink, including the last component,
// without ever leaving root. The result is root + a path whose existing components are
// real directories (the last may be anything but a symlink); components past the first
// missing one are kept lexically, so the caller can create them. A non-directory in the
// middle of the path is an error (ENOTDIR), as the kernel would report.
export async function resolveInRoot(root: string, rel: string, fs: ResolveFs = realFs): Promise<string> {
  const done: string[] = [];
  let todo = rel.split('/').filter((p) => p !== '' && p !== '.');
  let follows = 0;
  // Index in done of the first component that does not exist: from there on nothing can
  // be a symlink, until `..` climbs back above it.
  let missingFrom: number | null = null;
  while (todo.length > 0) {
    const part = todo.shift() as string;
    if (part === '..') {
      // Inside an existing real directory `..` is its lexical parent; at the root it stays.
      done.pop();
      if (missingFrom !== null && done.length <= missingFrom) missingFrom = null;
      continue;
    }
    done.push(part);
    if (missingFrom !== null) continue;
    const here = join(root, done);
    const kind = await fs.kind(here);
    if (kind === 'missing') {
      missingFrom = done.length - 1;
      continue;
    }
    if (kind === 'symlink') {
      if (++follows > maxSymlinks) throw invalid(`too many levels of symbolic links resolving ${JSON.stringify(rel)}`);
      const target = await fs.readlink(here);
      done.pop();
      if (target.startsWith('/')) done.length = 0;
      todo = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...todo];
      continue;
    }
    if (kind === 'other' && todo.length > 0) {
      throw invalid(`cannot resolve ${JSON.stringify(rel)}: ${JSON.stringify(done.join('/'))} is not a directory`);
    }
  }
  return join(root, done);
}
