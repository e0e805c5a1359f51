import { access, mkdir, rm, rmdir, writeFile, readFile } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { basename, join } from 'node:path';
import { posixSpawn, readAll } from './posix-spawn.js';
import { runtimeErrorMessage, type RuntimeKind } from './runtime-errors.js';
import { prepareHybridCgroups, type HybridPrepResult } from './cgroup-hierarchies.js';
import { cgroupMountPoints } from './crun-shortcuts.js';
import { invalid } from '../util/errors.js';

// The OCI runtimes berthd can run containers with (Docker's `runtimes` and `default-runtime`),
// and which one a container gets when it names none. runc is Docker's and always there; crun
// (Debian's `crun`) does the same work in about half the time (docs/performance.md) and is
// the default wherever it works on the host.

export interface OciRuntime {
  name: string; // as containers name it: HostConfig.Runtime
  path: string;
  args: string[]; // daemon.json runtimeArgs, put before the command
  kind: RuntimeKind; // whose command line, state files and messages it has
  root: string; // its state root (--root)
}

// daemon.json's "runtimes" entries, and --add-runtime name=path.
export interface RuntimeSpec {
  path: string;
  runtimeArgs?: string[];
}

export const RUNC_PATH = '/usr/sbin/runc';
export const CRUN_PATH = '/usr/bin/crun';

// runc keeps <execRoot>/runc, where containers started before runtimes were selectable live.
export function runtimeRoot(execRoot: string, name: string): string {
  return name === 'runc' ? join(execRoot, 'runc') : join(execRoot, `runtime-${name}`);
}

// A runtime's command line, state files and messages: crun's when its binary is crun, runc's
// otherwise (Docker's runtimes all speak runc's command line).
export function runtimeKind(path: string): RuntimeKind {
  return /^crun([-.].*)?$/.test(basename(path)) ? 'crun' : 'runc';
}

export class RuntimeTable {
  private readonly byName = new Map<string, OciRuntime>();

  constructor(runtimes: OciRuntime[], private defaultName: string) {
    for (const r of runtimes) this.byName.set(r.name, r);
    if (!this.byName.has(defaultName)) throw invalid(`specified default runtime '${defaultName}' does not exist`);
  }

  // runc only: what a ConmonRuntime built without a table runs.
  static runcOnly(execRoot: string, path = RUNC_PATH): RuntimeTable {
    return new RuntimeTable([{ name: 'runc', path, args: [], kind: 'runc', root: runtimeRoot(execRoot, 'runc') }], 'runc');
  }

  get default(): OciRuntime {
    return this.byName.get(this.defaultName) as OciRuntime;
  }

  get(name: string): OciRuntime | undefined {
    return this.byName.get(name);
  }

  list(): OciRuntime[] {
    return [...this.byName.values()];
  }

  // HostConfig.Runtime at create: empty means the default, as dockerd records it.
  resolve(requested: string | undefined | null): string {
    if (!requested) return this.defaultName;
    if (!this.byName.has(requested)) throw invalid(`unknown or invalid runtime name: ${requested}`);
    return requested;
  }

  // info's Runtimes: {"runc": {"path": "runc"}, "crun": {"path": "/usr/bin/crun"}}.
  info(): Record<string, { path: string; runtimeArgs?: string[] }> {
    const out: Record<string, { path: string; runtimeArgs?: string[] }> = {};
    for (const r of this.byName.values()) out[r.name] = r.args.length ? { path: r.path, runtimeArgs: r.args } : { path: r.path };
    return out;
  }
}

export interface RuntimeSetupOptions {
  execRoot: string;
  cgroupParent: string;
  runtimes: Record<string, RuntimeSpec>; // configured ones (daemon.json, --add-runtime)
  defaultRuntime?: string; // configured; otherwise crun when it works here, else runc
  log: (line: string) => void;
  runcPath?: string;
  crunPath?: string;
}

