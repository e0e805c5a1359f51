import koffi from 'koffi';
import { libc, sysError } from '../util/libc.js';
import { open } from 'node:fs/promises';
import { dirname, basename } from 'node:path';

// Client side of a unix SOCK_SEQPACKET socket (conmon's attach socket). Node's net module
// refuses such fds (ERR_INVALID_FD_TYPE) and fs streams fail with EINVAL, so the socket is
// driven through libc with koffi. All sockets share one poller: a single poll(2) runs on a
// worker thread (koffi async) and every recv/send happens non-blocking on the main thread,
// so a hundred attached containers still hold only one thread of the libuv pool.

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const SHUT_WR = 1;
const SHUT_RDWR = 2;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EAGAIN = 11;
const EINTR = 4;
const EINPROGRESS = 115;

const c = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  connect: libc.func('int connect(int fd, const void *addr, uint32_t len)'),
  recv: libc.func('long recv(int fd, void *buf, size_t len, int flags)'),
  send: libc.func('long send(int fd, const void *buf, size_t len, int flags)'),
  shutdown: libc.func('int shutdown(int fd, int how)'),
  close: libc.func('int close(int fd)'),
  poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  eventfd: libc.func('int eventfd(unsigned int initval, int flags)'),
  write: libc.func('long write(int fd, const void *buf, size_t len)'),
  read: libc.func('long read(int fd, void *buf, size_t len)'),
};


interface Watch {
  fd: number;
  events: () => number; // POLLIN/POLLOUT wanted now; 0 keeps the fd out of the poll set
  ready: (revents: number) => void;
}

class Poller {
  private readonly watches = new Map<number, Watch>();
  private wakeFd = -1;
  private inFlight = false;
  private readonly one = Buffer.alloc(8);
  private readonly pendingClose: number[] = [];

  add(w: Watch): void {
    this.watches.set(w.fd, w);
    this.update();
  }

  // Re-reads every watch's interest: wakes a running poll so it restarts with the new set.
  update(): void {
    if (this.inFlight) {
      this.one.writeBigUInt64LE(1n);
      c.write(this.wakeFd, this.one, 8);
      return;
    }
    this.run();
  }

  // fds may only be closed while no poll holds them: poll on a closed (and maybe reused) fd
  // would watch the wrong file.
  closeFd(fd: number): void {
    this.watches.delete(fd);
    if (!this.inFlight) {
      c.close(fd);
      this.run();
      return;
    }
    this.pendingClose.push(fd);
    this.update();
  }

