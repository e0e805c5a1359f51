import { chmod, lchown, lutimes, mkdir, open, symlink } from 'node:fs/promises';
import { lookupMerged } from './layer-lookup.js';

// The placeholders Docker's init layer holds (moby daemon/initlayer): mount targets the
// runtime needs to exist (/proc, /sys, /dev/*, the files it bind-mounts) and /etc/mtab.
// Like Docker, each is created only when the image has nothing at that path, so an image's
// own /etc/mtab or a symlinked /etc is never shadowed. Modes are Docker's (0755 even for
// files).
const placeholders: ReadonlyArray<readonly [string, 'dir' | 'file' | { symlink: string }]> = [
  ['dev/pts', 'dir'],
  ['dev/shm', 'dir'],
  ['proc', 'dir'],
  ['sys', 'dir'],
  ['.dockerenv', 'file'],
  ['etc/resolv.conf', 'file'],
  ['etc/hosts', 'file'],
  ['etc/hostname', 'file'],
  ['dev/console', 'file'],
  ['etc/mtab', { symlink: '/proc/mounts' }],
];

// diff: the (empty) init layer dir; imageLayers: the image's diff dirs, topmost first.
export async function populateInitLayer(diff: string, imageLayers: string[]): Promise<void> {
  // Directories copied up from the image get their times back once their children exist.
  const times = new Map<string, Date>();
  for (const [rel, what] of placeholders) {
    if ((await lookupMerged(imageLayers, rel)).kind !== 'absent') continue;
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dirRel = parts.slice(0, i).join('/');
      const path = `${diff}/${dirRel}`;
      const created = await mkdir(path, 0o755).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'EEXIST') return false;
          throw err;
        },
      );
      if (!created) continue;
      // As an overlay copy-up would: the image's directory keeps its owner and mode.
      const below = await lookupMerged(imageLayers, dirRel);
      if (below.kind === 'present' && below.stat.isDirectory()) {
        await lchown(path, below.stat.uid, below.stat.gid);
        await chmod(path, below.stat.mode & 0o7777);
        times.set(path, below.stat.mtime);
      } else {
        await chmod(path, 0o755);
      }
    }
    const path = `${diff}/${rel}`;
    if (what === 'dir') {
      await mkdir(path, 0o755);
      await chmod(path, 0o755);
    } else if (what === 'file') {
      const fh = await open(path, 'wx', 0o755);
      await fh.chmod(0o755);
      await fh.close();
    } else {
      await symlink(what.symlink, path);
    }
  }
  for (const [path, mtime] of times) await lutimes(path, mtime, mtime);
}
