import type { EventBus } from '../daemon/events.js';
import type { AttachSession } from '../runtime/types.js';
import { ExecStartError, type ExecRuntime } from '../runtime/exec.js';
import { execStartExitCode, type ConsoleSize } from '../runtime/exec-process.js';
import { mergeEnv } from '../runtime/oci-spec.js';
import { BerthError, conflict, invalid, notFound } from '../util/errors.js';
import { newId } from '../util/ids.js';
import type { ContainerRecord } from './types.js';
import { containerEventAttrs } from './event-attrs.js';

// `docker exec` (moby's daemon/exec.go): exec instances live in memory, as in Docker;
// the processes themselves are conmon's (src/runtime/exec.ts).

// POST /containers/{id}/exec
export interface ExecCreateBody {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

// GET /exec/{id}/json
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user?: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}

export interface ContainerLookup {
  resolve(ref: string): ContainerRecord;
  get(id: string): ContainerRecord | undefined;
}

export interface ExecServiceDeps {
  containers: ContainerLookup;
  runtime: ExecRuntime;
  events: EventBus;
  // How long an exited exec stays inspectable (Docker's GC runs every 5 minutes).
  keepExitedMs?: number;
}

interface ExecInstance {
  id: string;
  containerId: string;
  entrypoint: string;
  args: string[];
  tty: boolean;
  privileged: boolean;
  user: string;
  workingDir: string;
  env: string[];
  openStdin: boolean;
  openStdout: boolean;
  openStderr: boolean;
  detachKeys: number[] | null; // null: the default ctrl-p,ctrl-q
  consoleSize: ConsoleSize | null;
  running: boolean;
  exitCode: number | null;
  pid: number;
  // Settles once the runtime answered start, either way: resize waits on it, as moby's
  // ec.Started, because the CLI resizes as soon as it has sent start.
  started: Promise<void> | null;
}

export interface StartedExec {
  tty: boolean;
  detachKeys: number[] | null;
  session: AttachSession | null;
  exitCode: Promise<number>; // set on the instance before this resolves
}

const KEEP_EXITED_MS = 5 * 60_000;
const RESIZE_WAIT_MS = 10_000;

export class ExecService {
  private readonly execs = new Map<string, ExecInstance>();
  private readonly keepExited: number;
  private readonly swept: Promise<void>;

