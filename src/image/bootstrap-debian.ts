import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, systemError } from '../util/errors.js';
import { findDebianMirror } from './apt-mirror.js';
import { DEFAULT_PATH_ENV, type BaseImage } from './bootstrap-busybox.js';
import { GO_OS, goArch } from './platform.js';
import { nowRfc3339Nano } from './time.js';
import { packTree } from './tree-tar.js';
import type { ImageConfig } from './types.js';

// debian:<suite> built with `debootstrap --variant=minbase` from the mirror apt on this
// machine uses (no registry is reachable), trimmed as the official image is: no apt
// lists or downloaded .debs, nothing of the host (resolv.conf, hostname), empty /dev,
// /proc and /sys (the runtime mounts them).

export interface DebianOptions {
  suite?: string;
  include?: string[];
  mirror?: string;
  workDir: string; // on a disk with room for the rootfs (~150 MB and more)
}

const SUITE_RE = /^[a-z][a-z0-9.-]*$/;
const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]+$/;

export async function bootstrapDebian(opts: DebianOptions, progress: (line: string) => void): Promise<BaseImage> {
  const suite = opts.suite ?? 'bookworm';
  const include = opts.include ?? [];
  if (!SUITE_RE.test(suite)) throw invalid(`invalid Debian suite name: ${JSON.stringify(suite)}`);
  for (const p of include) if (!PACKAGE_RE.test(p)) throw invalid(`invalid Debian package name: ${JSON.stringify(p)}`);
  const mirror = opts.mirror ?? (await findDebianMirror());
  if (!mirror) throw systemError('no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d');

  await mkdir(opts.workDir, { recursive: true });
  const dir = await mkdtemp(join(opts.workDir, 'debootstrap-'));
  const target = join(dir, 'rootfs');
  const cleanup = async (): Promise<void> => {
    await unmountUnder(dir);
    await rm(dir, { recursive: true, force: true });
  };
  const args = ['--variant=minbase', ...(include.length ? [`--include=${include.join(',')}`] : []), suite, target, mirror];
  try {
    progress(`debootstrap ${args.join(' ')}`);
    await runStreaming('debootstrap', args, progress);
    await trimRootfs(target);
  } catch (err) {
    await cleanup();
    throw err;
  }
  const created = nowRfc3339Nano();
  const createdBy = ['debootstrap', '--variant=minbase', ...(include.length ? [`--include=${include.join(',')}`] : []), suite, mirror].join(' ');
  const config: ImageConfig = {
    architecture: goArch(),
    config: { Cmd: ['bash'], Env: [DEFAULT_PATH_ENV] },
    created,
    history: [{ created, created_by: createdBy }],
    os: GO_OS,
    rootfs: { type: 'layers', diff_ids: [] },
  };
  const emptied = new Set(['dev', 'proc', 'sys']);
  const tarStream = packTree(target, { exclude: (rel) => emptied.has(rel.split('/', 1)[0]) && rel.includes('/') });
  return { tar: tarStream, config, cleanup };
}

async function trimRootfs(root: string): Promise<void> {
  const emptyDir = async (rel: string, keep: string[] = []): Promise<void> => {
    const d = join(root, rel);
    for (const name of await readdir(d).catch(() => [] as string[])) {
      if (!keep.includes(name)) await rm(join(d, name), { recursive: true, force: true });
    }
  };
  await emptyDir('var/lib/apt/lists', ['partial', 'lock']);
  await emptyDir('var/lib/apt/lists/partial');
  await emptyDir('var/cache/apt/archives', ['partial', 'lock']);
  await emptyDir('var/cache/apt/archives/partial');
  for (const f of ['var/cache/apt/pkgcache.bin', 'var/cache/apt/srcpkgcache.bin', 'etc/resolv.conf', 'etc/hostname']) {
    await rm(join(root, f), { force: true });
  }
}

function runStreaming(cmd: string, args: string[], progress: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const tail: string[] = [];
    const onData = (): ((chunk: Buffer) => void) => {
      let partial = '';
      return (chunk) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) {
          if (!l.trim()) continue;
          tail.push(l);
          if (tail.length > 5) tail.shift();
          progress(l);
        }
      };
    };
    child.stdout.on('data', onData());
    child.stderr.on('data', onData());
    child.on('error', (err) => reject(systemError(`${cmd}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(systemError(`${cmd} failed (${signal ?? `exit ${code}`}): ${tail.join(' | ')}`));
    });
  });
}

// debootstrap mounts /proc and /sys inside the target while it installs; a failed run
// can leave them behind, and rm -rf must never descend into a live /proc or /sys.
async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)))
    .map((p) => p.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    await new Promise<void>((resolve) => spawn('umount', ['-l', p], { stdio: 'ignore' }).on('close', () => resolve()));
  }
}
