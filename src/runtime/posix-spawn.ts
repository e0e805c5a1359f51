import koffi from 'koffi';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

// Starts a program with glibc's posix_spawn (a vfork-style clone) instead of Node's
// child_process, whose fork() copies the page tables of the whole daemon on the main
// thread: measured here, 80–100 ms of a blocked event loop per spawn on a loaded machine
// (about 1 ms for posix_spawn), and berthd spawns conmon or runc for every container
// lifecycle step.

const O_RDWR = 0o2;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// glibc x86_64/aarch64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336,
// sigset_t 128; room to spare costs nothing.
const FILE_ACTIONS_SIZE = 256;
const ATTR_SIZE = 1024;
const SIGSET_SIZE = 128;

interface Libc {
  pipe2(fds: Int32Array, flags: number): number;
  close(fd: number): number;
  posix_spawn(pid: Int32Array, path: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
  posix_spawnp(pid: Int32Array, file: string, actions: Buffer, attr: Buffer, argv: (string | null)[], envp: (string | null)[]): number;
  actionsInit(a: Buffer): number;
  actionsDestroy(a: Buffer): number;
  addDup2(a: Buffer, fd: number, newfd: number): number;
  addOpen(a: Buffer, fd: number, path: string, flags: number, mode: number): number;
  addChdir(a: Buffer, path: string): number;
  attrInit(a: Buffer): number;
  attrDestroy(a: Buffer): number;
  attrSetFlags(a: Buffer, flags: number): number;
  attrSetSigDefault(a: Buffer, set: Buffer): number;
  attrSetSigMask(a: Buffer, set: Buffer): number;
  sigemptyset(set: Buffer): number;
  waitpid: { async(pid: number, status: Int32Array, options: number, cb: (err: unknown, ret: number) => void): void };
  waitpidSync(pid: number, status: Int32Array, options: number): number;
  strerror(errnum: number): string;
}

let libc: Libc | null = null;

function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    pipe2: l.func('int pipe2(void *fds, int flags)'),
    close: l.func('int close(int fd)'),
    posix_spawn: l.func('int posix_spawn(void *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
    posix_spawnp: l.func('int posix_spawnp(void *pid, const char *file, void *actions, void *attr, const char **argv, const char **envp)'),
    actionsInit: l.func('int posix_spawn_file_actions_init(void *a)'),
    actionsDestroy: l.func('int posix_spawn_file_actions_destroy(void *a)'),
    addDup2: l.func('int posix_spawn_file_actions_adddup2(void *a, int fd, int newfd)'),
    addOpen: l.func('int posix_spawn_file_actions_addopen(void *a, int fd, const char *path, int flags, uint32_t mode)'),
    addChdir: l.func('int posix_spawn_file_actions_addchdir_np(void *a, const char *path)'),
    attrInit: l.func('int posix_spawnattr_init(void *a)'),
    attrDestroy: l.func('int posix_spawnattr_destroy(void *a)'),
    attrSetFlags: l.func('int posix_spawnattr_setflags(void *a, short flags)'),
    attrSetSigDefault: l.func('int posix_spawnattr_setsigdefault(void *a, const void *set)'),
    attrSetSigMask: l.func('int posix_spawnattr_setsigmask(void *a, const void *set)'),
    sigemptyset: l.func('int sigemptyset(void *set)'),
    // Run on a worker thread (koffi async): the wait blocks until the child exits.
    waitpid: l.func('int waitpid(int pid, void *status, int options)'),
    waitpidSync: l.func('int waitpid(int pid, void *status, int options)'),
    strerror: l.func('const char *strerror(int errnum)'),
  };
  return libc;
}

export interface SpawnOptions {
  env: Record<string, string | undefined>;
  cwd?: string;
  // A session of its own (setsid), as child_process's detached does.
  detached?: boolean;
  // One entry per child fd from 0: 'ignore' is /dev/null, 'pipe' a pipe. The child reads
  // its fd 0 (SpawnedProcess.stdin writes to it) and writes the others (readable in
  // SpawnedProcess.pipes at the same index).
  stdio: Array<'ignore' | 'pipe'>;
  // Look a name without a slash up in the PATH of env (posix_spawnp), as a shell would.
  searchPath?: boolean;
}

export interface SpawnedProcess {
  pid: number;
  stdin: Writable | null;
  pipes: Array<Readable | null>;
  // How the process ended: exit code, or the signal that killed it.
  exited: Promise<{ code: number | null; signal: number | null }>;
}