  constructor(private readonly deps: ExecServiceDeps) {
    this.keepExited = deps.keepExitedMs ?? KEEP_EXITED_MS;
    // Finished before any exec starts, so it never takes a new session for an old one.
    this.swept = deps.runtime.sweep().catch(() => {});
    // A stopped container takes its never-started execs with it; a removed one all of them.
    deps.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      if (ev.Action === 'destroy') this.forgetContainer(ev.Actor.ID, () => true);
      else if (ev.Action === 'die') this.forgetContainer(ev.Actor.ID, (e) => e.started === null);
    });
  }

  // detachKeys: body.DetachKeys decoded by the API layer (null: the default ctrl-p,ctrl-q).
  async create(ref: string, body: ExecCreateBody, detachKeys: number[] | null = null): Promise<{ Id: string }> {
    const cmd = body.Cmd ?? [];
    if (cmd.length === 0) throw invalid('No exec command specified');
    const rec = this.deps.containers.resolve(ref);
    checkActive(rec, ref);
    if (body.User) {
      try {
        await this.deps.runtime.checkUser(rec.Id, body.User, rec.HostConfig.GroupAdd ?? []);
      } catch (err) {
        throw err instanceof BerthError ? err : invalid(err instanceof Error ? err.message : String(err));
      }
    }
    const size = body.ConsoleSize;
    const ex: ExecInstance = {
      id: newId(),
      containerId: rec.Id,
      entrypoint: cmd[0]!,
      args: cmd.slice(1),
      tty: !!body.Tty,
      privileged: !!body.Privileged,
      user: body.User || rec.Config.User || '',
      workingDir: body.WorkingDir || rec.Config.WorkingDir || '',
      env: mergeEnv(rec.Config.Env ?? [], body.Env ?? []),
      openStdin: !!body.AttachStdin,
      openStdout: !!body.AttachStdout,
      openStderr: !!body.AttachStderr,
      detachKeys,
      consoleSize: size && size.length === 2 ? { height: size[0], width: size[1] } : null,
      running: false,
      exitCode: null,
      pid: 0,
      started: null,
    };
    this.execs.set(ex.id, ex);
    this.emit(rec, `exec_create: ${commandLine(ex)}`, { execID: ex.id });
    return { Id: ex.id };
  }

  // moby's getExecConfig: the exec exists and its container can run it now.
  check(id: string): void {
    this.startable(id);
  }

  private startable(id: string): { ex: ExecInstance; rec: ContainerRecord } {
    const ex = this.execs.get(id);
    if (!ex) throw notFound(`No such exec instance: ${id}`);
    const rec = this.deps.containers.get(ex.containerId);
    if (!rec) throw notFound(`No such container: ${id}`);
    checkActive(rec, rec.Id);
    return { ex, rec };
  }

  // Starts the process; with attach, the session carries the streams the exec was created
  // with. A process that cannot run gets Docker's exit code (126/127) and the error.
  async start(id: string, opts: { attach: boolean; consoleSize?: [number, number] | null }): Promise<StartedExec> {
    const { ex, rec } = this.startable(id);
    if (ex.exitCode !== null) throw conflict(`exec command ${ex.id} has already run`);
    if (ex.running || ex.started) throw conflict(`exec command ${ex.id} is already running`);
    ex.running = true;
    this.emit(rec, `exec_start: ${commandLine(ex)}`, { execID: ex.id });
    const size = opts.consoleSize && opts.consoleSize.length === 2 ? { height: opts.consoleSize[0], width: opts.consoleSize[1] } : ex.consoleSize;
    const proc = this.swept.then(() => this.deps.runtime.start(
      {
        execId: ex.id,
        containerId: rec.Id,
        args: [ex.entrypoint, ...ex.args],
        env: ex.env,
        hostname: rec.Config.Hostname,
        cwd: ex.workingDir || '/',
        user: ex.user,
        groupAdd: rec.HostConfig.GroupAdd ?? [],
        privileged: ex.privileged,
        tty: ex.tty,
        consoleSize: ex.tty ? size : null,
        openStdin: opts.attach && ex.openStdin,
      },
      opts.attach ? { stdin: ex.openStdin, stdout: ex.openStdout, stderr: ex.openStderr } : null,
    ));
    ex.started = proc.then(() => undefined, () => undefined);
    let started;
    try {
      started = await proc;
    } catch (err) {
      ex.running = false;
      const message = err instanceof Error ? err.message : String(err);
      ex.exitCode = err instanceof ExecStartError ? execStartExitCode(err.runcMessage) : 126;
      this.forgetLater(ex);
      // Docker answers 400 for a command that cannot be run, 500 for anything else.
      if (err instanceof BerthError) throw err;
      throw new BerthError(ex.exitCode === 126 || ex.exitCode === 127 ? 'InvalidParameter' : 'System', message);
    }
    ex.pid = started.pid;
    const exitCode = started.exited.then((code) => {
      ex.running = false;
      ex.exitCode = code;
      this.forgetLater(ex);
      const now = this.deps.containers.get(ex.containerId);
      if (now) this.emit(now, 'exec_die', { execID: ex.id, exitCode: String(code) });
      return code;
    });
    return { tty: ex.tty, detachKeys: ex.detachKeys, session: started.session, exitCode };
  }

  // The client typed the detach keys: the exec keeps running without it.
  detached(id: string): void {
    const ex = this.execs.get(id);
    const rec = ex && this.deps.containers.get(ex.containerId);
    if (ex && rec) this.emit(rec, 'exec_detach', { execID: ex.id });
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const { ex } = this.startable(id);
    if (!ex.started) throw conflict(`exec ${ex.id} has not been started`);
    let timer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      ex.started.then(() => true),
      new Promise<false>((r) => { timer = setTimeout(() => r(false), RESIZE_WAIT_MS); }),
    ]).finally(() => clearTimeout(timer));
    if (!ready) throw new BerthError('System', 'timeout waiting for exec session ready');
    if (!ex.running) throw conflict(`exec ${ex.id} is not running`);
    await this.deps.runtime.resize(ex.id, height, width);
  }

  inspect(id: string): ExecInspect {
    const ex = this.execs.get(id);
    if (!ex || !this.deps.containers.get(ex.containerId)) throw notFound(`No such exec instance: ${id}`);
    const processConfig: ExecInspect['ProcessConfig'] = { tty: ex.tty, entrypoint: ex.entrypoint, arguments: [...ex.args], privileged: ex.privileged };
    if (ex.user) processConfig.user = ex.user;
    return {
      ID: ex.id,
      Running: ex.running,
      ExitCode: ex.exitCode,
      ProcessConfig: processConfig,
      OpenStdin: ex.openStdin,
      OpenStderr: ex.openStderr,
      OpenStdout: ex.openStdout,
      CanRemove: false,
      ContainerID: ex.containerId,
      // Go marshals moby's []byte as base64.
      DetachKeys: ex.detachKeys ? Buffer.from(ex.detachKeys).toString('base64') : '',
      Pid: ex.pid,
    };
  }

  // The container's ExecIDs in inspect: its execs that have not exited.
  execIds(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && e.exitCode === null).map((e) => e.id);
  }

  private forgetLater(ex: ExecInstance): void {
    setTimeout(() => {
      if (this.execs.get(ex.id) === ex) this.execs.delete(ex.id);
    }, this.keepExited).unref();
  }

  private forgetContainer(containerId: string, which: (e: ExecInstance) => boolean): void {
    for (const e of this.execs.values()) if (e.containerId === containerId && which(e)) this.execs.delete(e.id);
  }

  private emit(rec: ContainerRecord, action: string, attrs: Record<string, string>): void {
    this.deps.events.emit('container', action, rec.Id, containerEventAttrs(rec, attrs));
  }
}

// moby's getActiveContainer: note the paused message names the container as the caller did.
function checkActive(rec: ContainerRecord, ref: string): void {
  if (!rec.State.Running) throw conflict(`container ${rec.Id} is not running`);
  if (rec.State.Paused) throw conflict(`Container ${ref} is paused, unpause the container before exec`);
  if (rec.State.Restarting) throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
}

// The text moby puts in exec_create/exec_start events: the entrypoint, a space, the args.
function commandLine(ex: ExecInstance): string {
  return `${ex.entrypoint} ${ex.args.join(' ')}`;
}
