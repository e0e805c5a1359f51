import { posix } from 'node:path';

// The path arithmetic of moby's archive package (Go's filepath on Linux), on which the
// cp rules hang (shared by the CLI and the daemon, as moby's archive package is): a trailing "/" or "/." says "this is a directory", "/." also says "its
// content, not itself".

// filepath.Clean: no trailing slash but on the root, '.' for nothing.
export function goClean(path: string): string {
  if (path === '') return '.';
  const n = posix.normalize(path);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

// filepath.Base: the last element once trailing slashes are gone; "/" for the root.
export function goBase(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return path === '' ? '.' : '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export const specifiesCurrentDir = (p: string): boolean => goBase(p) === '.';
export const hasTrailingSeparator = (p: string): boolean => p.endsWith('/');

export const assertsDirectory = (p: string): boolean => hasTrailingSeparator(p) || specifiesCurrentDir(p);

// archive.PreserveTrailingDotOrSeparator.
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (!specifiesCurrentDir(out) && specifiesCurrentDir(original)) {
    if (!hasTrailingSeparator(out)) out += '/';
    out += '.';
  }
  if (!hasTrailingSeparator(out) && hasTrailingSeparator(original)) out += '/';
  return out;
}

// archive.SplitPathDirEntry: "/a/b/" → ["/a", "b"]; "a/." → ["a", "."].
export function splitPathDirEntry(p: string): [dir: string, base: string] {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned = `${cleaned}/.`;
  return [posix.dirname(cleaned), posix.basename(cleaned) || '/'];
}
