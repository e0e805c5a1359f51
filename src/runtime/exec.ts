import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { AttachSession } from './types.js';
import { ociJson, type OciSpec } from './oci-spec.js';
import { openAttachSession, type AttachStreams } from './attach.js';
import { readBoundingCaps } from './capabilities.js';
import { resolveUser } from './user.js';
import { buildExecProcess, ociExecErrorMessage, type ConsoleSize } from './exec-process.js';
import { BerthError, conflict, invalid } from '../util/errors.js';
import { runtimeArgs, type ConmonRuntime } from './conmon-runtime.js';
import type { OciRuntime } from './oci-runtimes.js';
import { execFailure } from './runtime-errors.js';
import { execTarget } from './exec-target.js';

// `docker exec` on the runtime side: a second conmon per exec, in its exec mode, which runs
// `runc exec --process <spec> --detach [--tty]` against the running container. runc joins
// every namespace and cgroup of the container; conmon gives the exec the same things it
// gives a container: the attach socket (SOCK_SEQPACKET, read through attach.ts), the pty
// (runc hands the pty master over a console socket with SCM_RIGHTS, which Node cannot
// receive: conmon does), the ctl fifo for resizes and the exit code.
// Plain `runc exec` would do for the non-TTY case only; one path for both is simpler.

export interface ExecStartInput {
  execId: string;
  containerId: string;
  args: string[];
  env: string[]; // the container's env with the exec's -e over it
  hostname: string;
  cwd: string;
  user: string; // Docker's -u syntax, resolved against the container's rootfs
  groupAdd: string[];
  privileged: boolean;
  tty: boolean;
  consoleSize: ConsoleSize | null;
  openStdin: boolean; // stdin is fed by the attached client (exec -i)
}

export interface ExecProcess {
  pid: number;
  // Present when attach streams were asked for; opened before the process starts, so no
  // output is lost.
  session: AttachSession | null;
  exited: Promise<number>; // the exit code (128+n for a signal), once the process is gone
}

// runc refused to start the process (no such command, bad cwd, ...); the message is runc's.
export class ExecStartError extends Error {
  constructor(readonly runcMessage: string) {
    super(ociExecErrorMessage(runcMessage));
    this.name = 'ExecStartError';
  }
}

// What the exec service needs of a runtime: fakes in tests implement just this.
export interface ExecRuntime {
  // Docker looks the user up when the exec is created, so a bad -u fails early.
  checkUser(containerId: string, user: string, groupAdd: string[]): Promise<void>;
  start(input: ExecStartInput, attach: AttachStreams | null): Promise<ExecProcess>;
  resize(execId: string, height: number, width: number): Promise<void>;
  // Drops what execs of an earlier daemon left behind once their monitors are gone.
  sweep(): Promise<void>;
}

export interface ConmonExecOptions {
  // The runtime (runc, crun) the container runs under, and so its execs.
  runtimeOf(containerId: string): Promise<OciRuntime>;
  conmonPath: string;
  sessionRoot: string; // one directory per exec: process.json, attach, ctl, pidfile, exit
  bundleDir(containerId: string): string; // the container's bundle (its config.json)
  startTimeoutMs?: number;
}

// Execs of the containers `rt` runs: same runtime, conmon and state root; sessions in
// <execRoot>/execs, which like the rest of the exec root means nothing after a reboot.
export function conmonExecRuntime(rt: ConmonRuntime, execRoot: string): ConmonExecRuntime {
  return new ConmonExecRuntime({
    runtimeOf: (id) => rt.runtimeOf(id),
    conmonPath: rt.conmon,
    sessionRoot: join(execRoot, 'execs'),
    bundleDir: (id) => rt.bundleDir(id),
  });
}

interface SyncMessage { data: number; message?: string }

const DEFAULT_START_TIMEOUT = 60_000;

export class ConmonExecRuntime implements ExecRuntime {
  private readonly startTimeout: number;

  constructor(private readonly o: ConmonExecOptions) {
    this.startTimeout = o.startTimeoutMs ?? DEFAULT_START_TIMEOUT;
  }

  sessionDir(execId: string): string {
    return join(this.o.sessionRoot, execId);
  }

  private async containerSpec(containerId: string): Promise<OciSpec> {
    try {
      return JSON.parse(await readFile(join(this.o.bundleDir(containerId), 'config.json'), 'utf8')) as OciSpec;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw conflict(`container ${containerId} is not running`);
      throw err;
    }
  }

  async checkUser(containerId: string, user: string, groupAdd: string[]): Promise<void> {
    const spec = await this.containerSpec(containerId);
    await resolveUser(spec.root.path, user, groupAdd);
  }

