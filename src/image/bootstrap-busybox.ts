import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import { systemError } from '../util/errors.js';
import { GO_OS, goArch } from './platform.js';
import { formatRfc3339Nano } from './time.js';
import { toNodeReadable, type TarHeader } from './tree-tar.js';
import type { ImageConfig } from './types.js';

// The busybox base image, built offline from Debian's busybox-static the way the official
// image is laid out: the binary, every applet as a hardlink at its `--list-full` path,
// buildroot's /etc/passwd, /etc/group and /etc/shadow, and the directories their users
// own. Everything is fixed (mtimes = the binary's, sorted entries, `created` = the
// binary's mtime), so one busybox package always yields the same tar and image ID.

const run = promisify(execFile);

export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BaseImage {
  tar: Readable;
  // diff_ids are empty: the layer store computes the layer's diff ID when it registers the tar.
  config: ImageConfig;
  cleanup?: () => Promise<void>;
}

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;

const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
`;

// root has no usable password (CVE-2019-5021: an empty one let anyone su to root).
const SHADOW = PASSWD.split('\n')
  .filter(Boolean)
  .map((l) => `${l.split(':')[0]}:*:::::::`)
  .join('\n')
  .concat('\n');

// Static glibc still reads nsswitch.conf for name lookups.
const NSSWITCH = `passwd:         files
group:          files
shadow:         files
hosts:          files dns
networks:       files
protocols:      files
services:       files
ethers:         files
rpc:            files
`;

interface Entry {
  name: string;
  type: 'directory' | 'file' | 'link';
  mode: number;
  uid?: number;
  gid?: number;
  body?: Buffer;
  linkname?: string;
}

// Directories as buildroot's device_table.txt and the official image's home-directory
// step leave them (owner uid:gid where a user's home was created for it).
const DIRECTORIES: Array<[string, number, number?, number?]> = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['etc/network', 0o755],
  ['etc/network/if-down.d', 0o755],
  ['etc/network/if-post-down.d', 0o755],
  ['etc/network/if-pre-up.d', 0o755],
  ['etc/network/if-up.d', 0o755],
  ['home', 0o755, 65534, 65534],
  ['root', 0o700],
  ['sbin', 0o755],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['usr/sbin', 0o755, 1, 1],
  ['var', 0o755],
  ['var/spool', 0o755],
  ['var/spool/mail', 0o755, 8, 8],
  ['var/www', 0o755],
];

export async function busyboxVersion(busybox = '/bin/busybox'): Promise<string> {
  // `busybox` with no applet prints its banner on stdout and exits 0 (older ones exit 1).
  const out = await run(busybox, [], { encoding: 'utf8' }).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  const m = /^BusyBox v(\S+)(?: \(([^)]*)\))?/.exec(out);
  if (!m) throw systemError(`${busybox} does not look like busybox`);
  return m[2] ? `${m[1]} (${m[2]})` : m[1];
}

export async function busyboxEntries(busybox = '/bin/busybox'): Promise<Entry[]> {
  const { stdout } = await run(busybox, ['--list-full'], { encoding: 'utf8' });
  const applets = stdout
    .split('\n')
    .map((s) => s.trim())
    // linuxrc is the boot-time init applet at the root of an initrd, not a command.
    .filter((s) => s && s !== 'bin/busybox' && s.includes('/'));
  const entries: Entry[] = DIRECTORIES.map(([name, mode, uid, gid]) => ({ name, type: 'directory', mode, uid, gid }));
  const dirs = new Set(DIRECTORIES.map(([d]) => d));
  for (const a of applets) {
    for (let d = posix.dirname(a); d !== '.' && !dirs.has(d); d = posix.dirname(d)) {
      dirs.add(d);
      entries.push({ name: d, type: 'directory', mode: 0o755 });
    }
  }
  entries.push(
    { name: 'bin/busybox', type: 'file', mode: 0o755, body: await readFile(busybox) },
    { name: 'etc/group', type: 'file', mode: 0o644, body: Buffer.from(GROUP) },
    { name: 'etc/nsswitch.conf', type: 'file', mode: 0o644, body: Buffer.from(NSSWITCH) },
    { name: 'etc/passwd', type: 'file', mode: 0o644, body: Buffer.from(PASSWD) },
    { name: 'etc/shadow', type: 'file', mode: 0o600, body: Buffer.from(SHADOW) },
  );
  // Links come after every file so their target is always already in the archive.
  const links: Entry[] = [...new Set(applets)].sort().map((a) => ({ name: a, type: 'link', mode: 0o755, linkname: 'bin/busybox' }));
  entries.sort((a, b) => (tarName(a) < tarName(b) ? -1 : tarName(a) > tarName(b) ? 1 : 0));
  return [...entries, ...links];
}

const tarName = (e: Entry): string => (e.type === 'directory' ? `${e.name}/` : e.name);

export function packEntries(entries: Entry[], mtime: Date): Readable {
  const pack = tar.pack();
  (async () => {
    for (const e of entries) {
      const header: TarHeader = { name: tarName(e), type: e.type, mode: e.mode, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime };
      if (e.linkname !== undefined) header.linkname = e.linkname;
      await new Promise<void>((resolve, reject) =>
        pack.entry(header, e.body ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve())),
      );
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return toNodeReadable(pack);
}

export async function bootstrapBusybox(busybox = '/bin/busybox'): Promise<BaseImage> {
  const st = await stat(busybox).catch(() => null);
  if (!st?.isFile()) throw systemError(`${busybox} not found: install Debian's busybox-static`);
  const mtimeSec = Math.floor(st.mtimeMs / 1000);
  const created = formatRfc3339Nano(BigInt(mtimeSec) * 1_000_000_000n);
  const version = await busyboxVersion(busybox);
  const entries = await busyboxEntries(busybox);
  const config: ImageConfig = {
    architecture: goArch(),
    config: { Cmd: ['sh'], Env: [DEFAULT_PATH_ENV] },
    created,
    history: [{ created, created_by: `BusyBox ${version}, busybox-static` }],
    os: GO_OS,
    rootfs: { type: 'layers', diff_ids: [] },
  };
  return { tar: packEntries(entries, new Date(mtimeSec * 1000)), config };
}
