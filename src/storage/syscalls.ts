import koffi from 'koffi';
import { constants as osConstants } from 'node:os';

// The few syscalls Node lacks, called through libc. Calls are synchronous on purpose:
// koffi reports errno reliably only for a synchronous call, and each of these returns
// in microseconds (an overlay mount in about a millisecond).

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 1 << 18;

export const MNT_FORCE = 0x1;
export const MNT_DETACH = 0x2;

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

// Shaped like Node's own fs errors (code, errno, syscall, path) so callers test err.code
// the same way for both.
export class SyscallError extends Error {
  readonly code: string;
  constructor(readonly syscall: string, readonly errno: number, readonly path: string, detail: string) {
    super(`${syscall} ${path}: ${errnoName(errno)}: ${detail}`);
    this.name = 'SyscallError';
    this.code = errnoName(errno);
  }
}

interface Libc {
  mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): number;
  umount2(target: string, flags: number): number;
  mknod(path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: string, name: string, value: Buffer | null, size: number): number;
  strerror(errnum: number): string;
}

let libc: Libc | null = null;

function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  // unsigned long is 64-bit on the Linux targets Node runs on; ssize_t is a long.
  libc = {
    mount: l.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: l.func('int umount2(const char *target, int flags)'),
    mknod: l.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: l.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: l.func('long lgetxattr(const char *path, const char *name, void *value, size_t size)'),
    strerror: l.func('const char *strerror(int errnum)'),
  };
  return libc;
}

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, num]) => [num, name] as [number, string]),
);

function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

function check(ret: number, syscall: string, path: string): number {
  if (ret >= 0) return ret;
  const errno = koffi.errno();
  throw new SyscallError(syscall, errno, path, lib().strerror(errno));
}

export function mount(source: string, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(lib().mount(source, target, fstype, flags, data), 'mount', target);
}

export function umount(target: string, flags = MNT_DETACH): void {
  check(lib().umount2(target, flags), 'umount2', target);
}

// Same encoding as glibc's gnu_dev_makedev: 12 bits of major and 20 of minor split
// around the legacy 8+8 layout.
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

// mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO) and the permission bits;
// the umask still applies, so callers chmod afterwards when the bits matter.
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(lib().mknod(path, mode, makedev(major, minor)), 'mknod', path);
}

export function lsetxattr(path: string, name: string, value: Buffer | string): void {
  const buf = typeof value === 'string' ? Buffer.from(value) : value;
  check(lib().lsetxattr(path, name, buf, buf.length, 0), `lsetxattr ${name}`, path);
}

// Returns null when the attribute is absent (ENODATA) or the filesystem has no xattrs.
export function lgetxattr(path: string, name: string): Buffer | null {
  const l = lib();
  for (;;) {
    const size = l.lgetxattr(path, name, null, 0);
    if (size < 0) {
      const errno = koffi.errno();
      if (errno === osConstants.errno.ENODATA || errno === osConstants.errno.EOPNOTSUPP) return null;
      throw new SyscallError(`lgetxattr ${name}`, errno, path, l.strerror(errno));
    }
    const buf = Buffer.alloc(size);
    const got = l.lgetxattr(path, name, buf, size);
    if (got >= 0) return buf.subarray(0, got);
    const errno = koffi.errno();
    // The value grew between the two calls: ask again.
    if (errno === osConstants.errno.ERANGE) continue;
    if (errno === osConstants.errno.ENODATA) return null;
    throw new SyscallError(`lgetxattr ${name}`, errno, path, l.strerror(errno));
  }
}
