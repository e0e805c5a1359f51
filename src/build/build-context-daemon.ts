import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { resolveInRoot } from '../storage/path-safety.js';
import { applyLayerTar } from '../storage/tar-apply.js';
import { invalid, systemError } from '../util/errors.js';
import { decompressAny, isTarHeader, peek } from './decompress.js';

// The daemon side of a build context (moby builder/remotecontext): the request body is a
// tar (plain or compressed) of the context, extracted with the safe extractor into a
// temporary directory under the data root, or, when it is not a tar at all, a lone
// Dockerfile with an empty context. Where the Dockerfile is read from and what happens
// to it and .dockerignore follows remotecontext/detect.go.

export const DEFAULT_DOCKERFILE = 'Dockerfile';
const MAX_LONE_DOCKERFILE = 16 << 20;

export interface DaemonBuildContext {
  root: string; // the extracted context
  dockerfile: string; // its text
  dockerfileName: string;
  close(): Promise<void>;
}

export interface ContextOptions {
  tmpRoot: string; // <dataRoot>/builder/tmp
  dockerfile: string; // the `dockerfile` query parameter ('' = Dockerfile)
  // .dockerignore's rules: does this path (or a parent) match? Only used to take the
  // Dockerfile and .dockerignore themselves out when they are listed, as moby does; the
  // client already left the other matches out of the tar.
  ignored?: (dockerignoreText: string, path: string) => boolean;
}

export async function receiveContext(body: Readable, opts: ContextOptions): Promise<DaemonBuildContext> {
  await mkdir(opts.tmpRoot, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(opts.tmpRoot, 'context-'));
  const close = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const root = join(dir, 'root');
    await mkdir(root, { mode: 0o755 });
    const { stream } = await decompressAny(body);
    const { head, rest } = await peek(stream, 512);
    const name = opts.dockerfile || DEFAULT_DOCKERFILE;
    if (!isTarHeader(head)) {
      const text = await readAll(rest, MAX_LONE_DOCKERFILE);
      if (text.length > 0) return { root, dockerfile: checkNotEmpty(text.toString('utf8'), name), dockerfileName: name, close };
    } else {
      await applyLayerTar(Readable.from(terminated(rest), { objectMode: false }), root, { whiteouts: false });
    }
    const found = await locateDockerfile(root, name);
    const text = checkNotEmpty(await readFile(found.path, 'utf8'), found.name);
    if (opts.ignored) await removeIgnored(root, [found.name], opts.ignored);
    return { root, dockerfile: text, dockerfileName: found.name, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function checkNotEmpty(text: string, name: string): string {
  if (text.length === 0) throw invalid(`the Dockerfile (${name}) cannot be empty`);
  return text;
}

// A path the context names (Dockerfile, a COPY source) → where it is, symlinks followed
// inside the context only; a path that climbs out of it is refused with moby's text.
export async function contextPath(root: string, path: string): Promise<string> {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw invalid(`forbidden path outside the build context: ${path} ()`);
      parts.pop();
    } else parts.push(p);
  }
  return resolveInRoot(root, parts.join('/'));
}

async function locateDockerfile(root: string, name: string): Promise<{ path: string; name: string }> {
  const path = await contextPath(root, name);
  const ok = await readFile(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EISDIR') return false;
      throw err;
    },
  );
  if (ok) return { path, name };
  // Backwards compatible: a context with only "dockerfile" builds with the default name.
  if (name === DEFAULT_DOCKERFILE) {
    const lower = name.toLowerCase();
    const lowerPath = await contextPath(root, lower);
    if (await readFile(lowerPath).then(() => true, () => false)) return { path: lowerPath, name: lower };
  }
  throw systemError(`Cannot locate specified Dockerfile: ${name}`);
}

async function removeIgnored(root: string, dockerfiles: string[], ignored: NonNullable<ContextOptions['ignored']>): Promise<void> {
  const rules = await readFile(join(root, '.dockerignore'), 'utf8').catch(() => null);
  if (rules === null) return;
  for (const f of ['.dockerignore', ...dockerfiles]) {
    if (ignored(rules, f)) await rm(await contextPath(root, f), { recursive: true, force: true });
  }
}

// The docker CLI's `build -f - PATH` appends the Dockerfile with ReplaceFileTarWrapper,
// whose tar stops right after the last file's bytes: no padding, no end blocks. Go's tar
// reader takes that as the end; the extractor wants a whole archive, so the stream is
// padded to a block and closed with two zero blocks (trailing zeros are what GNU tar's
// records have anyway, and harmless after a proper end).
async function* terminated(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of src) {
    n += chunk.length;
    yield chunk;
  }
  yield Buffer.alloc(((512 - (n % 512)) % 512) + 1024);
}

async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) throw invalid(`the Dockerfile is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