  async start(input: ExecStartInput, attach: AttachStreams | null): Promise<ExecProcess> {
    const spec = await this.containerSpec(input.containerId);
    const dir = this.sessionDir(input.execId);
    const [user, bounding, runtime] = await Promise.all([
      resolveUser(spec.root.path, input.user, input.groupAdd),
      input.privileged ? readBoundingCaps() : Promise.resolve([] as string[]),
      this.o.runtimeOf(input.containerId),
      rm(dir, { recursive: true, force: true }).then(() => mkdir(dir, { recursive: true, mode: 0o700 })),
    ]);
    const proc = buildExecProcess(spec.process, input, user, bounding);
    await writeFile(join(dir, 'process.json'), ociJson(proc));
    try {
      return await this.runConmon(runtime, input, dir, attach);
    } catch (err) {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
      if (err instanceof ExecStartError && runtime.kind !== 'runc') {
        const target = await execTarget(runtime.kind, err.runcMessage, spec.root.path, input.cwd, input.args[0] ?? '');
        throw new ExecStartError(execFailure(runtime.kind, err.runcMessage, target));
      }
      throw err;
    }
  }

  private conmonArgs(rt: OciRuntime, input: ExecStartInput, dir: string, attach: boolean): string[] {
    const args = [
      '--api-version', '1',
      '--cid', input.containerId,
      '--cuuid', input.execId,
      '--runtime', rt.path,
      '--exec',
      '--exec-process-spec', join(dir, 'process.json'),
      // The attach socket, ctl fifo and pidfile go in the session directory.
      '--bundle', dir,
      '--full-attach',
      '--persist-dir', dir, // conmon writes <dir>/exit
      '--container-pidfile', join(dir, 'pidfile'),
      '--conmon-pidfile', join(dir, 'conmon.pid'),
      // Docker keeps no log of an exec's output.
      '--log-path', 'none',
      '--log-level', 'error',
      '--no-sync-log',
      ...runtimeArgs(rt),
      // The runtime's stderr then carries only the bare error message, which conmon forwards.
      '--runtime-arg', '--log', '--runtime-arg', join(dir, 'runtime.log'),
    ];
    if (attach) args.push('--exec-attach');
    if (input.tty) args.push('--terminal');
    if (input.openStdin) args.push('--stdin');
    return args;
  }

  // conmon's pipes: _OCI_SYNCPIPE reports {"data": pid} once `runc exec` is done (or
  // {"data": <0, "message"} if it failed), then {"data": exit code}. With --exec-attach,
  // conmon first waits on _OCI_STARTPIPE (a byte from us), says {"data": 0} on
  // _OCI_ATTACHPIPE once its attach socket listens, and runs runc only after a second byte
  // on the start pipe: we connect in between, so the first output has a reader.
  private async runConmon(rt: OciRuntime, input: ExecStartInput, dir: string, attach: AttachStreams | null): Promise<ExecProcess> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' };
    if (attach) Object.assign(env, { _OCI_STARTPIPE: '4', _OCI_ATTACHPIPE: '5' });
    const child = spawn(this.o.conmonPath, this.conmonArgs(rt, input, dir, attach !== null), {
      cwd: dir,
      stdio: attach ? ['ignore', 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'ignore', 'pipe', 'pipe'],
      env,
      detached: true,
    });
    const failed = watchMonitor(child, this.o.conmonPath);
    // Extra stdio entries are unix sockets (node makes socketpairs for 'pipe').
    const pipes = child.stdio as unknown as Socket[];
    const sync = new MessageReader(pipes[3]!, failed);
    const attachPipe = attach ? new MessageReader(pipes[5]!, failed) : null;
    let session: AttachSession | null = null;
    const timer = setTimeout(() => {
      const err = new Error(`conmon for exec ${input.execId}: no answer from runc exec after ${this.startTimeout} ms`);
      sync.fail(err);
      attachPipe?.fail(err);
      void killPidfile(join(dir, 'conmon.pid'));
    }, this.startTimeout);
    try {
      if (attach && attachPipe) {
        const startPipe = pipes[4]!;
        startPipe.on('error', () => {});
        startPipe.write('0');
        const ready = await attachPipe.next();
        attachPipe.close();
        if (!ready || ready.data !== 0) throw await sync.failure(`conmon for exec ${input.execId} did not open its attach socket`);
        session = await openAttachSession(join(dir, 'attach'), attach);
        startPipe.end('1');
      }
      const started = await sync.next();
      if (!started) throw await sync.failure(`conmon for exec ${input.execId} failed`);
      if (started.data <= 0) throw new ExecStartError(started.message ?? `${rt.name} exec failed`);
      clearTimeout(timer);
      const exited = sync.next().then(
        async (m) => m?.data ?? (await readExitFile(join(dir, 'exit'))),
        async () => readExitFile(join(dir, 'exit')),
      ).finally(() => {
        sync.close();
        void rm(dir, { recursive: true, force: true }).catch(() => {});
      });
      return { pid: started.data, session, exited };
    } catch (err) {
      clearTimeout(timer);
      session?.close();
      sync.close();
      attachPipe?.close();
      throw err;
    }
  }

  async sweep(): Promise<void> {
    const names = await readdir(this.o.sessionRoot).catch(() => [] as string[]);
    await Promise.all(names.map(async (name) => {
      const dir = join(this.o.sessionRoot, name);
      if ((await liveConmon(join(dir, 'conmon.pid'))) === null) await rm(dir, { recursive: true, force: true }).catch(() => {});
    }));
  }

  // conmon's ctl fifo: "<type> <height> <width>\n", type 1 = resize the pty.
  async resize(execId: string, height: number, width: number): Promise<void> {
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
      throw invalid(`invalid terminal size ${height}x${width}`);
    }
    let fh;
    try {
      // Non-blocking: with conmon gone nobody reads the fifo and a blocking open would hang.
      fh = await open(join(this.sessionDir(execId), 'ctl'), fsc.O_WRONLY | fsc.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENXIO') throw conflict(`exec ${execId} is not running`);
      throw err;
    }
    try {
      await fh.write(`1 ${height} ${width}\n`);
    } finally {
      await fh.close();
    }
  }
}

