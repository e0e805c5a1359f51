import { readFile } from 'node:fs/promises';

// The host's side of the CPU percentage: docker stats divides the container's CPU time
// delta by this one and multiplies by online_cpus.

export interface HostCpu {
  systemUsage: number; // nanoseconds, as Docker's system_cpu_usage
  onlineCpus: number;
}

// Linux reports /proc/stat in USER_HZ, which is 100 on every architecture Docker supports
// (it hard-codes the same value instead of calling sysconf).
const CLOCK_TICKS_PER_SECOND = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS_PER_SECOND;

// Like moby's collector: the first seven fields of the "cpu" line (user nice system idle
// iowait irq softirq; not steal or guest), and the number of "cpuN" lines.
export function parseProcStat(text: string): HostCpu | null {
  let systemUsage: number | null = null;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'cpu') {
      if (parts.length < 8) return null;
      let ticks = 0;
      for (const f of parts.slice(1, 8)) {
        const v = Number(f);
        if (!Number.isInteger(v) || v < 0) return null;
        ticks += v;
      }
      systemUsage = ticks * NS_PER_TICK;
    } else if (/^cpu\d+$/.test(parts[0]!)) {
      onlineCpus++;
    }
  }
  return systemUsage === null ? null : { systemUsage, onlineCpus };
}

export async function readHostCpu(procRoot = '/proc'): Promise<HostCpu> {
  const parsed = parseProcStat(await readFile(`${procRoot}/stat`, 'utf8'));
  if (!parsed) throw new Error(`invalid ${procRoot}/stat: no cpu line`);
  return parsed;
}
