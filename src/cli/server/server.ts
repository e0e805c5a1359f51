import { chmodSync, closeSync, ftruncateSync, openSync, readFileSync, readlinkSync, statSync, unlinkSync, writeSync } from 'node:fs';
import net from 'node:net';
import { decodeRequest, decodeU32, encodeAccepted, encodeBusy, FrameDecoder, MessageType, type CliRequest, type Frame } from './protocol.js';
import { restoreProcessState, replaceEnv, saveProcessState, ServedCall, type RunCli } from './request.js';
import { openStdio } from './stdio.js';
import { closeFds, peerCredentials, receive, tryLock, waitReadable } from './unix-socket.js';
import { prepareSocketDir } from './socket-path.js';

// The resident half of the warm CLI (docs/decisions.md, "A warm CLI"): one Node process per
// user that runs `berth` calls handed over by src/launcher/berth-launcher.c, so that a call
// does not pay for Node's start. Rules that keep it equivalent to a process per call:
// - one call at a time; a second caller is told "busy" and runs cold;
// - only callers of the same uid, gid, groups, namespaces and root; anything else, cold;
// - after a call, anything of it still alive (a socket, a timer, a pending fs request)
//   makes the server exit instead of serving again: an old call's stream must never
//   write into a new call's fds;
// - it exits after idleMs without calls, and on any uncaught error.

export interface CliServerOptions {
  socketPath: string;
  idleMs: number;
  runCli: RunCli;
  log?: (line: string) => void;
  // The server's own code: once it changed on disk (a rebuild, an upgrade), the server would
  // run the old CLI, so it sends the caller cold and exits.
  codeFiles?: readonly string[];
}

function fileIdentity(path: string): string {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return 'missing';
  }
}

// How long a connected launcher may take to send its request.
const REQUEST_TIMEOUT_MS = 5_000;
// Environment read when the bundle loads (flag defaults): a caller whose value differs
// would see the server's, so it runs cold.
const LOAD_TIME_ENV = ['DOCKER_DEFAULT_PLATFORM'];

type Resources = Map<string, number>;

