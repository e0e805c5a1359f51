import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { isOpaque, isWhiteout, lookupMerged } from './layer-lookup.js';

// `docker diff`: what a container's upper dir changed against the layers below it, with
// Docker's kinds and quirks (moby pkg/archive changes.go, OverlayChanges):
// - a whiteout device is a Delete of its path;
// - an opaque directory that exists below is a Delete of the directory (its new children
//   then show as Adds);
// - anything else is a Modify if the path exists below, an Add otherwise; a directory that
//   exists below with the same size, mode and mtime is only listed as the parent of a change;
// - every directory above a change is listed as a Modify (once), before it. moby's native
//   overlay diff does so only above an Add or Delete, but its naive diff, the seed's
//   `docker diff` ("C /etc" above "C /etc/passwd") and the reference dockerd 20.10 on this
//   host list the directory of a modified file too.
// Paths are absolute ("/etc/hosts"), in the order a lexical depth-first walk meets them.

export const ChangeKind = { Modify: 0, Add: 1, Delete: 2 } as const;
export type ChangeKindValue = (typeof ChangeKind)[keyof typeof ChangeKind];

// The shape GET /containers/{id}/changes returns.
export interface Change {
  Path: string;
  Kind: ChangeKindValue;
}

// Docker's sameFsTime: equal, or equal seconds when one side lost its sub-second part
// (a copy-up through a filesystem or tool without nanoseconds).
const sameTime = (a: number, b: number): boolean =>
  a === b || (Math.floor(a / 1000) === Math.floor(b / 1000) && (a % 1000 === 0 || b % 1000 === 0));

const sameDir = (a: Stats, b: Stats): boolean => a.size === b.size && a.mode === b.mode && sameTime(a.mtimeMs, b.mtimeMs);

const parentOf = (path: string): string => path.slice(0, path.lastIndexOf('/')) || '/';

// upper: the rw layer's diff dir; lowers: the dirs below it, topmost first.
export async function listChanges(upper: string, lowers: string[]): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();

  const visit = async (rel: string, st: Stats): Promise<void> => {
    const path = `/${rel}`;
    const below = await lookupMerged(lowers, rel);
    let kind: ChangeKindValue;
    if (isWhiteout(st)) {
      kind = ChangeKind.Delete;
    } else if (st.isDirectory() && below.kind === 'present' && isOpaque(`${upper}/${rel}`)) {
      kind = ChangeKind.Delete;
    } else if (below.kind === 'present') {
      if (st.isDirectory() && below.stat.isDirectory() && sameDir(st, below.stat)) return;
      kind = ChangeKind.Modify;
    } else {
      kind = ChangeKind.Add;
    }
    if (st.isDirectory()) changedDirs.add(path);
    const above: string[] = [];
    for (let dir = parentOf(path); dir !== '/' && !changedDirs.has(dir); dir = parentOf(dir)) {
      above.unshift(dir);
      changedDirs.add(dir);
    }
    for (const dir of above) changes.push({ Path: dir, Kind: ChangeKind.Modify });
    changes.push({ Path: path, Kind: kind });
  };

  const walk = async (relDir: string): Promise<void> => {
    const names = (await readdir(relDir === '' ? upper : `${upper}/${relDir}`)).sort();
    for (const name of names) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const st = await lstat(`${upper}/${rel}`);
      await visit(rel, st);
      // A skipped (unchanged) directory is still walked: its children may have changed.
      if (st.isDirectory()) await walk(rel);
    }
  };
  await walk('');
  return changes;
}
