import { readdir, readFile } from 'node:fs/promises';

// A process and everything it forked (through /proc/<pid>/task/<tid>/children), so a
// timed-out probe such as `sh -c 'curl …'` goes with its children instead of leaving them
// to the container's init.

async function childrenOf(pid: number): Promise<number[]> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  const lists = await Promise.all(tids.map((t) => readFile(`/proc/${pid}/task/${t}/children`, 'utf8').catch(() => '')));
  return lists.flatMap((l) => l.split(' ').filter(Boolean).map(Number));
}

const signal = (pid: number, sig: NodeJS.Signals): boolean => {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // gone already
  }
};

// Each process is stopped before its children are read, so none forks behind the walk;
// then all of them get SIGKILL.
export async function killProcessTree(pid: number): Promise<void> {
  const found: number[] = [];
  const seen = new Set<number>();
  let level = [pid];
  while (level.length) {
    const next: number[] = [];
    for (const p of level) {
      if (seen.has(p)) continue;
      seen.add(p);
      if (!signal(p, 'SIGSTOP')) continue;
      found.push(p);
      next.push(...(await childrenOf(p)));
    }
    level = next;
  }
  for (const p of found) signal(p, 'SIGKILL');
}
