import { readFile } from 'node:fs/promises';

// Is a container's init still the process the runtime started? runc and crun both keep its
// pid and its start time (field 22 of /proc/<pid>/stat) and apply the same test: init is
// gone when the pid is free, a zombie, dead, or now names a process started at another time.
export async function initAlive(pid: number, startTime: number): Promise<boolean> {
  if (!(pid > 0)) return false;
  try {
    return procStatAlive(await readFile(`/proc/${pid}/stat`, 'utf8'), startTime);
  } catch {
    return false;
  }
}

export function procStatAlive(stat: string, startTime: number): boolean {
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = fields[0];
  return status !== 'Z' && status !== 'X' && status !== 'x' && Number(fields[19]) === startTime;
}
