import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { CliIO } from '../command.js';
import { encodeExit, encodeKilled, encodeStop } from './protocol.js';
import type { CliRequest } from './protocol.js';
import type { RequestStdio } from './stdio.js';

// One call served: the caller's environment, cwd and umask in place, the CLI run on its
// stdio, its signals delivered as if the process had received them, and its exit status
// sent back. Whatever ends the call early (a forced exit, EPIPE, a signal without a
// handler, an uncaught error) leaves the command's work unfinished, so the server process
// exits after reporting it (`exits: true`) rather than serve another call beside it.

export type Outcome = { kind: 'exit'; code: number } | { kind: 'killed'; signo: number };

export type RunCli = (argv: readonly string[], io: CliIO) => Promise<number>;

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

// Default action "ignore" (SIGUSR1: Node's inspector, which a served call does not start).
const IGNORED = new Set<NodeJS.Signals>(['SIGCONT', 'SIGCHLD', 'SIGURG', 'SIGWINCH', 'SIGUSR1']);
// Default action "stop": the launcher stops itself, as the process would have been.
const STOPPING = new Set<NodeJS.Signals>(['SIGTSTP', 'SIGTTIN', 'SIGTTOU']);

export interface SavedProcessState {
  env: Record<string, string | undefined>;
  cwd: string;
  umask: number;
  listeners: Map<string | symbol, Function[]>;
}

export function replaceEnv(next: Record<string, string | undefined>): void {
  for (const k of Object.keys(process.env)) if (!Object.hasOwn(next, k)) delete process.env[k];
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) delete process.env[k];
    else if (process.env[k] !== v) process.env[k] = v;
  }
}

function signalListeners(): Map<string | symbol, Function[]> {
  const m = new Map<string | symbol, Function[]>();
  for (const name of process.eventNames()) if (typeof name === 'string' && name.startsWith('SIG')) m.set(name, process.listeners(name as NodeJS.Signals));
  return m;
}

export function saveProcessState(): SavedProcessState {
  return { env: { ...process.env }, cwd: process.cwd(), umask: process.umask(), listeners: signalListeners() };
}

// Back to the server's own state; signal listeners the call left behind are removed.
export function restoreProcessState(s: SavedProcessState): void {
  replaceEnv(s.env);
  process.chdir(s.cwd);
  process.umask(s.umask);
  for (const name of process.eventNames()) {
    if (typeof name !== 'string' || !name.startsWith('SIG')) continue;
    const keep = s.listeners.get(name) ?? [];
    for (const l of process.listeners(name as NodeJS.Signals)) {
      if (!keep.includes(l)) process.off(name, l as (...a: unknown[]) => void);
    }
  }
}

export class ServedCall {
  private ended = false;
  // Set once the status went out: true when the server must exit afterwards.
  exits = false;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly req: CliRequest,
    private readonly stdio: RequestStdio,
    private readonly conn: Socket,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  // Resolves once the status is sent (and the stdio closed).
  run(runCli: RunCli): Promise<void> {
    const { stdio } = this;
    for (const s of [stdio.stdout, stdio.stderr]) {
      // As the CLI's own main: a reader that went away ends the call with 141.
      s.on('error', (err: NodeJS.ErrnoException) => {
        if (this.ended) return;
        if (err.code === 'EPIPE') this.end({ kind: 'exit', code: 141 }, true);
        else this.fail(err);
      });
    }
    const io: CliIO = {
      get stdin() {
        return stdio.stdin;
      },
      stdout: stdio.stdout,
      stderr: stdio.stderr,
      env: process.env,
      stdinFd: stdio.stdinFd,
      exit: (code) => this.end({ kind: 'exit', code }, true),
    };
    runCli(this.req.argv, io).then(
      (code) => this.end({ kind: 'exit', code }, false),
      (err: unknown) => {
        if (this.ended) return;
        stdio.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        this.end({ kind: 'exit', code: 1 }, false);
      },
    );
    return this.done;
  }

  // A signal the launcher received.
  signal(signo: number): void {
    const name = signalNames.get(signo);
    if (!name || this.ended) return;
    if (name === 'SIGWINCH') this.stdio.refreshSizes();
    if (name !== 'SIGUSR1' && process.listenerCount(name) > 0) {
      process.emit(name, name);
      return;
    }
    if (IGNORED.has(name)) return;
    if (STOPPING.has(name)) {
      this.conn.write(encodeStop(signo));
      return;
    }
    this.end({ kind: 'killed', signo }, true);
  }

  // An uncaught error while serving: reported as Node reports one (stack, status 1).
  fail(err: unknown): void {
    if (this.ended) return;
    try {
      this.stdio.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    } catch {
      // the caller's stderr is gone too
    }
    this.end({ kind: 'exit', code: 1 }, true);
  }

  get finished(): boolean {
    return this.ended;
  }

  // unfinished: the command's work is still under way; its output is dropped rather than
  // waited for (as process.exit would), and the server exits after the status went out.
  private end(outcome: Outcome, unfinished: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.exits = unfinished;
    const frame = outcome.kind === 'exit' ? encodeExit(outcome.code) : encodeKilled(outcome.signo);
    const closing = unfinished ? this.stdio.close({ drain: false }) : this.stdio.close({ drain: true });
    void closing
      .catch(() => undefined)
      .then(
        () =>
          new Promise<void>((resolve) => {
            if (this.conn.destroyed) return resolve();
            this.conn.once('close', () => resolve());
            // Closed by us once the status is in the kernel, not when the launcher reads it
            // and goes: a launcher slow to run (a loaded machine) would otherwise keep the
            // connection alive past the server's check, which then takes it for the call's
            // leftover work and exits. Unread signal frames make no difference: the
            // launcher reads the queued status before it sees the reset.
            this.conn.end(frame, () => this.conn.destroy());
          }),
      )
      .then(() => this.resolveDone());
  }
}
