import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { lgetxattr } from './syscalls.js';

// What a path is in the overlay of a stack of layer diff dirs, answered without mounting
// it: read the layers top-down as overlayfs merges them (whiteout devices delete, opaque
// directories hide what is below, a non-directory hides everything below it). Never
// follows a symlink, so a layer's links cannot make it look at the host.

export const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

export function isOpaque(dir: string): boolean {
  return lgetxattr(dir, 'trusted.overlay.opaque')?.toString() === 'y';
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

export type Lookup =
  | { kind: 'absent' }
  // An ancestor is a symlink or a file in the merged view: the path is not a plain place.
  | { kind: 'blocked'; at: string }
  | { kind: 'present'; stat: Stats; layer: string };

// layers: diff dirs, topmost first. rel: relative path, '' is the root.
export async function lookupMerged(layers: string[], rel: string): Promise<Lookup> {
  const parts = rel.split('/').filter((p) => p !== '');
  // Layers in which the prefix walked so far is a real, visible directory.
  let dirLayers = layers;
  let found: { stat: Stats; layer: string } | null = null;
  for (let i = 0; i < parts.length; i++) {
    const prefix = parts.slice(0, i + 1).join('/');
    found = null;
    const next: string[] = [];
    for (const layer of dirLayers) {
      const st = await lstatOrNull(`${layer}/${prefix}`);
      if (!st) continue;
      if (isWhiteout(st)) break;
      if (!found) found = { stat: st, layer };
      if (!st.isDirectory()) break;
      next.push(layer);
      if (isOpaque(`${layer}/${prefix}`)) break;
    }
    if (!found) return { kind: 'absent' };
    if (i < parts.length - 1 && !found.stat.isDirectory()) return { kind: 'blocked', at: prefix };
    dirLayers = next;
  }
  if (!found) {
    // The root itself.
    const top = layers[0];
    const st = top === undefined ? null : await lstatOrNull(top);
    return st && top !== undefined ? { kind: 'present', stat: st, layer: top } : { kind: 'absent' };
  }
  return { kind: 'present', ...found };
}
