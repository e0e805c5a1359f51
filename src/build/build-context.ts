import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { detectCompression } from '../image/archive-decompress.js';
import { packTree, toNodeReadable, type TarHeader } from '../image/tree-tar.js';
import { goFileError } from '../cli/opts/kvfile.js';
import { isTarHeader, peek } from './decompress.js';
import { parseDockerignore, PatternMatcher, type MatchInfo } from './dockerignore.js';

// The build context as the docker CLI makes it (cli/command/image/build/context.go):
// a directory becomes a tar of everything .dockerignore lets through (owned by 0:0),
// stdin is either a tar (plain or compressed) sent as it is or a lone Dockerfile that
// gets wrapped in a tar, and a Dockerfile from outside the context (or from stdin) is
// added under a random name that .dockerignore then hides from COPY.

export const DEFAULT_DOCKERFILE = 'Dockerfile';

export interface PreparedContext {
  tar: Readable;
  // The Dockerfile's path inside the context ('' leaves the daemon's default).
  dockerfile: string;
}

// Failures to prepare the context; the CLI prefixes "unable to prepare context: ".
export class ContextError extends Error {}

// A directory as the context. `dockerfile` is -f as given ('' for PATH/Dockerfile, '-'
// for stdin, which `stdinDockerfile` then holds); relative -f paths are taken from cwd.
export async function contextFromDirectory(
  dir: string,
  dockerfile: string,
  opts: { cwd?: string; stdinDockerfile?: Readable } = {},
): Promise<PreparedContext> {
  const cwd = opts.cwd ?? process.cwd();
  const absDir = await resolveContextDir(path.resolve(cwd, dir));
  let rel = '-';
  let outside: string | undefined;
  if (dockerfile !== '-') {
    const absFile = await resolveDockerfile(absDir, dockerfile === '' ? '' : path.resolve(cwd, dockerfile));
    rel = path.relative(absDir, absFile);
    if (rel.startsWith('../')) outside = absFile;
  }
  const excludes = await readDockerignore(absDir);
  await validateContextDirectory(absDir, excludes);
  const kept = trimBuildFilesFromExcludes(excludes, rel, dockerfile === '-');
  let body = packTree(absDir, { select: contextSelector(kept), owner: { uid: 0, gid: 0 } });
  if (dockerfile === '-') {
    const content = await readAll(opts.stdinDockerfile ?? Readable.from([]));
    [body, rel] = addDockerfileToContext(body, content);
  } else if (outside !== undefined) {
    let content: Buffer;
    try {
      content = await readFile(outside);
    } catch (err) {
      throw new Error(`unable to open Dockerfile: ${goFileError('open', dockerfile, err).message}`);
    }
    [body, rel] = addDockerfileToContext(body, content);
  }
  return { tar: body, dockerfile: rel };
}

// stdin as the context: a tar (any compression) goes as it is; anything else is a
// Dockerfile, put alone in a tar.
export async function contextFromReader(input: Readable, dockerfile: string): Promise<PreparedContext> {
  const { head, rest } = await peek(input, 1024);
  if (detectCompression(head) !== 'none' || isTarHeader(head)) return { tar: rest, dockerfile };
  if (dockerfile === '-') throw new ContextError('build context is not an archive');
  if (dockerfile !== '') throw new ContextError('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles');
  const content = await readAll(rest);
  const pack = tar.pack();
  pack.entry({ name: DEFAULT_DOCKERFILE, mode: 0o644, uid: 0, gid: 0, mtime: new Date(), type: 'file' }, content);
  pack.finalize();
  return { tar: toNodeReadable(pack), dockerfile: DEFAULT_DOCKERFILE };
}

async function resolveContextDir(abs: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    throw new ContextError(`unable to evaluate symlinks in context path: ${goFileError('lstat', abs, err).message}`);
  }
  const st = await lstat(real);
  if (!st.isDirectory()) throw new ContextError(`context must be a directory: ${real}`);
  return real;
}

// The Dockerfile's real path; without -f, PATH/Dockerfile or else PATH/dockerfile.
async function resolveDockerfile(absDir: string, given: string): Promise<string> {
  let abs = given;
  if (abs === '') {
    abs = path.join(absDir, DEFAULT_DOCKERFILE);
    const exists = (p: string): Promise<boolean> => lstat(p).then(() => true, () => false);
    const lower = path.join(absDir, DEFAULT_DOCKERFILE.toLowerCase());
    if (!(await exists(abs)) && (await exists(lower))) abs = lower;
  }
  try {
    return await realpath(abs);
  } catch (err) {
    throw new ContextError(`unable to evaluate symlinks in Dockerfile path: ${goFileError('lstat', abs, err).message}`);
  }
}

export async function readDockerignore(contextDir: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path.join(contextDir, '.dockerignore'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`error reading .dockerignore: ${goFileError('read', path.join(contextDir, '.dockerignore'), err).message}`);
  }
  return parseDockerignore(text);
}

