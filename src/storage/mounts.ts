import { readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MNT_DETACH, umount } from './syscalls.js';

// What is mounted where, from /proc/self/mountinfo (the daemon's own mount namespace).

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

// mountinfo escapes space, tab, newline and backslash as octal (\040, \011, \012, \134).
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

// Line format (proc(5)): id parent major:minor root mountpoint options [optional...] - fstype source superoptions
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (fields.length < 7 || sep < 0 || fields.length < sep + 3) continue;
    entries.push({
      mountPoint: unescape(fields[4] as string),
      fsType: fields[sep + 1] as string,
      source: unescape(fields[sep + 2] as string),
      superOptions: fields[sep + 3] ?? '',
    });
  }
  return entries;
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await readMounts()).some((m) => m.mountPoint === path);
}

// Is something mounted on path that is not on its parent's filesystem? Two stats instead of
// parsing all of mountinfo (which grows with every running container): enough for our
// overlay mounts, since overlayfs gives its directories a device of its own.
export async function isMountedOver(path: string): Promise<boolean> {
  const [self, parent] = await Promise.all([stat(path).catch(() => null), stat(dirname(path)).catch(() => null)]);
  return self !== null && parent !== null && self.dev !== parent.dev;
}

function detach(path: string): void {
  try {
    umount(path, MNT_DETACH);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Gone already (a parent's detach took it along) is what we wanted.
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
}

// Detaches what isMountedOver sees at path, as often as it is stacked there; a detach takes
// the mounts below it along.
export async function unmountOver(path: string): Promise<void> {
  for (let i = 0; i < 64 && (await isMountedOver(path)); i++) detach(path);
}

// Detaches every mount at or below any of dirs, deepest first (a mount stacked twice is
// detached as often as it appears), from one read of mountinfo.
export async function unmountUnder(...dirs: string[]): Promise<void> {
  const inside = (p: string): boolean => dirs.some((dir) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
  const under = (await readMounts())
    .map((m) => m.mountPoint)
    .filter(inside)
    .sort((a, b) => b.length - a.length);
  for (const p of under) detach(p);
}

// rm -rf that never descends into a mount: removing a merged overlay dir while mounted
// would delete files of the image layers underneath through it.
export async function removeTree(dir: string): Promise<void> {
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true });
}