function countResources(): Resources {
  const m: Resources = new Map();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

function nsLinks(pid: number | 'self'): string[] {
  return [...['mnt', 'net', 'user'].map((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`)), readlinkSync(`/proc/${pid}/root`)];
}

function groupsOf(pid: number | 'self'): string {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = /^Groups:[ \t]*(.*)$/m.exec(status)?.[1] ?? '';
  return line.trim().split(/\s+/).filter(Boolean).map(Number).sort((a, b) => a - b).join(' ');
}

export class CliServer {
  private server?: net.Server;
  private lockFd = -1;
  // serving: a command runs (a second caller is told busy); finishing: its status went out
  // and the server checks what the call left (a caller then waits the few loop turns).
  private state: 'idle' | 'serving' | 'finishing' = 'idle';
  private readonly waiting: net.Socket[] = [];
  private call?: ServedCall;
  private idleTimer?: NodeJS.Timeout;
  private baseline: Resources = new Map();
  // Our own connections that are not a call (busy answers), allowed in the resource check.
  private readonly ownConns = new Set<net.Socket>();
  private readonly startEnv = { ...process.env };
  private readonly ownNs = nsLinks('self');
  private readonly ownGroups = groupsOf('self');
  private socketIno = -1;
  private readonly codeIdentity: string;

  constructor(private readonly opts: CliServerOptions) {
    this.codeIdentity = this.currentCode();
  }

  private currentCode(): string {
    return (this.opts.codeFiles ?? []).map(fileIdentity).join(',');
  }

  // Resolves false when another server already holds this socket.
  async listen(): Promise<boolean> {
    const { socketPath } = this.opts;
    const uid = process.getuid?.() ?? 0;
    prepareSocketDir(socketPath, uid);
    this.lockFd = openSync(`${socketPath}.lock`, 'a', 0o600);
    if (!tryLock(this.lockFd)) {
      closeSync(this.lockFd);
      return false;
    }
    // Who serves this socket (for `kill`, tests and the bench's memory count).
    ftruncateSync(this.lockFd, 0);
    writeSync(this.lockFd, `${process.pid}\n`);
    try {
      unlinkSync(socketPath); // a crashed server's; we hold the lock
    } catch {
      // none
    }
    const server = net.createServer({ pauseOnConnect: true }, (conn) => this.onConnection(conn));
    this.server = server;
    const oldMask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socketPath, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(oldMask);
    }
    chmodSync(socketPath, 0o600);
    this.socketIno = statSync(socketPath).ino;
    server.on('error', (err) => this.fatal(err));
    process.on('uncaughtException', (err) => this.fatal(err));
    // Whatever the start-up (the warm-up) still closes settles first.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    // A call that came in meanwhile would put its own handles in the baseline; left empty,
    // the check after that call fails and the server exits (the safe side).
    if (this.state === 'idle') {
      this.baseline = countResources();
      this.armIdle();
    }
    return true;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.shutdown(0), this.opts.idleMs);
  }

  // Removes the socket (if it is still ours) and exits. Waiting callers see their connection
  // close before any answer, and run cold.
  shutdown(code: number): never {
    for (const c of this.waiting) c.destroy();
    try {
      if (statSync(this.opts.socketPath).ino === this.socketIno) unlinkSync(this.opts.socketPath);
    } catch {
      // gone already
    }
    process.exit(code);
  }

  private fatal(err: unknown): void {
    this.opts.log?.(`berth cli server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (this.call && !this.call.finished) {
      // The call's caller gets Node's report of an uncaught error; the status goes out
      // before the server exits (ServedCall.exits).
      this.call.fail(err);
      return;
    }
    this.shutdown(70);
  }

  private refuse(conn: net.Socket, reason: string): void {
    this.ownConns.add(conn);
    conn.on('error', () => undefined);
    conn.on('close', () => this.ownConns.delete(conn));
    // Closed, not only half-closed: a paused socket never reads the caller's EOF, and the
    // fds it sent stay in flight (holding the caller's pipes open) until the socket goes.
    conn.end(encodeBusy(reason), () => conn.destroy());
  }

  private onConnection(conn: net.Socket): void {
    if (this.state === 'serving') {
      this.refuse(conn, 'busy');
      return;
    }
    if (this.call && !this.call.finished) {
      // Never two calls at once, whatever the state says: they would share env, cwd and fds.
      this.opts.log?.(`berth cli server: a call was still running in state ${this.state}; told busy`);
      this.refuse(conn, 'busy');
      return;
    }
    if (this.state === 'finishing') {
      // The usual case in a script: the next call comes while the last one's cleanup ends.
      conn.on('error', () => undefined);
      this.waiting.push(conn);
      return;
    }
    this.begin(conn);
  }

  private begin(conn: net.Socket): void {
    this.state = 'serving';
    clearTimeout(this.idleTimer);
    this.serve(conn).then(
      (exits) => this.afterCall(exits),
      (err) => this.fatal(err),
    );
  }

  // Resolves whether the server must exit now.
  private async serve(conn: net.Socket): Promise<boolean> {
    conn.on('error', () => undefined);
    const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error('no fd for the accepted connection');
    const cred = peerCredentials(fd);
    if (cred.uid !== process.getuid?.() || cred.gid !== process.getgid?.()) {
      this.refuse(conn, 'another user');
      return false;
    }
    const first = await this.readRequest(fd);
    if (!first) {
      conn.destroy();
      return false;
    }
    const { request, fds, more } = first;
    if (this.currentCode() !== this.codeIdentity) {
      closeFds(fds);
      this.refuse(conn, 'the CLI was rebuilt');
      return true;
    }
    const reason = this.mismatch(cred.pid, request);
    if (reason) {
      closeFds(fds);
      this.refuse(conn, reason);
      return false;
    }
    const saved = saveProcessState();
    let stdio;
    try {
      replaceEnv(request.env);
      process.chdir(request.cwd);
      process.umask(request.umask);
      stdio = openStdio([fds[0]!, fds[1]!, fds[2]!]);
    } catch (err) {
      restoreProcessState(saved);
      closeFds(fds);
      this.refuse(conn, `cannot serve: ${(err as Error).message}`);
      return false;
    }
    const call = new ServedCall(request, stdio, conn);
    this.call = call;
    // The launcher died (SIGKILL, its terminal gone): so does the call, as its process would.
    conn.on('close', () => {
      if (!call.finished) this.shutdown(0);
    });
    conn.write(encodeAccepted());
    const onFrame = (f: Frame): void => {
      if (f.type === MessageType.signal) call.signal(decodeU32(f.payload));
    };
    const decoder = more.decoder;
    conn.on('data', (chunk: Buffer) => {
      try {
        for (const f of decoder.push(chunk)) onFrame(f);
      } catch (err) {
        call.fail(err);
      }
    });
    const done = call.run(this.opts.runCli);
    for (const f of more.frames) onFrame(f);
    conn.resume();
    await done;
    this.state = 'finishing';
    this.call = undefined;
    restoreProcessState(saved);
    return call.exits;
  }

  // The first frame, read with recvmsg before libuv reads the socket: it carries the fds.
  private async readRequest(fd: number): Promise<{ request: CliRequest; fds: number[]; more: { decoder: FrameDecoder; frames: Frame[] } } | undefined> {
    const decoder = new FrameDecoder();
    const fds: number[] = [];
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    try {
      for (;;) {
        const left = deadline - Date.now();
        if (left <= 0 || !(await waitReadable(fd, left))) return undefined;
        const got = receive(fd);
        if (!got) continue;
        fds.push(...got.fds);
        if (got.eof) throw new Error('the launcher went away');
        const frames = decoder.push(got.data);
        if (frames.length === 0) continue;
        const [first, ...rest] = frames;
        if (first!.type !== MessageType.request || fds.length !== 3) throw new Error('not a request with three fds');
        const request = decodeRequest(first!.payload);
        return { request, fds: fds.splice(0), more: { decoder, frames: rest } };
      }
    } catch (err) {
      this.opts.log?.(`berth cli server: dropped a connection: ${(err as Error).message}`);
      return undefined;
    } finally {
      closeFds(fds);
    }
  }

  // Why this caller must run cold, if it must.
  private mismatch(pid: number, req: CliRequest): string | undefined {
    try {
      if (nsLinks(pid).join() !== this.ownNs.join()) return 'other namespaces or root';
      if (groupsOf(pid) !== this.ownGroups) return 'other groups';
    } catch {
      return 'cannot inspect the caller';
    }
    for (const k of LOAD_TIME_ENV) if (req.env[k] !== this.startEnv[k]) return `${k} differs`;
    return undefined;
  }

  private async afterCall(exits: boolean): Promise<void> {
    this.state = 'finishing';
    if (exits) this.shutdown(0);
    if (!(await this.settled())) {
      this.opts.log?.('berth cli server: a call left work behind; exiting');
      this.shutdown(0);
    }
    this.state = 'idle';
    const next = this.waiting.shift();
    // Callers that waited: the first is served, the others run cold.
    for (const c of this.waiting.splice(0)) this.refuse(c, 'busy');
    if (next && !next.destroyed) this.begin(next);
    else this.armIdle();
  }

  // Waits a few loop turns for the call's handles to finish closing, then compares what is
  // alive with what the idle server had.
  private async settled(): Promise<boolean> {
    const until = Date.now() + 200;
    // Turns as well as time: on a loaded machine the process can be off the CPU for the
    // whole 200 ms between two turns, before the closes it already started could finish.
    for (let turn = 0; ; turn++) {
      const now = countResources();
      const own = this.ownConns.size + this.waiting.length;
      let clean = true;
      for (const [kind, n] of now) {
        const allowed = (this.baseline.get(kind) ?? 0) + (kind === 'PipeWrap' ? own : 0);
        if (n > allowed) clean = false;
      }
      if (clean) return true;
      if (Date.now() > until && turn >= 20) {
        this.opts.log?.(`berth cli server: still alive after the call: ${process.getActiveResourcesInfo().join(', ')}`);
        return false;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
