import koffi from 'koffi';

// libc through koffi, for the few calls Node has no API for (SCM_RIGHTS, SOCK_SEQPACKET,
// flock, …). One handle for every module that binds functions from it.
export const libc = koffi.load('libc.so.6');

const strerror = libc.func('const char *strerror(int errnum)');

// An Error shaped as Node's own for a failed system call (errno, syscall).
export function sysError(call: string, errno: number): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${call}: ${strerror(errno) as string}`);
  err.errno = errno;
  err.syscall = call;
  return err;
}
