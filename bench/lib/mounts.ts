// Finds and removes mounts a daemon left under its own directories, before deleting them.
import { readFile } from 'node:fs/promises';
import { runCommand } from './command.js';

/** Mount points from /proc/self/mountinfo text, in mount order; octal escapes decoded. */
export function parseMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    out.push(fields[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

export function isUnder(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(d + '/');
}

export async function mountsUnder(dirs: readonly string[]): Promise<string[]> {
  const all = parseMountPoints(await readFile('/proc/self/mountinfo', 'utf8'));
  return all.filter((mp) => dirs.some((d) => isUnder(mp, d)));
}

/** Unmounts everything under `dirs`, children first; returns what could not be unmounted. */
export async function unmountUnder(dirs: readonly string[]): Promise<string[]> {
  for (const mp of (await mountsUnder(dirs)).reverse()) {
    const r = await runCommand('umount', [mp]);
    if (r.code !== 0) await runCommand('umount', ['-l', mp]);
  }
  return mountsUnder(dirs);
}
