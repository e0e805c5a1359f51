import { closeSync, createReadStream, fstatSync, writeSync } from 'node:fs';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import tty from 'node:tty';
import type { TerminalIn, TerminalOut } from '../command.js';

// The caller's stdin, stdout and stderr in the CLI server, built on the fds the launcher
// passed the way Node builds process.stdin/stdout/stderr on fds 0-2 (lib/internal/
// bootstrap/switches/is_main_thread.js): a tty stream for a terminal, a synchronous
// writer for a file or character device, a net.Socket for a pipe or socket, and an empty
// stream for anything else. Same types, so the CLI behaves the same as in its own process.

type Kind = 'tty' | 'file' | 'pipe' | 'unknown';

// libuv's uv_guess_handle, which Node asks.
export function guessKind(fd: number): Kind {
  if (tty.isatty(fd)) return 'tty';
  const st = fstatSync(fd);
  if (st.isFile() || st.isCharacterDevice()) return 'file';
  if (st.isFIFO() || st.isSocket()) return 'pipe';
  return 'unknown';
}

// Node's SyncWriteStream (internal): writes go out with write(2) before write() returns.
class SyncFileWriter extends Writable {
  constructor(private readonly fd: number) {
    super({ autoDestroy: true });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    cb(err);
  }
}

export interface RequestStdio {
  readonly stdin: TerminalIn;
  readonly stdout: TerminalOut;
  readonly stderr: TerminalOut;
  readonly stdinFd: number;
  // The tty writers re-read their size on SIGWINCH, as Node does for process.stdout.
  refreshSizes(): void;
  // Closes every fd of the request (built into a stream or not); with drain, after the
  // output still queued went out.
  close(opts: { drain: boolean }): Promise<void>;
}

interface SizedTty {
  _refreshSize?: () => void;
}

interface Built<T> {
  stream: T;
  fd: number;
  // Whether destroying the stream closes the fd.
  ownsFd: boolean;
}

function writer(fd: number): Built<TerminalOut> {
  const kind = guessKind(fd);
  let s: TerminalOut;
  if (kind === 'tty') s = new tty.WriteStream(fd);
  else if (kind === 'file') s = new SyncFileWriter(fd);
  else if (kind === 'pipe') s = new net.Socket({ fd, readable: false, writable: true });
  else {
    // A black hole, as Node's stdout on an fd it does not know; the fd is closed at the end.
    s = new Writable({ write: (_c, _e, cb) => cb() });
  }
  return { stream: Object.assign(s, { fd }), fd, ownsFd: kind !== 'unknown' };
}

function reader(fd: number): Built<TerminalIn> {
  const kind = guessKind(fd);
  let s: TerminalIn;
  if (kind === 'tty') s = new tty.ReadStream(fd);
  else if (kind === 'file') s = createReadStream('', { fd, autoClose: true });
  else if (kind === 'pipe') {
    // manualStart: nothing is read before the command asks (node's stdin does the same).
    const opts = { fd, readable: true, writable: false, manualStart: true } as net.SocketConstructorOpts;
    const sock = new net.Socket(opts);
    s = sock;
  } else {
    s = new Readable({
      read() {
        this.push(null);
      },
    });
  }
  return { stream: Object.assign(s, { fd }), fd, ownsFd: kind !== 'unknown' };
}

// Destroying a tty, socket or file stream closes its fd; the empty stand-ins own none.
function closed(s: Readable | Writable, ownsFd: boolean, fd: number): Promise<void> {
  const closeRaw = (): void => {
    if (ownsFd) return;
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  };
  if (s.closed) {
    closeRaw();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    s.once('close', () => {
      closeRaw();
      resolve();
    });
    s.destroy();
  });
}

function drained(s: Writable): Promise<void> {
  if (s.destroyed || s.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      s.off('drain', check);
      s.off('close', done);
      s.off('error', done);
      resolve();
    };
    const check = (): void => {
      if (s.writableLength === 0) done();
    };
    s.on('drain', check);
    s.once('close', done);
    s.once('error', done);
  });
}

// fds: the caller's 0, 1, 2 as received. stdin is built on first use, as process.stdin.
export function openStdio(fds: readonly [number, number, number]): RequestStdio {
  const [inFd, outFd, errFd] = fds;
  const out = writer(outFd);
  const err = writer(errFd);
  let input: Built<TerminalIn> | undefined;
  return {
    get stdin(): TerminalIn {
      input ??= reader(inFd);
      return input.stream;
    },
    stdout: out.stream,
    stderr: err.stream,
    stdinFd: inFd,
    refreshSizes(): void {
      for (const s of [out.stream, err.stream]) (s as SizedTty)._refreshSize?.();
    },
    async close(opts: { drain: boolean }): Promise<void> {
      // A net.Socket is never end()ed: its shutdown(2) would half-close the caller's own
      // socket (a Node parent's stdio pipes are socketpairs), which outlives this command.
      if (opts.drain) await Promise.all([out.stream, err.stream].map(drained));
      const built: Array<Built<Readable | Writable>> = [out, err, ...(input ? [input] : [])];
      await Promise.all(built.map((b) => closed(b.stream, b.ownsFd, b.fd)));
      if (!input) closeSync(inFd);
    },
  };
}
