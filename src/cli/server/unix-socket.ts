import koffi from 'koffi';
import { libc, sysError } from '../../util/libc.js';

// The few socket calls Node's net module lacks, through libc (as src/runtime/seqpacket.ts
// does for conmon's socket): receiving fds (SCM_RIGHTS), the peer's credentials
// (SO_PEERCRED), waiting for a socket to become readable without libuv reading it, and
// flock for "one server per socket".

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const SCM_RIGHTS = 1;
const MSG_DONTWAIT = 0x40;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;
const POLLIN = 0x1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EAGAIN = 11;
const EINTR = 4;

const iovec = koffi.struct('berth_cli_iovec', { iov_base: 'void *', iov_len: 'size_t' });
koffi.struct('berth_cli_msghdr', {
  msg_name: 'void *',
  msg_namelen: 'uint32_t',
  msg_iov: koffi.pointer(iovec),
  msg_iovlen: 'size_t',
  msg_control: 'void *',
  msg_controllen: 'size_t',
  msg_flags: 'int',
});
const c = {
  recvmsg: libc.func('long recvmsg(int fd, _Inout_ berth_cli_msghdr *msg, int flags)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)'),
  poll: libc.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  flock: libc.func('int flock(int fd, int op)'),
  close: libc.func('int close(int fd)'),
};


export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export function peerCredentials(fd: number): PeerCredentials {
  const val = Buffer.alloc(12);
  const len = [12];
  if ((c.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, val, len) as number) < 0) throw sysError('getsockopt', koffi.errno());
  return { pid: val.readInt32LE(0), uid: val.readUInt32LE(4), gid: val.readUInt32LE(8) };
}

export interface Received {
  data: Buffer;
  fds: number[];
  // 0 bytes: the peer closed its end.
  eof: boolean;
}

// One non-blocking recvmsg; null when nothing is there yet. Received fds are close-on-exec,
// so a container process spawned later never inherits a caller's terminal.
export function receive(fd: number, max = 65536): Received | null {
  const data = Buffer.alloc(max);
  const control = Buffer.alloc(256);
  const msg = {
    msg_name: null,
    msg_namelen: 0,
    msg_iov: [{ iov_base: data, iov_len: data.length }],
    msg_iovlen: 1,
    msg_control: control,
    msg_controllen: control.length,
    msg_flags: 0,
  };
  const n = Number(c.recvmsg(fd, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  if (n < 0) {
    const errno = koffi.errno();
    if (errno === EAGAIN || errno === EINTR) return null;
    throw sysError('recvmsg', errno);
  }
  const fds = parseRights(control, Number(msg.msg_controllen));
  if (msg.msg_flags & MSG_CTRUNC) {
    closeFds(fds);
    throw new Error('recvmsg: control data truncated');
  }
  return { data: data.subarray(0, n), fds, eof: n === 0 };
}

// struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data,
// each header aligned to 8 bytes on 64-bit Linux.
export function parseRights(control: Buffer, length: number): number[] {
  const fds: number[] = [];
  let at = 0;
  while (at + 16 <= length) {
    const len = Number(control.readBigUInt64LE(at));
    if (len < 16 || at + len > length) break;
    if (control.readInt32LE(at + 8) === SOL_SOCKET && control.readInt32LE(at + 12) === SCM_RIGHTS) {
      for (let p = at + 16; p + 4 <= at + len; p += 4) fds.push(control.readInt32LE(p));
    }
    at += (len + 7) & ~7;
  }
  return fds;
}

export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) c.close(fd);
}

// Resolves true once fd is readable (or closed by the peer), false after timeoutMs. The
// poll runs on a libuv pool thread, so the event loop goes on meanwhile.
export function waitReadable(fd: number, timeoutMs: number): Promise<boolean> {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  return new Promise((resolve, reject) => {
    c.poll.async(pfd, 1, timeoutMs, (err: unknown, n: number) => {
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(n > 0);
    });
  });
}

// An exclusive, non-blocking flock; false when another process holds it.
export function tryLock(fd: number): boolean {
  if ((c.flock(fd, LOCK_EX | LOCK_NB) as number) === 0) return true;
  const errno = koffi.errno();
  if (errno === EAGAIN) return false;
  throw sysError('flock', errno);
}
