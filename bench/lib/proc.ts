// Which processes make up an engine, and how much memory they hold.
//
// An engine is its daemon, the daemon's descendants, and its per-container monitors
// (containerd shims or conmons), which re-parent to init and so are found by their name
// plus one of the engine's own paths on their command line. Container processes are never
// counted: they live in another pid namespace.
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
  /** false when the process is in another pid namespace than ours (a container's). */
  hostPidNs: boolean;
}

export interface ProcessSetSpec {
  daemonPids: readonly number[];
  /** Prefix of /proc/<pid>/comm; the kernel truncates comm to 15 bytes. */
  monitorComm: string;
  /** A monitor belongs to this engine when its command line contains one of these. */
  markers: readonly string[];
}

export interface MemoryFigure {
  /** Bytes of resident memory summed over the processes (shared pages counted each time). */
  rss: number;
  /** Bytes of proportional set size: shared pages split among their sharers. */
  pss: number;
  processes: number;
  monitors: number;
  byComm: Record<string, { count: number; rss: number; pss: number }>;
}

/** The fields of /proc/<pid>/stat after comm, which sits in parentheses and may itself hold spaces or ')'. */
function statFields(text: string): { pid: number; comm: string; rest: string[] } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`malformed stat: ${text.slice(0, 80)}`);
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), rest: text.slice(close + 2).split(' ') };
}

export function parseStat(text: string): { pid: number; comm: string; ppid: number } {
  const { pid, comm, rest } = statFields(text);
  const ppid = Number(rest[1]);
  if (!Number.isInteger(pid) || !Number.isInteger(ppid)) throw new Error(`malformed stat: ${text.slice(0, 80)}`);
  return { pid, comm, ppid };
}

/** utime + stime of a /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on Linux). */
export function parseCpuTicks(text: string): number {
  const { rest } = statFields(text);
  const ticks = Number(rest[11]) + Number(rest[12]);
  if (!Number.isInteger(ticks)) throw new Error(`malformed stat: ${text.slice(0, 80)}`);
  return ticks;
}

/** Rss and Pss in bytes from /proc/<pid>/smaps_rollup (values there are in kB). */
export function parseSmapsRollup(text: string): { rss: number; pss: number } {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    if (!m) throw new Error(`smaps_rollup has no ${name} line`);
    return Number(m[1]) * 1024;
  };
  return { rss: field('Rss'), pss: field('Pss') };
}

/** The engine's processes among `procs`: daemons, monitors, and their host-namespace descendants. */
export function selectEngineProcesses(procs: readonly ProcInfo[], spec: ProcessSetSpec): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const roots: ProcInfo[] = [];
  for (const pid of spec.daemonPids) {
    const p = byPid.get(pid);
    if (p) roots.push(p);
  }
  for (const p of procs) {
    if (isMonitor(p, spec)) roots.push(p);
  }
  const chosen = new Map<number, ProcInfo>();
  const stack = [...roots];
  while (stack.length) {
    const p = stack.pop()!;
    if (chosen.has(p.pid) || !p.hostPidNs) continue;
    chosen.set(p.pid, p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return [...chosen.values()].sort((a, b) => a.pid - b.pid);
}

export function isMonitor(p: ProcInfo, spec: ProcessSetSpec): boolean {
  return (
    spec.monitorComm !== '' &&
    p.comm.startsWith(spec.monitorComm) &&
    spec.markers.some((m) => m !== '' && p.cmdline.includes(m))
  );
}

/** A snapshot of every process we can read; processes that exit meanwhile are skipped. */
export async function listProcesses(): Promise<ProcInfo[]> {
  const ourNs = await readlink('/proc/self/ns/pid');
  const out: ProcInfo[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseStat(await readFile(`/proc/${name}/stat`, 'utf8'));
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      const ns = await readlink(`/proc/${name}/ns/pid`);
      out.push({ pid: stat.pid, ppid: stat.ppid, comm: stat.comm, cmdline, hostPidNs: ns === ourNs });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

async function readMemory(pid: number): Promise<{ rss: number; pss: number } | null> {
  try {
    return parseSmapsRollup(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
  } catch {
    return null;
  }
}

export async function measureEngineMemory(spec: ProcessSetSpec): Promise<MemoryFigure> {
  const chosen = selectEngineProcesses(await listProcesses(), spec);
  const fig: MemoryFigure = { rss: 0, pss: 0, processes: 0, monitors: 0, byComm: {} };
  for (const p of chosen) {
    const mem = await readMemory(p.pid);
    if (!mem) continue;
    fig.rss += mem.rss;
    fig.pss += mem.pss;
    fig.processes++;
    if (isMonitor(p, spec)) fig.monitors++;
    const c = (fig.byComm[p.comm] ??= { count: 0, rss: 0, pss: 0 });
    c.count++;
    c.rss += mem.rss;
    c.pss += mem.pss;
  }
  return fig;
}

const USER_HZ = 100;

/**
 * CPU seconds (user + system) the engine's processes have used so far: sample before and
 * after some work for what it cost the engine. A process that exits between two samples
 * takes its time with it, so this is for work done by long-lived processes (daemons, proxies).
 */
export async function engineCpuSeconds(spec: ProcessSetSpec): Promise<number> {
  let ticks = 0;
  for (const p of selectEngineProcesses(await listProcesses(), spec)) {
    try {
      ticks += parseCpuTicks(await readFile(`/proc/${p.pid}/stat`, 'utf8'));
    } catch {
      // exited while we looked
    }
  }
  return ticks / USER_HZ;
}