  private run(): void {
    if (this.inFlight) return;
    const active = [...this.watches.values()].map((w) => ({ w, ev: w.events() })).filter((x) => x.ev !== 0);
    if (active.length === 0) return; // nothing to wait for: no thread held, nothing keeps node alive
    if (this.wakeFd < 0) {
      this.wakeFd = c.eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
      if (this.wakeFd < 0) throw sysError('eventfd', koffi.errno());
    }
    const n = active.length + 1;
    const fds = Buffer.alloc(8 * n);
    fds.writeInt32LE(this.wakeFd, 0);
    fds.writeInt16LE(POLLIN, 4);
    active.forEach((x, i) => {
      fds.writeInt32LE(x.w.fd, 8 * (i + 1));
      fds.writeInt16LE(x.ev, 8 * (i + 1) + 4);
    });
    this.inFlight = true;
    c.poll.async(fds, n, -1, (err: unknown) => {
      this.inFlight = false;
      c.read(this.wakeFd, Buffer.alloc(8), 8);
      for (const fd of this.pendingClose.splice(0)) c.close(fd);
      if (!err) {
        active.forEach((x, i) => {
          const revents = fds.readInt16LE(8 * (i + 1) + 6);
          if (revents === 0 || this.watches.get(x.w.fd) !== x.w) return;
          try {
            x.w.ready(revents);
          } catch (e) {
            // One socket's consumer failing must not stop the poller serving the others.
            process.emitWarning(`attach socket handler failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        });
      }
      this.run();
    });
  }
}

const poller = new Poller();
// Reads happen one at a time on the main thread and are copied out: one buffer serves all.
const recvBuf = Buffer.alloc(65536);

export interface SeqpacketHandlers {
  message(data: Buffer): boolean; // false: stop reading until resume()
  end(err?: Error): void; // peer closed (or the socket failed); called once
}

// One connected socket. Messages arrive through handlers.message; send() queues a message
// and calls back once it is in the kernel. Reads stop while paused (backpressure reaches
// the sender: conmon, then the container's output pipe).
export class SeqpacketSocket {
  private paused = false;
  private ended = false;
  private closed = false;
  private readonly queue: Array<{ data: Buffer; cb: (err?: Error | null) => void }> = [];
  private shutdownAfterQueue = false;

  private constructor(private readonly fd: number, private readonly handlers: SeqpacketHandlers) {
    poller.add({ fd, events: () => this.interest(), ready: (rev) => this.onReady(rev) });
  }

  // Connects through /proc/self/fd/<dir>/<name> so socket paths longer than sun_path
  // (108 bytes) work, as podman does for conmon's sockets.
  static async connect(path: string, handlers: SeqpacketHandlers): Promise<SeqpacketSocket> {
    const dir = await open(dirname(path), 'r');
    try {
      const short = `/proc/self/fd/${dir.fd}/${basename(path)}`;
      const addr = Buffer.alloc(2 + Buffer.byteLength(short) + 1);
      addr.writeUInt16LE(AF_UNIX, 0);
      addr.write(short, 2);
      const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0) as number;
      if (fd < 0) throw sysError('socket', koffi.errno());
      // A unix connect never really waits; EINPROGRESS/EAGAIN only when the backlog is full.
      if ((c.connect(fd, addr, addr.length) as number) < 0) {
        const errno = koffi.errno();
        c.close(fd);
        const err = sysError('connect', errno);
        err.message = `connect ${path}: ${err.message}`;
        if (errno === EINPROGRESS || errno === EAGAIN) err.message += ' (listen backlog full)';
        throw err;
      }
      return new SeqpacketSocket(fd, handlers);
    } finally {
      await dir.close();
    }
  }

  private interest(): number {
    if (this.closed) return 0;
    let ev = 0;
    if (!this.paused && !this.ended) ev |= POLLIN;
    if (this.queue.length > 0) ev |= POLLOUT;
    return ev;
  }

  private onReady(revents: number): void {
    if (revents & (POLLIN | POLLHUP | POLLERR)) this.readAvailable();
    if (revents & (POLLOUT | POLLERR | POLLHUP)) this.flush();
  }

  private readAvailable(): void {
    while (!this.paused && !this.ended && !this.closed) {
      const n = c.recv(this.fd, recvBuf, recvBuf.length, MSG_DONTWAIT) as number;
      if (n < 0) {
        const errno = koffi.errno();
        if (errno === EAGAIN || errno === EINTR) return;
        this.finish(sysError('recv', errno));
        return;
      }
      if (n === 0) {
        this.finish();
        return;
      }
      if (!this.handlers.message(Buffer.from(recvBuf.subarray(0, n)))) this.paused = true;
    }
  }

  private finish(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failQueue(err ?? new Error('socket closed by peer'));
    poller.update();
    this.handlers.end(err);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.closed) poller.update();
  }

  send(data: Buffer, cb: (err?: Error | null) => void): void {
    if (this.closed || this.ended) {
      cb(new Error('socket is closed'));
      return;
    }
    this.queue.push({ data, cb });
    this.flush();
    if (this.queue.length > 0) poller.update();
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const { data, cb } = this.queue[0];
      const n = c.send(this.fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL) as number;
      if (n < 0) {
        const errno = koffi.errno();
        if (errno === EAGAIN || errno === EINTR) return;
        this.failQueue(sysError('send', errno));
        return;
      }
      this.queue.shift();
      cb(null);
    }
    if (this.queue.length === 0 && this.shutdownAfterQueue && !this.closed) {
      this.shutdownAfterQueue = false;
      c.shutdown(this.fd, SHUT_WR);
    }
  }

  private failQueue(err: Error): void {
    for (const q of this.queue.splice(0)) q.cb(err);
  }

  // Half-close once every queued message is sent: the peer reads EOF (conmon then closes
  // the container's stdin) while our side keeps receiving.
  end(): void {
    if (this.closed) return;
    this.shutdownAfterQueue = true;
    this.flush();
  }

  close(): void {
    if (this.closed) return;
    c.shutdown(this.fd, SHUT_RDWR);
    this.closed = true;
    this.failQueue(new Error('socket is closed'));
    poller.closeFd(this.fd);
    if (!this.ended) {
      this.ended = true;
      this.handlers.end();
    }
  }
}
