import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventBus } from '../daemon/events.js';
import { conflict, invalid, systemError } from '../util/errors.js';
import type { ContainerRecord } from './types.js';
import { containerEventAttrs } from './event-attrs.js';
import { containerCgroupsPath } from '../runtime/cgroup-paths.js';

// `docker top` (moby's daemon/top_unix.go): the host's `ps` with the caller's arguments,
// keeping the rows whose PID is in the container's cgroup.

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

// ps_args may not redefine the PID column's header (moby's validatePSArgs): the filter
// finds the column by that header.
export function validatePsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw invalid(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

// Only ASCII whitespace separates fields: a command may hold other spaces.
function fields(line: string): string[] {
  return line.split(/[\t\n\f\r ]+/).filter((f) => f !== '');
}

export function parsePsOutput(output: string, pids: readonly number[]): TopResult {
  const lines = output.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw systemError("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  // The last column takes the rest of the line (a command with its arguments).
  const row = (f: string[]): string[] => [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
  // Thread lines (ps -m/-L) carry "-" as PID and belong to the process above them.
  let inContainer = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = fields(line);
    const pidField = f[pidIndex];
    if (pidField === undefined) continue;
    if (pidField === '-') {
      if (inContainer) processes.push(row(f));
      continue;
    }
    if (!/^[+-]?\d+$/.test(pidField)) throw systemError(`Unexpected pid '${pidField}': strconv.Atoi: parsing "${pidField}": invalid syntax`);
    inContainer = wanted.has(Number(pidField));
    if (inContainer) processes.push(row(f));
  }
  return { Titles: titles, Processes: processes };
}

// "-q1,2,3": ps then lists only those processes, which is cheaper than all of the host's.
export function psPidsArg(pids: readonly number[]): string {
  return `-q${pids.join(',')}`;
}

// The cgroup.procs file holding the container's processes: on cgroup v2 the unified tree;
// on v1 (and hybrid hosts) any controller runc put the container in; pids first.
export async function cgroupProcsFile(cgroupsPath: string, root = '/sys/fs/cgroup'): Promise<string | null> {
  const rel = cgroupsPath.replace(/^\/+/, '');
  const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
  if (await exists(join(root, 'cgroup.controllers'))) {
    const p = join(root, rel, 'cgroup.procs');
    return (await exists(p)) ? p : null;
  }
  for (const controller of ['pids', 'memory', 'cpu,cpuacct', 'cpu', 'freezer', 'devices', 'unified']) {
    const p = join(root, controller, rel, 'cgroup.procs');
    if (await exists(p)) return p;
  }
  return null;
}

export async function cgroupPids(cgroupsPath: string, root?: string): Promise<number[]> {
  const file = await cgroupProcsFile(cgroupsPath, root);
  if (!file) return [];
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
}

function runPs(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      // The first line of ps's complaint says why.
      const first = stderr.split('\n')[0]?.trim();
      reject(systemError(`ps: ${first || err.message}`));
    });
  });
}

export interface TopDeps {
  containers: { resolve(ref: string): ContainerRecord };
  cgroupParent: string; // containers sit in <cgroupParent>/<id>, as container-service.ts sets
  events: EventBus;
  cgroupRoot?: string;
}

export class ContainerTop {
  constructor(private readonly deps: TopDeps) {}

  async top(ref: string, psArgs: string): Promise<TopResult> {
    const args = psArgs || '-ef';
    validatePsArgs(args);
    const rec = this.deps.containers.resolve(ref);
    if (!rec.State.Running) throw conflict(`container ${rec.Id} is not running`);
    if (rec.State.Restarting) throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
    const pids = await cgroupPids(containerCgroupsPath(this.deps.cgroupParent, rec.Id, rec.HostConfig.CgroupParent), this.deps.cgroupRoot);
    // As moby: a literal split on single spaces; some options (f) refuse -q, so retry without.
    const argv = args.split(' ');
    const output = await runPs([...argv, psPidsArg(pids)]).catch(() => runPs(argv));
    const result = parsePsOutput(output, pids);
    this.deps.events.emit('container', 'top', rec.Id, containerEventAttrs(rec));
    return result;
  }
}
