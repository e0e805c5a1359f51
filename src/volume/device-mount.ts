import { MNT_DETACH, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT, SyscallError, mount, umount } from '../storage/syscalls.js';
import { systemError } from '../util/errors.js';
import type { DeviceMount } from './types.js';

// A local volume's own filesystem (-o type=,device=,o=), mounted as moby's mount.Mount
// does: the o= words that are mount flags become flags, the rest is the filesystem's data.

const MS_PRIVATE = 1 << 18;
const MS_SLAVE = 1 << 19;
const MS_SHARED = 1 << 20;
const MS_UNBINDABLE = 1 << 17;
const PROPAGATION = MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE;

// word → [clears the flag, flag] (moby/sys/mount's flag table for Linux).
const FLAGS: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [false, MS_RDONLY], rw: [true, MS_RDONLY],
  suid: [true, 0x2], nosuid: [false, 0x2],
  dev: [true, 0x4], nodev: [false, 0x4],
  exec: [true, 0x8], noexec: [false, 0x8],
  sync: [false, 0x10], async: [true, 0x10],
  dirsync: [false, 0x80],
  remount: [false, MS_REMOUNT],
  mand: [false, 0x40], nomand: [true, 0x40],
  atime: [true, 0x400], noatime: [false, 0x400],
  diratime: [true, 0x800], nodiratime: [false, 0x800],
  bind: [false, MS_BIND], rbind: [false, MS_BIND | MS_REC],
  unbindable: [false, MS_UNBINDABLE], runbindable: [false, MS_UNBINDABLE | MS_REC],
  private: [false, MS_PRIVATE], rprivate: [false, MS_PRIVATE | MS_REC],
  shared: [false, MS_SHARED], rshared: [false, MS_SHARED | MS_REC],
  slave: [false, MS_SLAVE], rslave: [false, MS_SLAVE | MS_REC],
  relatime: [false, 1 << 21], norelatime: [true, 1 << 21],
  strictatime: [false, 1 << 24], nostrictatime: [true, 1 << 24],
};

export function parseMountOptions(options: readonly string[]): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAGS[o];
    if (!f) data.push(o);
    else if (f[0]) flags &= ~f[1];
    else flags |= f[1];
  }
  return { flags, data: data.join(',') };
}

// A cifs password given in o= never reaches a message (moby masks it the same way).
export function maskPassword(text: string, options: readonly string[]): string {
  const secret = options.find((o) => o.startsWith('password='));
  return secret ? text.split(secret).join('password=********') : text;
}

// moby's mountError text: "mount tmpfs:/path, flags: 0x1, data: size=1x: invalid argument".
function mountError(source: string, target: string, flags: number, data: string, err: unknown, options: readonly string[]): Error {
  // Go spells errno texts in lower case ("invalid argument"); strerror capitalises them.
  const strerror = err instanceof SyscallError ? err.message.slice(err.message.lastIndexOf(': ') + 2) : String(err);
  const why = strerror.charAt(0).toLowerCase() + strerror.slice(1);
  let text = `mount ${source ? `${source}:` : ''}${target}`;
  if (flags !== 0) text += `, flags: 0x${flags.toString(16)}`;
  if (data !== '') text += `, data: ${data}`;
  return systemError(maskPassword(`error while mounting volume '${target}': failed to mount local volume: ${text}: ${why}`, options));
}

export function mountDevice(dev: DeviceMount, target: string): void {
  const { flags, data } = parseMountOptions(dev.options);
  const first = flags & ~PROPAGATION;
  const step = (source: string, type: string | null, f: number, d: string | null): void => {
    try {
      mount(source, target, type, f, d);
    } catch (err) {
      throw mountError(source, target, f, d ?? '', err, dev.options);
    }
  };
  if ((flags & MS_REMOUNT) === 0 || data !== '') step(dev.device, dev.type, first, data);
  if ((flags & PROPAGATION) !== 0) step('', null, flags & (PROPAGATION | MS_REC), null);
  // A read-only bind needs a second pass: the kernel ignores MS_RDONLY on the bind itself.
  if ((first & (MS_BIND | MS_RDONLY)) === (MS_BIND | MS_RDONLY)) step('', null, first | MS_REMOUNT, null);
}

// Lazily, as moby's mount.Unmount: a container still leaving holds no one up. Not mounted
// (any more) is what was wanted.
export function unmountDevice(target: string): void {
  try {
    umount(target, MNT_DETACH);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
}