// Builds the table at daemon start: the configured runtimes, runc, and crun if installed;
// the host's cgroups prepared for crun and crun tried once before it becomes the default.
export async function setUpRuntimes(o: RuntimeSetupOptions): Promise<RuntimeTable> {
  const defs = new Map<string, OciRuntime>();
  const add = (name: string, path: string, args: string[] = []): void => {
    defs.set(name, { name, path, args, kind: runtimeKind(path), root: runtimeRoot(o.execRoot, name) });
  };
  add('runc', o.runcPath ?? RUNC_PATH);
  const crunPath = o.crunPath ?? CRUN_PATH;
  if (await access(crunPath, fsc.X_OK).then(() => true, () => false)) add('crun', crunPath);
  for (const [name, spec] of Object.entries(o.runtimes)) {
    if (name === 'runc') throw invalid(`runtime name 'runc' is reserved`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw invalid(`invalid runtime name: ${name}`);
    if (!spec || typeof spec.path !== 'string' || !spec.path) throw invalid(`runtime ${name}: path is required`);
    add(name, spec.path, Array.isArray(spec.runtimeArgs) ? spec.runtimeArgs.map(String) : []);
  }
  if (o.defaultRuntime !== undefined && !defs.has(o.defaultRuntime)) {
    throw invalid(`specified default runtime '${o.defaultRuntime}' does not exist`);
  }

  const crunLike = [...defs.values()].filter((r) => r.kind === 'crun');
  let crunWorks = false;
  if (crunLike.length > 0) {
    const prep = await prepareHybridCgroups().catch((err: unknown): HybridPrepResult => ({ hybrid: true, mounted: [], failed: [{ controller: '?', error: (err as Error).message }], remaining: ['?'] }));
    if (prep.mounted.length) o.log(`mounted cgroup v1 hierarchies for ${prep.mounted.join(', ')} (cgroup2 offered them, which keeps crun from running on a hybrid host)`);
    for (const f of prep.failed) o.log(`cannot mount a cgroup v1 hierarchy for ${f.controller}: ${f.error}`);
    if (prep.remaining.length) {
      o.log(`crun cannot run here: cgroup2 still offers ${prep.remaining.join(', ')} on this hybrid host`);
    } else if (o.defaultRuntime === undefined || defs.get(o.defaultRuntime)?.kind === 'crun') {
      // The probe (one crun create, 0.1-0.2 s of every start-up) only decides the default.
      const probe = await probeCrun(crunLike[0] as OciRuntime, o.execRoot, o.cgroupParent);
      crunWorks = probe === null;
      if (probe !== null) o.log(`crun cannot run here: ${probe}`);
    }
  }
  let chosen = o.defaultRuntime;
  if (chosen === undefined) {
    chosen = crunWorks && defs.has('crun') ? 'crun' : 'runc';
    if (defs.has('crun') && !crunWorks) o.log('using runc as the default runtime');
  } else if (defs.get(chosen)?.kind === 'crun' && !crunWorks) {
    o.log(`warning: default runtime ${chosen} failed its check on this host; containers may fail to start`);
  }
  return new RuntimeTable([...defs.values()], chosen);
}

// One real `crun create` of a container whose command does not exist, in an empty rootfs:
// crun gets through the cgroups, namespaces and mounts and fails only at the exec lookup,
// so that failure means crun works. null when it does, else what went wrong.
export async function probeCrun(rt: OciRuntime, execRoot: string, cgroupParent: string): Promise<string | null> {
  const dir = join(execRoot, 'crun-probe');
  const id = `berth-crun-probe-${process.pid}`;
  const cgroupsPath = `${cgroupParent.replace(/\/+$/, '')}/${id}`;
  const spec = {
    ociVersion: '1.0.2-dev',
    process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['berth-crun-probe'], env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs', readonly: true },
    mounts: [],
    linux: { namespaces: ['mount', 'pid', 'ipc', 'uts', 'network'].map((type) => ({ type })), cgroupsPath },
  };
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(join(dir, 'rootfs', 'dev'), { recursive: true, mode: 0o700 });
    await writeFile(join(dir, 'config.json'), JSON.stringify(spec));
    const child = posixSpawn(rt.path, [...rt.args, '--root', join(dir, 'state'), '--log-format=json', 'create', '--bundle', dir, id], {
      env: process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const [stderr, exit] = await Promise.all([readAll(child.pipes[2]), child.exited]);
    const message = runtimeErrorMessage(stderr);
    if (exit.code !== 0 && /executable file `berth-crun-probe` not found/.test(message)) return null;
    // A create that succeeded would be a crun that ignores a missing command: not one to trust.
    if (exit.code === 0) await runQuiet(rt.path, [...rt.args, '--root', join(dir, 'state'), 'delete', '--force', id]);
    return message || `${rt.path} create exited with ${exit.code ?? exit.signal}`;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    const mounts = cgroupMountPoints(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
    await Promise.all(mounts.map((m) => rmdir(join(m, cgroupsPath)).catch(() => {})));
  }
}

async function runQuiet(path: string, args: string[]): Promise<void> {
  const child = posixSpawn(path, args, { env: process.env, stdio: ['ignore', 'ignore', 'ignore'] });
  await child.exited;
}
