import { open, readFile, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { initAlive } from './init-process.js';
import type { RuntimeShortcuts } from './runtime-shortcuts.js';

// `runc start` and `runc delete` of a stopped container, done without spawning runc (a Go
// program: each spawn was a third of a `run --rm` on this host). Anything unusual answers
// false, and the caller runs runc, which gives its own answer.

// The part of runc's <root>/<id>/state.json (libcontainer's State) read here.
export interface RuncStateFile {
  init_process_pid: number;
  init_process_start: number;
  cgroup_paths?: Record<string, string>;
  intel_rdt_path?: string;
  config?: { hooks?: Record<string, unknown> | null; namespaces?: Array<{ type: string; path?: string }> };
}

export function parseRuncState(text: string): RuncStateFile | null {
  try {
    const state = JSON.parse(text) as Partial<RuncStateFile>;
    return typeof state.init_process_pid === 'number' && typeof state.init_process_start === 'number' ? (state as RuncStateFile) : null;
  } catch {
    return null;
  }
}

// 'absent' when runc has no such container, null when the state is unreadable.
async function readRuncState(dir: string): Promise<RuncStateFile | 'absent' | null> {
  try {
    return parseRuncState(await readFile(join(dir, 'state.json'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (await stat(dir).then(() => true, () => false)) ? null : 'absent';
    return null;
  }
}

export const runcShortcuts: RuntimeShortcuts = {
  // `runc start` does only this (libcontainer's exec()): runc init waits in open(O_WRONLY)
  // on <state dir>/exec.fifo; given a reader it writes one byte and execs the user process,
  // which closes the fifo (EOF); removing the fifo is what makes runc report 'running'.
  async start(dir: string): Promise<boolean> {
    const state = await readRuncState(dir);
    if (state === null || state === 'absent' || !(await initAlive(state.init_process_pid, state.init_process_start))) return false;
    const fifo = join(dir, 'exec.fifo');
    // The open blocks until init opens its end. Should init die first, runc polls its pid
    // every 100 ms; so does this, and then unblocks the open with a writer of its own.
    let opened = false;
    const watchdog = setInterval(() => {
      void initAlive(state.init_process_pid, state.init_process_start).then(async (alive) => {
        if (opened || alive) return;
        const w = await open(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK).catch(() => null);
        await w?.close();
      });
    }, 100);
    let data: Buffer;
    try {
      const fh = await open(fifo, fsc.O_RDONLY);
      opened = true;
      try {
        data = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch {
      return false;
    } finally {
      clearInterval(watchdog);
    }
    if (data.length === 0) return false;
    await unlink(fifo);
    return true;
  },

  // `runc delete` of a stopped container (libcontainer's destroy()) removes its cgroups and
  // its state dir, nothing more when it has a pid namespace of its own and no hooks.
  async deleteStopped(dir: string): Promise<boolean> {
    const state = await readRuncState(dir);
    if (state === 'absent') return true;
    if (state === null || (await initAlive(state.init_process_pid, state.init_process_start))) return false;
    const hooks = state.config?.hooks ?? {};
    const ownPidNs = state.config?.namespaces?.some((n) => n.type === 'NEWPID' && !n.path) ?? false;
    if (!ownPidNs || Object.values(hooks).some((h) => Array.isArray(h) && h.length > 0) || state.intel_rdt_path) return false;
    const paths = Object.values(state.cgroup_paths ?? {});
    if (!paths.every((p) => typeof p === 'string' && p.startsWith('/sys/fs/cgroup/'))) return false;
    if (!(await removeCgroupDirs(paths))) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  },
};

// rmdir only removes an empty cgroup: EBUSY (a process still there, a child cgroup) leaves
// the work to the runtime.
export async function removeCgroupDirs(paths: string[]): Promise<boolean> {
  const removed = await Promise.all(paths.map((p) => rmdir(p).then(() => true, (err: NodeJS.ErrnoException) => err.code === 'ENOENT')));
  return removed.every(Boolean);
}
