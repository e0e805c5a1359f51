import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';

// Lookups in a container's rootfs that the container cannot redirect, even while it runs
// and swaps a directory for a symlink between our check and our use (CVE-2018-15664, the
// `docker cp` race). Every step goes through a directory fd we hold: the kernel resolves
// `/proc/self/fd/<fd>/<name>` as that very directory plus one name, and a name is opened
// with O_NOFOLLOW, so nothing is followed that this walk did not read and decide on itself.
// Symlinks are followed as a chroot would: an absolute target restarts at the root, `..`
// stops there (the same rules as storage/path-safety.ts, without the window between them).

const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const maxSymlinks = 255;

export const fdPath = (dir: FileHandle, name?: string): string =>
  name === undefined ? `/proc/self/fd/${dir.fd}` : `/proc/self/fd/${dir.fd}/${name}`;

// Opens the directory `name` in dir; null when it is no longer a directory there.
export async function openDirAt(dir: FileHandle, name: string): Promise<FileHandle | null> {
  return open(fdPath(dir, name), O_DIR).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP' || err.code === 'ENOTDIR' || err.code === 'ENOENT') return null;
    throw err;
  });
}

// Opens the root itself: a host path the daemon chose, trusted.
export function openRoot(root: string): Promise<FileHandle> {
  return open(root, O_DIR);
}

// Errors worded as Go's os errors ("lstat /x/y: no such file or directory"), with the path
// the client asked for, never a host path.
export function pathError(code: 'ENOENT' | 'ENOTDIR' | 'ELOOP', op: string, path: string): NodeJS.ErrnoException {
  const text = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links' }[code];
  return Object.assign(new Error(`${op} ${path}: ${text}`), { code });
}

export interface Located {
  dir: FileHandle; // the node itself when name is null, else the directory holding it
  name: string | null;
  path: string; // where the node was found, absolute inside the root, symlinks resolved
  stat: BigIntStats; // lstat of the node: a final symlink not followed is reported as one
  // The innermost directory mount the walk went into (null: the rootfs itself), and the
  // node's path relative to that mount's source (or to the root).
  mount: DirMount | null;
  rel: string;
  close(): Promise<void>;
}

// A volume or bind mount of a directory, by where it lands in the container: cp reads and
// writes through it, as dockerd mounts the volumes for the time of a cp.
export interface DirMount {
  source: string; // host directory, chosen by the daemon: trusted
  rw: boolean;
}

// Finds path (taken as absolute inside root) without ever leaving root. Every component
// but the last must lead to a directory; the last is followed too when followFinal (a path
// ending in "/" or "/."). A directory node is returned open (name null). `shown` is the
// path named in errors. A directory listed in mounts is entered at its source instead.
export async function locate(
  root: string,
  path: string,
  followFinal: boolean,
  shown = path,
  mounts: ReadonlyMap<string, DirMount> = new Map(),
): Promise<Located> {
  const stack: FileHandle[] = [await openRoot(root)];
  const names: string[] = [];
  // Mounts entered, with the depth of names at which each starts.
  const entered: Array<{ depth: number; mount: DirMount }> = [];
  const where = (): { mount: DirMount | null; rel: string } => {
    const m = entered[entered.length - 1];
    return m ? { mount: m.mount, rel: names.slice(m.depth).join('/') } : { mount: null, rel: names.join('/') };
  };
  const closeAll = (): Promise<unknown> => Promise.all(stack.splice(0).map((h) => h.close().catch(() => {})));
  let todo = split(path);
  let hops = 0;
  const hop = (): void => {
    if (++hops > maxSymlinks) throw pathError('ELOOP', 'lstat', shown);
  };
  try {
    while (todo.length > 0) {
      const part = todo.shift() as string;
      const top = stack[stack.length - 1] as FileHandle;
      if (part === '..') {
        if (stack.length > 1) {
          await (stack.pop() as FileHandle).close();
          names.pop();
          while (entered.length > 0 && entered[entered.length - 1]!.depth > names.length) entered.pop();
        }
        continue;
      }
      const last = todo.length === 0;
      // A mount hides what lies beneath it in the rootfs, as it does inside the container.
      const mount = mounts.get(`/${[...names, part].join('/')}`);
      if (mount) {
        stack.push(await openRoot(mount.source));
        names.push(part);
        entered.push({ depth: names.length, mount });
        continue;
      }
      const st = await lstat(fdPath(top, part), { bigint: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw pathError('ENOENT', 'lstat', shown);
        throw err;
      });
      if (st.isSymbolicLink() && (!last || followFinal)) {
        hop();
        const target = await readlink(fdPath(top, part));
        if (target.startsWith('/')) {
          await Promise.all(stack.splice(1).map((h) => h.close()));
          names.length = 0;
          entered.length = 0;
        }
        todo = [...split(target), ...todo];
        continue;
      }
      if (st.isDirectory()) {
        const sub = await openDirAt(top, part);
        if (!sub) {
          // Replaced since the lstat: look at it again.
          hop();
          todo.unshift(part);
          continue;
        }
        stack.push(sub);
        names.push(part);
        continue;
      }
      if (!last) throw pathError('ENOTDIR', 'lstat', shown);
      const dir = stack.pop() as FileHandle;
      await closeAll();
      const at = where();
      return { dir, name: part, path: `/${[...names, part].join('/')}`, stat: st, mount: at.mount, rel: [at.rel, part].filter(Boolean).join('/'), close: () => dir.close() };
    }
    const dir = stack.pop() as FileHandle;
    await closeAll();
    const stat = await dir.stat({ bigint: true }).catch(async (err: unknown) => {
      await dir.close();
      throw err;
    });
    return { dir, name: null, path: `/${names.join('/')}`, stat, ...where(), close: () => dir.close() };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

// The content of a regular file inside root (symlinks followed within it), or null when
// it does not exist there.
export async function readFileInRoot(root: string, path: string): Promise<string | null> {
  let node: Located;
  try {
    node = await locate(root, path, true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
  try {
    if (node.name === null || !node.stat.isFile()) return null;
    const fh = await open(fdPath(node.dir, node.name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      if (!(await fh.stat()).isFile()) return null;
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } finally {
    await node.close();
  }
}
