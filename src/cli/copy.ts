import type { CliContext } from './command.js';
import {
  copyInfoDestinationPath,
  copyInfoSourcePath,
  decodePathStat,
  extractTo,
  fileModeProblem,
  getRebaseName,
  joinPath,
  prepareArchiveCopy,
  rebaseArchive,
  resolveLocalPath,
  splitPathDirEntry,
  statIsDir,
  statIsSymlink,
  tarResource,
  validateOutputPath,
  type CopyInfo,
  type PathStat,
} from './copy-archive.js';
import { humanSizeWithPrecision } from '../util/units.js';
import { Transform, type Readable } from 'node:stream';

// `berth cp`'s two directions: container ⇄ local through GET/PUT
// /containers/{id}/archive, as the docker CLI 28 does them (cli/command/container/cp.go).
// Loaded only when cp runs (tar handling is not needed at start-up).

export function splitCpArg(arg: string): [container: string, p: string] {
  if (arg.startsWith('/')) return ['', arg];
  const i = arg.indexOf(':');
  if (i < 0 || arg.slice(0, i).startsWith('.')) return ['', arg];
  return [arg.slice(0, i), arg.slice(i + 1)];
}

function counter(total: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total.n += chunk.length;
      cb(null, chunk);
    },
  });
}

// The docker CLI goes on whatever a stat answers (a missing path, a path under a file,
// even a missing container): the copy itself then reports what is wrong.
async function statInContainer(ctx: CliContext, container: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await ctx.client().archiveStat(container, p);
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  } catch {
    return undefined;
  }
}

const isAbs = (p: string): boolean => p.startsWith('/');

export async function copyFromContainer(ctx: CliContext, container: string, source: string, dest: string, followLink: boolean, quiet: boolean): Promise<void> {
  const dstPath = dest === '-' ? '-' : resolveLocalPath(dest);
  await validateOutputPath(dstPath);
  let srcPath = source;
  let rebaseName: string | undefined;
  if (followLink) {
    const st = await statInContainer(ctx, container, srcPath);
    if (st && statIsSymlink(st)) {
      const target = isAbs(st.linkTarget) ? st.linkTarget : joinPath(splitPathDirEntry(srcPath)[0], st.linkTarget);
      ({ path: srcPath, rebaseName } = getRebaseName(srcPath, target));
    }
  }
  const res = await ctx.client().archiveGet(container, srcPath);
  if (dstPath === '-') {
    for await (const chunk of res) ctx.io.stdout.write(chunk as Buffer);
    return;
  }
  const st = decodePathStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: srcPath, exists: true, isDir: st ? statIsDir(st) : false, rebaseName };
  const total = { n: 0 };
  let content: Readable = quiet ? res : res.pipe(counter(total));
  if (rebaseName) content = await rebaseArchive(content, splitPathDirEntry(srcInfo.path)[1], rebaseName);
  // archive.CopyTo.
  const copy = (async () => {
    const dstInfo = await copyInfoDestinationPath(dstPath);
    const plan = prepareArchiveCopy(srcInfo, dstInfo);
    if (plan.from !== undefined && plan.to !== undefined) content = await rebaseArchive(content, plan.from, plan.to);
    await extractTo(content, plan.dstDir);
  })();
  const failed = await copy.then(
    () => null,
    (err: unknown) => err,
  );
  if (failed) res.destroy();
  // As the docker CLI 28: the summary is printed whether the copy worked or not.
  if (!quiet) ctx.err(`Successfully copied ${humanSizeWithPrecision(total.n, 3)} to ${dstPath}\n`);
  if (failed) throw failed;
}

// In order to get the copy right, the destination is stat-ed first: a directory takes the
// source in, anything else is replaced by it (see prepareArchiveCopy).
export async function copyToContainer(ctx: CliContext, container: string, source: string, dstPath: string, followLink: boolean, copyUIDGID: boolean, quiet: boolean): Promise<void> {
  const srcPath = source === '-' ? '-' : resolveLocalPath(source);
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let st = await statInContainer(ctx, container, dstPath);
  if (st && statIsSymlink(st)) {
    dstInfo.path = isAbs(st.linkTarget) ? st.linkTarget : joinPath(splitPathDirEntry(dstPath)[0], st.linkTarget);
    st = await statInContainer(ctx, container, dstInfo.path);
  }
  if (st) {
    const problem = fileModeProblem(st.mode);
    if (problem) throw new Error(`destination "${container}:${dstPath}" must be a directory or a regular file: ${problem}`);
    dstInfo.exists = true;
    dstInfo.isDir = statIsDir(st);
  }
  const client = ctx.client();
  const putOpts = { noOverwriteDirNonDir: true, copyUIDGID };
  if (srcPath === '-') {
    if (!dstInfo.isDir) throw new Error(`destination "${container}:${dstPath}" must be a directory`);
    await client.archivePut(container, dstInfo.path, ctx.io.stdin, putOpts);
    return;
  }
  const srcInfo = await copyInfoSourcePath(srcPath, followLink);
  let content = await tarResource(srcInfo);
  let plan;
  try {
    plan = prepareArchiveCopy(srcInfo, dstInfo);
  } catch (err) {
    content.destroy();
    throw err;
  }
  if (plan.from !== undefined && plan.to !== undefined) content = await rebaseArchive(content, plan.from, plan.to);
  const total = { n: 0 };
  if (!quiet) content = content.pipe(counter(total));
  const failed = await client.archivePut(container, plan.dstDir, content, putOpts).then(
    () => null,
    (err: unknown) => err,
  );
  if (!quiet) ctx.err(`Successfully copied ${humanSizeWithPrecision(total.n, 3)} to ${container}:${dstInfo.path}\n`);
  if (failed) throw failed;
}
