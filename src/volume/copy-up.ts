import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { resolveInRoot } from '../storage/path-safety.js';
import { systemError } from '../util/errors.js';

const run = promisify(execFile);

// Where a container path lands in its rootfs, with every symlink on the way resolved
// inside the rootfs (an image's /data -> /etc must never reach the host's /etc).
export function pathInRootfs(rootfs: string, containerPath: string): Promise<string> {
  return resolveInRoot(rootfs, containerPath);
}

// moby's copyExistingContents: a new, empty volume is filled with what the image has at
// the mount point, owners, modes, times, xattrs and links as they are. `cp -a` does all
// of that, never follows a symlink it copies, and keeps hardlinks.
export async function copyImageContent(rootfs: string, containerPath: string, volumeDir: string): Promise<boolean> {
  const source = await pathInRootfs(rootfs, containerPath);
  const st = await lstat(source).catch(() => null);
  if (!st || !st.isDirectory()) return false;
  if ((await readdir(volumeDir)).length > 0) return false;
  try {
    await run('cp', ['-a', '--', `${source}/.`, `${volumeDir}/`]);
  } catch (err) {
    throw systemError(`failed to populate volume: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
  }
  return true;
}
