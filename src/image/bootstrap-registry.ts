import { execFile } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { systemError } from '../util/errors.js';
import { busyboxEntries, DEFAULT_PATH_ENV, packEntries, type BaseImage } from './bootstrap-busybox.js';
import { GO_OS, goArch } from './platform.js';
import { formatRfc3339Nano } from './time.js';
import type { ImageConfig } from './types.js';

// The `registry` image, built offline like busybox: the host's own node binary with
// the shared libraries `ldd` names (copied, not linked, loader included), the bundle
// of `berth registry serve` (dist/registry.mjs), and busybox so that `docker exec -it
// registry sh` and `netstat -lnp` work as they do in the official (Alpine) image.
// Command, port and volume are the official image's: 5000/tcp, /var/lib/registry.

const run = promisify(execFile);

type Entry = Awaited<ReturnType<typeof busyboxEntries>>[number];

export const REGISTRY_CMD = ['/usr/local/bin/node', '/berth/registry.mjs', 'serve', '--addr', '0.0.0.0:5000', '--root', '/var/lib/registry'];

// The absolute paths of the libraries (and dynamic loader) an ldd listing names.
// linux-vdso has no file; "not found" means the binary would not start.
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('statically linked')) continue;
    if (/=>\s*not found/.test(line)) throw systemError(`ldd: ${line}`);
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^(\/\S+)\s+\(/.exec(line);
    if (m && !paths.includes(m[1])) paths.push(m[1]);
  }
  return paths;
}

// dist/registry.mjs next to the daemon's own bundle, or the repository's dist/ when
// berthd runs from source.
export async function findRegistryBundle(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, 'registry.mjs'), join(here, '../../dist/registry.mjs')]) {
    if ((await stat(candidate).catch(() => null))?.isFile()) return candidate;
  }
  throw systemError('dist/registry.mjs not found: build it with `node scripts/build.mjs`');
}

// node without its debug sections (~12 MB less) when binutils' strip is there; the
// binary as it is otherwise. strip is deterministic, so the image ID stays stable.
async function nodeBinary(node: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  try {
    const out = join(dir, 'node');
    await run('strip', ['--strip-all', '-o', out, node]);
    return await readFile(out);
  } catch {
    return readFile(node);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function withParents(entries: Entry[], path: string, dirs: Set<string>): void {
  const missing: string[] = [];
  for (let d = posix.dirname(path); d !== '.' && d !== '/' && !dirs.has(d); d = posix.dirname(d)) missing.unshift(d);
  for (const d of missing) {
    dirs.add(d);
    entries.push({ name: d, type: 'directory', mode: 0o755 });
  }
}

export interface RegistryImageSources {
  node?: string;
  bundle?: string;
  busybox?: string;
}

export async function bootstrapRegistry(src: RegistryImageSources = {}): Promise<BaseImage> {
  const node = await realpath(src.node ?? process.execPath);
  const bundle = src.bundle ?? (await findRegistryBundle());
  const busybox = src.busybox ?? '/bin/busybox';
  const haveBusybox = (await stat(busybox).catch(() => null))?.isFile() ?? false;

  const base = haveBusybox ? await busyboxEntries(busybox) : [];
  const links = base.filter((e) => e.type === 'link');
  const entries = base.filter((e) => e.type !== 'link');
  const dirs = new Set(entries.filter((e) => e.type === 'directory').map((e) => e.name));
  const names = new Set(entries.map((e) => e.name));
  const add = (name: string, e: Omit<Entry, 'name'>): void => {
    withParents(entries, name, dirs);
    if (e.type === 'directory') {
      if (dirs.has(name)) return;
      dirs.add(name);
    }
    if (names.has(name)) return;
    names.add(name);
    entries.push({ name, ...e });
  };

  const libs = parseLdd((await run('ldd', [node], { encoding: 'utf8' })).stdout);
  const version = (await run(node, ['--version'], { encoding: 'utf8' })).stdout.trim();
  const nodeBody = await nodeBinary(node);
  add('usr/local/bin/node', { type: 'file', mode: 0o755, body: nodeBody });
  for (const lib of libs) {
    // Dereferenced: the image gets the library's bytes under the name ld.so looks for.
    add(lib.replace(/^\/+/, ''), { type: 'file', mode: 0o755, body: await readFile(await realpath(lib)) });
  }
  add('berth/registry.mjs', { type: 'file', mode: 0o644, body: await readFile(bundle) });
  add('var/lib/registry', { type: 'directory', mode: 0o755 });
  add('tmp', { type: 'directory', mode: 0o1777 });
  if (!haveBusybox) {
    add('etc/passwd', { type: 'file', mode: 0o644, body: Buffer.from('root:x:0:0:root:/root:/bin/sh\n') });
    add('etc/group', { type: 'file', mode: 0o644, body: Buffer.from('root:x:0:\n') });
  }

  const tarName = (e: Entry): string => (e.type === 'directory' ? `${e.name}/` : e.name);
  entries.sort((a, b) => (tarName(a) < tarName(b) ? -1 : tarName(a) > tarName(b) ? 1 : 0));

  // Fixed inputs give a fixed image: every time is the newest input's mtime.
  const mtimes = await Promise.all([node, bundle, ...(haveBusybox ? [busybox] : [])].map(async (p) => (await stat(p)).mtimeMs));
  const mtimeSec = Math.floor(Math.max(...mtimes) / 1000);
  const created = formatRfc3339Nano(BigInt(mtimeSec) * 1_000_000_000n);
  const config: ImageConfig = {
    architecture: goArch(),
    config: {
      Cmd: REGISTRY_CMD,
      Env: [DEFAULT_PATH_ENV],
      ExposedPorts: { '5000/tcp': {} },
      Volumes: { '/var/lib/registry': {} },
    },
    created,
    history: [{ created, created_by: `berth registry serve on node ${version}${haveBusybox ? ', busybox-static' : ''}` }],
    os: GO_OS,
    rootfs: { type: 'layers', diff_ids: [] },
  };
  return { tar: packEntries([...entries, ...links], new Date(mtimeSec * 1000)), config };
}
