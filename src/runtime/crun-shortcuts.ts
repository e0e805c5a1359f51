import { open, readFile, rm, stat, unlink } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { initAlive } from './init-process.js';
import { removeCgroupDirs } from './runc-shortcuts.js';
import type { RuntimeShortcuts } from './runtime-shortcuts.js';

// `crun start` and `crun delete` of a stopped container without spawning crun (each spawn
// costs 5-10 ms of a start on an idle host, far more under load).

// crun's <root>/<id>/status (libcrun's status.c), the part read here.
export interface CrunStatus {
  pid: number;
  processStartTime: number;
  cgroupPath: string; // relative to each hierarchy's root, e.g. '/berth/<id>'
  systemdCgroup: boolean;
}

export function parseCrunStatus(text: string): CrunStatus | null {
  try {
    const s = JSON.parse(text) as Record<string, unknown>;
    if (typeof s.pid !== 'number' || typeof s['process-start-time'] !== 'number' || typeof s['cgroup-path'] !== 'string') return null;
    return { pid: s.pid, processStartTime: s['process-start-time'], cgroupPath: s['cgroup-path'], systemdCgroup: s['systemd-cgroup'] === true };
  } catch {
    return null;
  }
}

// Every cgroup hierarchy's mount point (v1 controllers, named ones such as name=systemd, and
// cgroup2): crun's cgroupfs manager makes the container's cgroup in each of them.
export function cgroupMountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fstype = line.slice(sep + 3).split(' ')[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mp = (line.slice(0, sep).split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp && !out.includes(mp)) out.push(mp);
  }
  return out;
}

// The directories `crun delete` would remove; null when the path is not one to touch.
export function crunCgroupDirs(mountPoints: string[], cgroupPath: string): string[] | null {
  const parts = cgroupPath.split('/').filter(Boolean);
  if (!cgroupPath.startsWith('/') || parts.length === 0 || parts.some((p) => p === '..' || p === '.')) return null;
  return mountPoints.filter((m) => m.startsWith('/sys/fs/cgroup')).map((m) => join(m, ...parts));
}

type Status = CrunStatus | 'absent' | null;

async function readStatus(dir: string): Promise<Status> {
  try {
    return parseCrunStatus(await readFile(join(dir, 'status'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (await stat(dir).then(() => true, () => false)) ? null : 'absent';
    return null;
  }
}

interface SpecBits { hooks?: Record<string, unknown> | null; linux?: { namespaces?: Array<{ type: string; path?: string }> } }

let mounts: Promise<string[]> | null = null;
// Read once the daemon runs containers: host preparation mounted what it mounts before.
function hostCgroupMounts(): Promise<string[]> {
  mounts ??= readFile('/proc/self/mountinfo', 'utf8').then(cgroupMountPoints, () => {
    mounts = null;
    return [];
  });
  return mounts;
}

export const crunShortcuts: RuntimeShortcuts = {
  // libcrun_container_start: init waits reading <state dir>/exec.fifo, which it holds open;
  // start opens the writing end, unlinks the fifo (no fifo = 'running') and writes a byte.
  // O_NONBLOCK: with init gone there is no reader and the open fails (ENXIO), not hangs.
  async start(dir: string): Promise<boolean> {
    const status = await readStatus(dir);
    if (status === null || status === 'absent' || !(await initAlive(status.pid, status.processStartTime))) return false;
    const fifo = join(dir, 'exec.fifo');
    const fh = await open(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK).catch(() => null);
    if (!fh) return false;
    try {
      await unlink(fifo);
      await fh.write(Buffer.from([0]));
      return true;
    } catch {
      return false;
    } finally {
      await fh.close();
    }
  },

  // libcrun_container_delete of a stopped container: poststop hooks, the cgroups, the
  // state dir. Without hooks and with a pid namespace of its own, only the last two.
  async deleteStopped(dir: string): Promise<boolean> {
    const status = await readStatus(dir);
    if (status === 'absent') return true;
    if (status === null || status.systemdCgroup || (await initAlive(status.pid, status.processStartTime))) return false;
    let spec: SpecBits;
    try {
      spec = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as SpecBits;
    } catch {
      return false;
    }
    const ownPidNs = spec.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path) ?? false;
    if (!ownPidNs || Object.values(spec.hooks ?? {}).some((h) => Array.isArray(h) && h.length > 0)) return false;
    const dirs = crunCgroupDirs(await hostCgroupMounts(), status.cgroupPath);
    if (dirs === null || dirs.length === 0 || !(await removeCgroupDirs(dirs))) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  },
};
