import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Where a container's cgroup lives. cgroup v1 (this project's hosts: hybrid, with the
// controllers on v1 and an empty cgroup2 at /sys/fs/cgroup/unified) has one hierarchy per
// controller, possibly co-mounted ("cpu,cpuacct"); cgroup v2 has one tree. Which one is
// decided from the mount table at run time, never assumed.

export type CgroupLayout =
  | { version: 1; mounts: Record<string, string> } // controller name → its hierarchy's mount point
  | { version: 2; mount: string };

export type CgroupDirs =
  | { version: 1; cpuacct?: string; cpu?: string; memory?: string; blkio?: string; pids?: string }
  | { version: 2; dir: string };

// The controllers stats read; a hybrid host with any of them on v1 is read as v1 (runc puts
// the container's limits and accounting there).
const STATS_CONTROLLERS = ['cpuacct', 'cpu', 'memory', 'blkio', 'pids'] as const;

// runc's cgroupfs driver takes an absolute cgroupsPath below every hierarchy's root;
// container-service gives it this one: the container's own --cgroup-parent when it has one
// (as dockerd, relative ones from the root), the daemon's otherwise.
export function containerCgroupsPath(cgroupParent: string, id: string, own?: unknown): string {
  const parent = typeof own === 'string' && own !== '' ? `/${own.replace(/^\/+/, '')}` : cgroupParent;
  return `${parent.replace(/\/+$/, '')}/${id}`;
}

// /proc/self/mountinfo: "36 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,... - cgroup cgroup rw,cpu,cpuacct".
export function parseCgroupMounts(mountinfo: string): CgroupLayout | null {
  const v1: Record<string, string> = {};
  let v2: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMountPath(left[4] ?? '');
    if (!mountPoint) continue;
    if (fstype === 'cgroup2') {
      // Several cgroup2 mounts can exist; the shallowest is the host's root.
      if (v2 === null || mountPoint.length < v2.length) v2 = mountPoint;
    } else if (fstype === 'cgroup') {
      // Super options list the controllers, next to rw/ro and name=... (named hierarchies).
      for (const opt of superOpts.split(',')) {
        if (opt === 'rw' || opt === 'ro' || opt.includes('=') || opt in v1) continue;
        v1[opt] = mountPoint;
      }
    }
  }
  if (STATS_CONTROLLERS.some((c) => c in v1)) return { version: 1, mounts: v1 };
  if (v2 !== null) return { version: 2, mount: v2 };
  return null;
}

// Mount points escape space, tab, newline and backslash as octal (\040 ...).
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function cgroupDirs(layout: CgroupLayout, cgroupsPath: string): CgroupDirs {
  if (layout.version === 2) return { version: 2, dir: join(layout.mount, cgroupsPath) };
  const dirs: CgroupDirs = { version: 1 };
  for (const c of STATS_CONTROLLERS) {
    const mount = layout.mounts[c];
    if (mount) dirs[c] = join(mount, cgroupsPath);
  }
  return dirs;
}

let cached: Promise<CgroupLayout> | null = null;

// The mount table does not change under a running daemon: read it once.
export function hostCgroupLayout(): Promise<CgroupLayout> {
  if (!cached) {
    cached = readFile('/proc/self/mountinfo', 'utf8').then((text) => {
      const layout = parseCgroupMounts(text);
      if (!layout) throw new Error('no cgroup filesystem is mounted');
      return layout;
    });
    cached.catch(() => (cached = null)); // a failed read is retried next time
  }
  return cached;
}
