import { mkdir, readFile, rm, stat, readdir, writeFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { join, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { AttachSession, ContainerRuntime, CreateOptions, ExitInfo, RuncState, SpecInput } from './types.js';
import { buildSpec, ociJson, readHostInfo, type HostInfo } from './oci-spec.js';
import type { OciLinuxResources } from './resources.js';
import { resolveUser } from './user.js';
import { execTarget } from './exec-target.js';
import { RuntimeTable, type OciRuntime } from './oci-runtimes.js';
import { createFailure, isNoSuchContainer, runtimeErrorMessage, type RuntimeKind } from './runtime-errors.js';
import { shortcutsFor } from './runtime-shortcuts.js';
import { isEmptyUpdate, liftedPidsLimit, writePidsMax } from './crun-quirks.js';
import { openAttachSession } from './attach.js';
import { CtlFifo } from './ctl-fifo.js';
import { posixSpawn, readAll, type SpawnedProcess } from './posix-spawn.js';
import { BerthError, invalid, notFound } from '../util/errors.js';

export interface ConmonRuntimeOptions {
  execRoot: string; // tmpfs-like: state that must not outlive a reboot
  // The OCI runtimes containers may name (src/runtime/oci-runtimes.ts); runc alone without it.
  runtimes?: RuntimeTable;
  runcPath?: string;
  conmonPath?: string;
  createTimeoutMs?: number;
}

export interface ConmonCreateOptions extends CreateOptions {
  // Docker's StdinOnce (`run -i` attached): the first attach client that ends its input
  // closes the container's stdin. Without it stdin stays open across attaches (`run -di`),
  // which conmon calls --leave-stdin-open.
  stdinOnce?: boolean;
}

export interface ConmonExitInfo extends ExitInfo {
  oomKilled: boolean;
}

// A failed `runc create`, with the exit code Docker records for it (moby's
// translateContainerdStartErr: 127 command not found, 126 not executable).
export class OciRuntimeError extends Error {
  constructor(readonly runcMessage: string, readonly exitCode: number) {
    super(`failed to create shim task: OCI runtime create failed: ${runcMessage}: unknown`);
    this.name = 'OciRuntimeError';
  }
}

export function exitCodeForRuncError(message: string, command = ''): number {
  const m = message.toLowerCase();
  if (m.includes(command.toLowerCase()) && (m.includes('executable file not found') || m.includes('no such file or directory'))) return 127;
  if (m.includes('permission denied')) return 126;
  return 128;
}

// A failed runtime command other than create; the message is the runtime's own.
export class RuncError extends Error {
  constructor(readonly command: string, readonly runcMessage: string, readonly kind: RuntimeKind = 'runc') {
    super(runcMessage);
    this.name = 'RuncError';
  }

  get noSuchContainer(): boolean {
    return isNoSuchContainer(this.kind, this.runcMessage);
  }
}

const DEFAULT_CREATE_TIMEOUT = 120_000;

export class ConmonRuntime implements ContainerRuntime {
  readonly runtimes: RuntimeTable;
  readonly conmon: string;
  private readonly execRoot: string;
  private readonly exitDir: string;
  private readonly bundles: string;
  private readonly createTimeout: number;
  private host: Promise<HostInfo> | null = null;
  private ready: Promise<void> | null = null;
  private readonly exitListeners = new Set<(info: ExitInfo) => void>();
  private exitWatcher: FSWatcher | null = null;
  // Exit files already reported, by id and mtime: inotify may say "rename" more than once.
  private readonly reported = new Map<string, number>();
  // Resizes go through conmon's ctl fifo one message at a time (see ctl-fifo.ts).
  private readonly ctl = new CtlFifo();
  // Which runtime runs each container: written in its bundle (runtime.json) at create, so a
  // restarted berthd, whatever its default now, drives every container with its own.
  private readonly runtimeById = new Map<string, OciRuntime>();

  constructor(opts: ConmonRuntimeOptions) {
    this.execRoot = opts.execRoot;
    this.runtimes = opts.runtimes ?? RuntimeTable.runcOnly(opts.execRoot, opts.runcPath);
    this.conmon = opts.conmonPath ?? '/usr/bin/conmon';
    this.exitDir = join(opts.execRoot, 'exits');
    this.bundles = join(opts.execRoot, 'containers');
    this.createTimeout = opts.createTimeoutMs ?? DEFAULT_CREATE_TIMEOUT;
  }

  bundleDir(id: string): string {
    return join(this.bundles, id);
  }

  private init(): Promise<void> {
    const dirs = [...this.runtimes.list().map((r) => r.root), this.exitDir, this.bundles];
    this.ready ??= Promise.all(dirs.map((d) => mkdir(d, { recursive: true, mode: 0o711 })))
      .then(() => undefined, (err: unknown) => {
        this.ready = null;
        throw err;
      });
    return this.ready;
  }

  private hostInfo(): Promise<HostInfo> {
    this.host ??= readHostInfo(false).catch((err: unknown) => {
      this.host = null;
      throw err;
    });
    return this.host;
  }

  // ---- create --------------------------------------------------------------------------

  async create(spec: SpecInput, opts: ConmonCreateOptions): Promise<{ pid: number; conmonPid: number }> {
    const rt = this.runtimes.get(spec.runtime || this.runtimes.default.name);
    if (!rt) throw invalid(`unknown or invalid runtime name: ${spec.runtime}`);
    await this.init();
    const bundle = this.bundleDir(spec.id);
    this.reported.delete(spec.id);
    const [host, user] = await Promise.all([
      spec.privileged ? readHostInfo(true) : this.hostInfo(),
      resolveUser(spec.rootfs, spec.user, spec.groupAdd),
      // A bundle left by a crash would make conmon find stale pidfiles and sockets.
      rm(bundle, { recursive: true, force: true }).then(() => mkdir(bundle, { recursive: true, mode: 0o700 })),
      rm(join(this.exitDir, spec.id), { force: true }),
      mkdir(dirname(opts.logPath), { recursive: true }),
    ]);
    // No fsync: the bundle lives in the exec root, means nothing after a reboot, and runc
    // reads it at once from the page cache.
    await Promise.all([
      writeFile(join(bundle, 'config.json'), ociJson(buildSpec({ ...spec, tty: opts.tty, resources: specResources(rt, spec.resources) }, host, user))),
      writeFile(join(bundle, 'runtime.json'), JSON.stringify(rt)),
    ]);
    this.runtimeById.set(spec.id, rt);

    try {
      const pid = await this.runConmon(rt, spec.id, bundle, opts);
      const conmonPid = Number((await readFile(join(bundle, 'conmon.pid'), 'utf8')).trim());
      return { pid, conmonPid };
    } catch (err) {
      await this.runtimeCmd(rt, ['delete', '--force', spec.id]).catch(() => {});
      await rm(bundle, { recursive: true, force: true }).catch(() => {});
      this.runtimeById.delete(spec.id);
      if (err instanceof OciRuntimeError) {
        const target = await execTarget(rt.kind, err.runcMessage, spec.rootfs, spec.cwd, spec.args[0] ?? '');
        const message = createFailure(rt.kind, err.runcMessage, target);
        throw new OciRuntimeError(message, exitCodeForRuncError(message, spec.args[0] ?? ''));
      }
      throw err;
    }
  }

  private conmonArgs(rt: OciRuntime, id: string, bundle: string, opts: ConmonCreateOptions): string[] {
    const args = [
      '--api-version', '1',
      '--cid', id,
      '--cuuid', id,
      '--name', id,
      '--runtime', rt.path,
      '--bundle', bundle,
      '--persist-dir', bundle, // conmon writes "oom" here when the kernel OOM-kills the container
      '--container-pidfile', join(bundle, 'pidfile'),
      '--conmon-pidfile', join(bundle, 'conmon.pid'),
      '--log-path', `k8s-file:${opts.logPath}`,
      '--exit-dir', this.exitDir,
      // The attach socket lives in the bundle itself; clients reach it through
      // /proc/self/fd/<dirfd>/attach, so sun_path's 108 bytes never matter.
      '--full-attach',
      '--log-level', 'error',
      // No fsync of the log before the exit file is written: it delayed every exit, and
      // Docker's json-file logs are not synced either (only a power loss tells them apart).
      '--no-sync-log',
      ...runtimeArgs(rt),
      // With --log, the runtime's stderr carries only the bare error message, which conmon
      // forwards on the sync pipe.
      '--runtime-arg', '--log', '--runtime-arg', join(bundle, 'runtime.log'),
    ];
    // --log-opt max-size: conmon truncates the log once it would grow past it, which is
    // json-file's behaviour with its default max-file=1.
    if (opts.logSizeMax) args.push('--log-size-max', String(opts.logSizeMax));
    if (opts.tty) args.push('--terminal');
    if (opts.openStdin) {
      args.push('--stdin');
      // conmon closes the container's stdin whenever any attach client hangs up. Docker
      // closes it only at the end of a StdinOnce client's input, and never for a TTY
      // (moby's CopyStreams): a detach (ctrl-p ctrl-q) must leave the shell its input.
      if (!opts.stdinOnce || opts.tty) args.push('--leave-stdin-open');
    }
    return args;
  }

  // conmon forks twice: the process we spawn exits at once, leaving a daemon that is no child
  // of berthd and shares no pipe that it needs with it, so the container outlives berthd.
  // The daemon reports on _OCI_SYNCPIPE (fd 3): {"data": pid} once `runc create` is done,
  // or {"data": -1, "message": runc's stderr} when it failed.
  private runConmon(rt: OciRuntime, id: string, bundle: string, opts: ConmonCreateOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      let child: SpawnedProcess;
      try {
        child = posixSpawn(this.conmon, this.conmonArgs(rt, id, bundle, opts), {
          cwd: bundle,
          stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
          env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', _OCI_SYNCPIPE: '3' },
          detached: true,
        });
      } catch (err) {
        reject(new Error(`cannot run ${this.conmon}: ${(err as Error).message}`));
        return;
      }
      const childStderr = child.pipes[2] as Readable;
      const sync = child.pipes[3] as Readable;
      let syncText = '';
      let stderr = '';
      let exited: number | null = null;
      let result: { data: number; message?: string } | null = null;
      let settled = false;

      const settle = (err: Error | null, pid?: number): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sync.destroy();
        childStderr.destroy();
        if (err) reject(err);
        else resolve(pid as number);
      };
      const check = (): void => {
        if (result === null) return;
        if (result.data > 0) {
          // The pidfile is written by conmon's first process before it exits.
          if (exited !== null) settle(null, result.data);
          return;
        }
        settle(new OciRuntimeError((result.message ?? `${rt.name} create failed`).trim(), 128));
      };
      const timer = setTimeout(() => {
        settle(new Error(`conmon for ${id}: no answer from ${rt.name} create after ${this.createTimeout} ms`));
        void this.killMonitor(id);
      }, this.createTimeout);

      childStderr.setEncoding('utf8');
      childStderr.on('data', (s: string) => { stderr += s; });
      childStderr.on('error', () => {});
      sync.setEncoding('utf8');
      sync.on('data', (s: string) => {
        syncText += s;
        const nl = syncText.indexOf('\n');
        if (nl < 0 || result) return;
        try {
          result = JSON.parse(syncText.slice(0, nl)) as { data: number; message?: string };
        } catch {
          settle(new Error(`conmon for ${id}: bad sync message ${JSON.stringify(syncText.slice(0, nl))}`));
          return;
        }
        check();
      });
      sync.on('error', () => {});
      // EOF without a message: conmon died before runc create finished.
      sync.on('end', () => {
        if (result) return;
        settle(new Error(`conmon for ${id} failed${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
      });
      void child.exited.then(({ code, signal }) => {
        exited = code ?? -1;
        if (code !== 0) {
          const how = signal !== null ? `signal ${signal}` : String(code);
          settle(new Error(`conmon for ${id} exited with ${how}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
          return;
        }
        check();
      });
    });
  }

  // ---- runtime commands ----------------------------------------------------------------

  // The runtime a container was created with; bundles older than runtime.json are runc's.
  async runtimeOf(id: string): Promise<OciRuntime> {
    const known = this.runtimeById.get(id);
    if (known) return known;
    let rt: OciRuntime | undefined;
    try {
      const saved = JSON.parse(await readFile(join(this.bundleDir(id), 'runtime.json'), 'utf8')) as OciRuntime;
      if (typeof saved.path === 'string' && typeof saved.root === 'string' && (saved.kind === 'runc' || saved.kind === 'crun')) rt = { ...saved, args: saved.args ?? [] };
    } catch {
      /* no bundle, or one from before runtimes were selectable */
    }
    rt ??= this.runtimes.get('runc') ?? RuntimeTable.runcOnly(this.execRoot).default;
    if (await stat(this.bundleDir(id)).then(() => true, () => false)) this.runtimeById.set(id, rt);
    return rt;
  }

  private async runtimeCmd(rt: OciRuntime, args: string[]): Promise<string> {
    const argv = [...rt.args, '--root', rt.root, '--log-format', 'json', ...args];
    let child: SpawnedProcess;
    try {
      child = posixSpawn(rt.path, argv, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      throw new RuncError(args[0] ?? '', `cannot run ${rt.path}: ${(err as Error).message}`, rt.kind);
    }
    const [stdout, stderr, exit] = await Promise.all([readAll(child.pipes[1]), readAll(child.pipes[2]), child.exited]);
    if (exit.code === 0) return stdout;
    const how = exit.signal !== null ? `signal ${exit.signal}` : `exit status ${exit.code}`;
    throw new RuncError(args[0] ?? '', runtimeErrorMessage(stderr) || `${rt.path} ${argv.join(' ')}: ${how}`, rt.kind);
  }

  private async cmd(id: string, args: string[]): Promise<string> {
    return this.runtimeCmd(await this.runtimeOf(id), args);
  }

  // Started without spawning the runtime when its state allows (runtime-shortcuts.ts): a
  // third of a start on this host; anything unusual and the runtime gives its own answer.
  async start(id: string): Promise<void> {
    const rt = await this.runtimeOf(id);
    if (await shortcutsFor(rt.kind).start(join(rt.root, id))) return;
    await this.runtimeCmd(rt, ['start', id]);
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.cmd(id, all ? ['kill', '--all', id, String(signal)] : ['kill', id, String(signal)]);
  }

  async pause(id: string): Promise<void> {
    await this.cmd(id, ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.cmd(id, ['resume', id]);
  }

  // New cgroup limits for a live container; the runtime writes them in an order the kernel
  // accepts (memory before or after memory+swap, as the new values need).
  async update(id: string, resources: OciLinuxResources): Promise<void> {
    const rt = await this.runtimeOf(id);
    let lift = false;
    if (rt.kind === 'crun') {
      const split = liftedPidsLimit(resources);
      if (split.lift && (await writePidsMax(this.bundleDir(id)))) ({ rest: resources, lift } = split);
    }
    if (lift && isEmptyUpdate(resources)) return;
    const file = join(this.bundleDir(id), 'update.json');
    await writeFile(file, JSON.stringify(resources));
    try {
      await this.runtimeCmd(rt, ['update', '--resources', file, id]);
    } finally {
      await rm(file, { force: true });
    }
  }

  async state(id: string): Promise<RuncState | null> {
    try {
      const out = JSON.parse(await this.cmd(id, ['state', id])) as RuncState;
      return { id: out.id, pid: out.pid, status: out.status, bundle: out.bundle };
    } catch (err) {
      if (err instanceof RuncError && err.noSuchContainer) return null;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    await this.init();
    const rt = await this.runtimeOf(id);
    const exitFile = join(this.exitDir, id);
    // A stopped container's cgroups and state go without a runtime process when its state allows.
    const [cleaned, exited] = await Promise.all([
      shortcutsFor(rt.kind).deleteStopped(join(rt.root, id)),
      stat(exitFile).then(() => true, () => false),
    ]);
    if (!cleaned) {
      try {
        await this.runtimeCmd(rt, ['delete', '--force', id]);
      } catch (err) {
        if (!(err instanceof RuncError && err.noSuchContainer)) throw err;
      }
    }
    // conmon writes the exit file after the container is gone: let it finish so no exit
    // file (and no onExit call) appears after the container was removed. With the exit
    // file there, conmon has nothing left to write.
    if (!exited) await this.waitMonitorGone(id, 10_000);
    await Promise.all([rm(this.bundleDir(id), { recursive: true, force: true }), rm(exitFile, { force: true })]);
    this.reported.delete(id);
    this.runtimeById.delete(id);
  }

  // ---- conmon's files ------------------------------------------------------------------

  async exitInfo(id: string): Promise<ConmonExitInfo | null> {
    const path = join(this.exitDir, id);
    let text: string;
    let mtime: Date;
    try {
      [text, mtime] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtime)]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const code = Number.parseInt(text.trim(), 10);
    const oomKilled = await stat(join(this.bundleDir(id), 'oom')).then(() => true, () => false);
    return { id, exitCode: Number.isNaN(code) ? -1 : code, finishedAt: mtime, oomKilled };
  }

  private async monitorPid(id: string): Promise<number | null> {
    try {
      const pid = Number((await readFile(join(this.bundleDir(id), 'conmon.pid'), 'utf8')).trim());
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  async monitorAlive(id: string): Promise<boolean> {
    const pid = await this.monitorPid(id);
    return pid !== null && (await isLiveConmon(pid));
  }

  private async waitMonitorGone(id: string, timeoutMs: number): Promise<void> {
    const pid = await this.monitorPid(id);
    if (pid === null) return;
    const deadline = Date.now() + timeoutMs;
    let delay = 5;
    while (await isLiveConmon(pid)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 100);
    }
  }

  private async killMonitor(id: string): Promise<void> {
    const pid = await this.monitorPid(id);
    if (pid !== null && (await isLiveConmon(pid))) process.kill(pid, 'SIGKILL');
  }

  onExit(fn: (info: ExitInfo) => void): () => void {
    this.exitListeners.add(fn);
    if (!this.exitWatcher) void this.startExitWatcher();
    return () => {
      this.exitListeners.delete(fn);
      if (this.exitListeners.size === 0) {
        this.exitWatcher?.close();
        this.exitWatcher = null;
      }
    };
  }

  private async startExitWatcher(): Promise<void> {
    await this.init();
    if (this.exitWatcher || this.exitListeners.size === 0) return;
    // conmon writes <exit-dir>/<id> with g_file_set_contents: a temp file renamed into place,
    // so each exit shows up as one "rename" of a file named after the container.
    this.exitWatcher = watch(this.exitDir, (_event, name) => {
      if (name && !name.includes('.')) void this.reportExit(name.toString());
    });
    this.exitWatcher.on('error', () => {});
    // Exits that landed between init and the watch starting.
    for (const name of await readdir(this.exitDir)) if (!name.includes('.')) void this.reportExit(name);
  }

  private async reportExit(id: string): Promise<void> {
    const info = await this.exitInfo(id).catch(() => null);
    if (!info) return;
    const key = info.finishedAt.getTime();
    if (this.reported.get(id) === key) return;
    this.reported.set(id, key);
    for (const fn of this.exitListeners) fn(info);
  }

  // ---- stdio ---------------------------------------------------------------------------

  async attach(id: string, streams: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<AttachSession> {
    const path = join(this.bundleDir(id), 'attach');
    try {
      return await openAttachSession(path, streams);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const errno = (err as NodeJS.ErrnoException).errno;
      // ENOENT: no bundle; ECONNREFUSED (111): conmon is gone.
      if (code === 'ENOENT' || errno === 2 || errno === 111) throw notFound(`container ${id} has no running monitor to attach to`);
      throw err;
    }
  }

  // conmon's ctl fifo: "<type> <height> <width>\n", type 1 = resize the tty.
  async resize(id: string, height: number, width: number): Promise<void> {
    if (!Number.isInteger(height) || !Number.isInteger(width) || height < 0 || width < 0) {
      throw new BerthError('InvalidParameter', `invalid terminal size ${height}x${width}`);
    }
    try {
      await this.ctl.send(join(this.bundleDir(id), 'ctl'), `1 ${height} ${width}\n`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENXIO') throw notFound(`container ${id} has no running monitor`);
      throw err;
    }
  }
}


// No pids limit at all is what a new cgroup has: crun is not given a negative one, which it
// would write as "-1" where cgroup v1 wants "max" (crun-quirks.ts).
function specResources(rt: OciRuntime, resources: OciLinuxResources | undefined): OciLinuxResources | undefined {
  return rt.kind === 'crun' && resources ? liftedPidsLimit(resources).rest : resources;
}

// The runtime's global options as conmon passes them on: its daemon.json runtimeArgs, its
// state root, and JSON errors in a log of their own (runtime-errors.ts reads them).
export function runtimeArgs(rt: OciRuntime): string[] {
  return [...rt.args, '--root', rt.root, '--log-format=json'].flatMap((a) => ['--runtime-arg', a]);
}

// A pid from a pidfile is only conmon's while /proc says so: pids get reused, and a zombie
// (state Z) waiting for its reaper is already dead.
async function isLiveConmon(pid: number): Promise<boolean> {
  try {
    const st = await readFile(`/proc/${pid}/stat`, 'utf8');
    const m = /^\d+ \((.*)\) (\S)/s.exec(st);
    return m !== null && m[1] === 'conmon' && m[2] !== 'Z';
  } catch {
    return false;
  }
}
