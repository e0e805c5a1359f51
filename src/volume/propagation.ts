import { readFile, realpath } from 'node:fs/promises';
import type { SpecMount } from '../runtime/types.js';
import { systemError } from '../util/errors.js';

// Bind propagation as moby's WithMounts has it: a bind that asks for shared propagation
// needs a shared source mount and a shared rootfs, one that asks for slave a shared or slave
// source and an rslave rootfs; otherwise the start fails, rather than quietly giving a mount
// that propagates nothing.

export interface SourceMount {
  mountPoint: string;
  optional: string[]; // mountinfo's optional fields: "shared:N", "master:N", ...
}

const unescape = (p: string): string => p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));

// The mount a (symlink-free) path lives on: the longest mount point above it, the later
// entry when several are stacked there (moby's getSourceMount).
export function sourceMount(path: string, mountinfo: string): SourceMount | null {
  let best: SourceMount | null = null;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0) continue;
    const mountPoint = unescape(fields[4] ?? '');
    const above = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (above && (!best || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, optional: fields.slice(6, sep) };
  }
  return best;
}

const SHARED = new Set(['shared', 'rshared']);
const SLAVE = new Set(['slave', 'rslave']);

// linux.rootfsPropagation for these mounts, or undefined for the runtime's default (rslave).
export async function rootfsPropagation(mounts: readonly SpecMount[], readMountinfo: () => Promise<string> = () => readFile('/proc/self/mountinfo', 'utf8')): Promise<string | undefined> {
  let wanted: string | undefined;
  let mountinfo: string | null = null;
  for (const m of mounts) {
    if (m.type !== 'bind') continue;
    const shared = m.options.some((o) => SHARED.has(o));
    const slave = m.options.some((o) => SLAVE.has(o));
    if (!shared && !slave) continue;
    mountinfo ??= await readMountinfo();
    const path = await realpath(m.source).catch(() => m.source);
    const src = sourceMount(path, mountinfo);
    if (!src) throw systemError(`Can't find mount point of ${m.source}`);
    const isShared = src.optional.some((o) => o.startsWith('shared:'));
    const isSlave = src.optional.some((o) => o.startsWith('master:'));
    if (shared) {
      if (!isShared) throw systemError(`path ${m.source} is mounted on ${src.mountPoint} but it is not a shared mount`);
      wanted = 'shared';
    } else {
      if (!isShared && !isSlave) throw systemError(`path ${m.source} is mounted on ${src.mountPoint} but it is not a shared or slave mount`);
      wanted ??= 'rslave';
    }
  }
  return wanted;
}