function spawnError(call: string, errno: number, path: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${call} ${path}: ${lib().strerror(errno)}`);
  err.errno = errno;
  err.syscall = call;
  err.path = path;
  if (errno === 2) err.code = 'ENOENT';
  else if (errno === 13) err.code = 'EACCES';
  return err;
}

export function posixSpawn(path: string, args: string[], opts: SpawnOptions): SpawnedProcess {
  const c = lib();
  const parentEnds: number[] = [];
  const childEnds: number[] = [];
  const actions = Buffer.alloc(FILE_ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  const allSignals = Buffer.alloc(SIGSET_SIZE);
  const noSignals = Buffer.alloc(SIGSET_SIZE);
  c.actionsInit(actions);
  c.attrInit(attr);
  try {
    opts.stdio.forEach((kind, fd) => {
      if (kind === 'ignore') {
        c.addOpen(actions, fd, '/dev/null', O_RDWR, 0);
        return;
      }
      // Both ends close on exec; dup2 onto the child's fd clears that flag for it alone.
      const fds = new Int32Array(2);
      if (c.pipe2(fds, O_CLOEXEC) !== 0) throw spawnError('pipe2', koffi.errno(), path);
      const [readEnd, writeEnd] = [fds[0]!, fds[1]!];
      const [mine, theirs] = fd === 0 ? [writeEnd, readEnd] : [readEnd, writeEnd];
      parentEnds[fd] = mine;
      childEnds.push(theirs);
      c.addDup2(actions, theirs, fd);
    });
    if (opts.cwd !== undefined) c.addChdir(actions, opts.cwd);
    // As child_process does: the child starts with every signal at its default (Node
    // ignores SIGPIPE, which a child would inherit) and nothing blocked. The bits are set by
    // hand because sigfillset leaves out glibc's two internal signals (32, 33), which
    // posix_spawn then sets to ignored, and runc would pass that on to the container.
    allSignals.fill(0xff, 0, 8);
    c.sigemptyset(noSignals);
    c.attrSetSigDefault(attr, allSignals);
    c.attrSetSigMask(attr, noSignals);
    c.attrSetFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.detached ? POSIX_SPAWN_SETSID : 0));
    const env = Object.entries(opts.env)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    const pid = new Int32Array(1);
    // posix_spawn returns the error (including the exec's own) rather than setting errno.
    const spawnFn = opts.searchPath && !path.includes('/') ? c.posix_spawnp : c.posix_spawn;
    const rc = spawnFn(pid, path, actions, attr, [path, ...args, null], [...env, null]);
    if (rc !== 0) throw spawnError('posix_spawn', rc, path);
    const childPid = pid[0]!;
    const adopt = (fd: number, writable: boolean): Socket => {
      const s = new Socket({ fd: parentEnds[fd]!, readable: !writable, writable });
      parentEnds[fd] = -1; // the socket owns it now
      return s;
    };
    const stdin = opts.stdio[0] === 'pipe' ? adopt(0, true) : null;
    const pipes = opts.stdio.map((kind, fd) => (kind === 'pipe' && fd > 0 ? adopt(fd, false) : null));
    const status = new Int32Array(1);
    const exited = new Promise<{ code: number | null; signal: number | null }>((resolve) => {
      const decode = (): void => {
        const st = status[0]!;
        const sig = st & 0x7f;
        resolve(sig === 0 ? { code: (st >> 8) & 0xff, signal: null } : { code: null, signal: sig });
      };
      const wait = (): void => {
        c.waitpid.async(childPid, status, 0, (err: unknown, ret: number) => {
          if (!err && ret === childPid) return decode();
          // errno is not kept across koffi's worker thread: a non-blocking look tells an
          // interrupted wait (still running: wait again) from a child that is gone.
          const now = c.waitpidSync(childPid, status, WNOHANG);
          if (now === childPid) decode();
          else if (now === 0) wait();
          else resolve({ code: null, signal: null });
        });
      };
      wait();
    });
    return { pid: childPid, stdin, pipes, exited };
  } finally {
    for (const fd of childEnds) c.close(fd);
    for (const fd of parentEnds) if (fd !== undefined && fd >= 0) c.close(fd);
    c.actionsDestroy(actions);
    c.attrDestroy(attr);
  }
}

// Everything a child wrote to one of its pipes, as text.
export async function readAll(stream: Readable | null | undefined): Promise<string> {
  if (!stream) return '';
  const parts: Buffer[] = [];
  try {
    for await (const chunk of stream) parts.push(chunk as Buffer);
  } catch {
    // A broken pipe ends what there is to read.
  }
  return Buffer.concat(parts).toString('utf8');
}