// .dockerignore may list itself or the Dockerfile: they are still sent (dockerd needs
// them and takes them out of the context itself), unless the Dockerfile comes from stdin.
export function trimBuildFilesFromExcludes(excludes: string[], dockerfile: string, dockerfileFromStdin: boolean): string[] {
  const out = [...excludes];
  const pm = new PatternMatcher(excludes);
  if (pm.matches('.dockerignore')) out.push('!.dockerignore');
  if (pm.matches(dockerfile) && !dockerfileFromStdin) out.push(`!${dockerfile}`);
  return out;
}

// Fails early, as the docker CLI does, on files of the context it could not read. The
// calls are synchronous (the CLI has nothing else to do meanwhile): a thread-pool round
// trip per lstat, open and close cost more than the calls themselves on a loaded host.
export async function validateContextDirectory(root: string, excludes: string[]): Promise<void> {
  const pm = new PatternMatcher(excludes);
  const attempt = <T>(fn: () => T, p: string): T => {
    try {
      return fn();
    } catch (err) {
      return walkFailure(err, p);
    }
  };
  const walk = (rel: string): void => {
    const dir = rel === '' ? root : path.join(root, rel);
    const names = attempt(() => readdirSync(dir), dir).sort();
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, r);
      const st = attempt(() => lstatSync(abs), abs);
      if (pm.matchesOrParentMatches(r)) continue;
      if (st.isDirectory()) {
        walk(r);
      } else if (st.isFile()) {
        let fd: number | undefined;
        try {
          fd = openSync(abs, 'r');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EACCES') throw new Error(`error checking context: no permission to read from '${abs}'`);
        }
        if (fd !== undefined) closeSync(fd);
      }
    }
  };
  walk('');
}

function walkFailure(err: unknown, p: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' ? `can't stat '${p}'` : code === 'ENOENT' ? `file ('${p}') not found or excluded by .dockerignore` : (err as Error).message;
  throw new Error(`error checking context: ${why}`);
}

// What go-archive's TarWithOptions does with exclude patterns: an excluded directory
// is still walked (but not itself archived) when an exception pattern may re-include
// something below it.
export function contextSelector(excludes: string[]): (rel: string, isDir: boolean) => 'keep' | 'omit' | 'skip' {
  const pm = new PatternMatcher(excludes);
  const exceptions = pm.exclusionPatterns();
  const dirInfo = new Map<string, MatchInfo>();
  return (rel, isDir) => {
    const slash = rel.lastIndexOf('/');
    const parent = slash < 0 ? undefined : dirInfo.get(rel.slice(0, slash));
    const [skip, info] = pm.matchesUsingParentResults(rel, parent);
    if (isDir) dirInfo.set(rel, info);
    if (!skip) return 'keep';
    if (!isDir || !pm.exclusions) return 'skip';
    return exceptions.some((p) => `${p}/`.startsWith(`${rel}/`)) ? 'omit' : 'skip';
  };
}

// Adds the Dockerfile as `.dockerfile.<random>` and lists that name in .dockerignore
// (creating it when missing), so the daemon drops it from the context after reading it.
export function addDockerfileToContext(context: Readable, dockerfile: Buffer): [Readable, string] {
  const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
  const extract = tar.extract();
  const pack = tar.pack();
  const now = new Date();
  const entry = (header: TarHeader, body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry(header, body, (err) => (err ? reject(err) : resolve())));
  const stream = (header: TarHeader, body: Readable): Promise<void> =>
    new Promise((resolve, reject) => {
      body.pipe(pack.entry(header, (err) => (err ? reject(err) : resolve())) as unknown as NodeJS.WritableStream);
    });
  const copy = async (): Promise<void> => {
    let sawIgnore = false;
    const feeding = pipeline(context, extract as unknown as NodeJS.WritableStream);
    feeding.catch(() => {}); // reported through the iteration below
    for await (const e of extract) {
      const h = e.header;
      if (h.name === name) {
        await readAll(e as unknown as Readable);
        continue;
      }
      if (h.name === '.dockerignore') {
        sawIgnore = true;
        const content = await readAll(e as unknown as Readable);
        await entry({ ...h, size: undefined }, Buffer.concat([content, Buffer.from(`\n${name}\n`)]));
        continue;
      }
      if (h.type === 'file' || h.type === 'contiguous-file') await stream(h, e as unknown as Readable);
      else await entry(h, await readAll(e as unknown as Readable));
    }
    await feeding;
    await entry({ name, mode: 0o600, mtime: now, type: 'file' }, dockerfile);
    if (!sawIgnore) await entry({ name: '.dockerignore', mode: 0o600, mtime: now, type: 'file' }, Buffer.from(`.dockerignore\n${name}\n`));
    pack.finalize();
  };
  copy().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return [toNodeReadable(pack), name];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