// The conmon we spawn forks its monitor and exits 0 at once; a non-zero exit (bad
// arguments, no runtime) means nothing else will come on the pipes. Resolves with that
// failure, or null after a clean exit.
function watchMonitor(child: ChildProcess, path: string): Promise<Error | null> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => { stderr += s; });
  return new Promise((resolve) => {
    child.on('error', (err) => resolve(new Error(`cannot run ${path}: ${err.message}`)));
    child.on('exit', (code, signal) => {
      child.stderr?.destroy();
      resolve(code === 0 ? null : new BerthError('System', `conmon exited with ${signal ?? code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
  });
}

// Newline-delimited JSON messages from one of conmon's pipes; next() gives null at EOF.
class MessageReader {
  private buf = '';
  private readonly queue: SyncMessage[] = [];
  private waiting: { resolve: (m: SyncMessage | null) => void; reject: (e: Error) => void } | null = null;
  private ended = false;
  private error: Error | null = null;

  constructor(private readonly sock: Socket, private readonly monitorExit: Promise<Error | null>) {
    sock.setEncoding('utf8');
    sock.on('data', (s: string) => this.onData(s));
    sock.on('end', () => this.onEnd());
    sock.on('close', () => this.onEnd());
    sock.on('error', () => this.onEnd());
    void monitorExit.then((err) => err && this.fail(err));
  }

  private onData(s: string): void {
    this.buf += s;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      try {
        this.queue.push(JSON.parse(line) as SyncMessage);
      } catch {
        this.fail(new Error(`conmon: bad message ${JSON.stringify(line)}`));
        return;
      }
    }
    this.wake();
  }

  private onEnd(): void {
    this.ended = true;
    this.wake();
  }

  fail(err: Error): void {
    this.error ??= err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.queue.length > 0) {
      this.waiting = null;
      w.resolve(this.queue.shift()!);
    } else if (this.error) {
      this.waiting = null;
      w.reject(this.error);
    } else if (this.ended) {
      this.waiting = null;
      w.resolve(null);
    }
  }

  next(): Promise<SyncMessage | null> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.wake();
    });
  }

  // The error to report when the pipe ended early: the monitor's own, if it said one. A
  // pipe only ends once the first conmon process has exited too, so this never hangs.
  async failure(fallback: string): Promise<Error> {
    return this.error ?? (await this.monitorExit) ?? new Error(fallback);
  }

  close(): void {
    this.sock.destroy();
  }
}

async function readExitFile(path: string): Promise<number> {
  const code = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  return Number.isNaN(code) ? -1 : code;
}

// The pid in a conmon pidfile, while it still names a live conmon (pids get reused).
async function liveConmon(pidfile: string): Promise<number | null> {
  const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
  if (!(pid > 0)) return null;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const m = /^\d+ \((.*)\) (\S)/s.exec(stat);
  return m !== null && m[1] === 'conmon' && m[2] !== 'Z' ? pid : null;
}

async function killPidfile(path: string): Promise<void> {
  const pid = await liveConmon(path);
  if (pid !== null) process.kill(pid, 'SIGKILL');
}
