import type { CliContext } from './command.js';
import { EngineError } from '../client/engine-client.js';
import {
  decodePathStat,
  extractTo,
  localCopyInfo,
  localDestInfo,
  prepareArchiveCopy,
  rebaseArchive,
  resolveLocalPath,
  splitPathDirEntry,
  statIsDir,
  statIsSymlink,
  tarResource,
  type CopyInfo,
  type PathStat,
} from './copy-archive.js';
import { humanSizeWithPrecision } from '../util/units.js';
import { Transform, type Readable } from 'node:stream';
import path from 'node:path';

// `berth cp`'s two directions: container ⇄ local through GET/PUT
// /containers/{id}/archive, with docker's rules for naming the copy. Loaded only
// when cp runs (tar handling is not needed at start-up).

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

async function statInContainer(ctx: CliContext, container: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await ctx.client().archiveStat(container, p);
    res.resume();
    return decodePathStat(res.headers['x-docker-container-path-stat']);
  } catch (err) {
    if (err instanceof EngineError && err.isNotFound) return undefined;
    throw err;
  }
}

export async function copyFromContainer(ctx: CliContext, container: string, srcPath: string, dest: string, followLink: boolean, quiet: boolean): Promise<void> {
  const dstPath = dest === '-' ? '-' : resolveLocalPath(dest);
  let rebase: string | undefined;
  if (followLink) {
    const st = await statInContainer(ctx, container, srcPath).catch(() => undefined);
    if (st && statIsSymlink(st)) {
      let target = st.linkTarget;
      if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(srcPath)[0], target);
      rebase = splitPathDirEntry(srcPath)[1];
      srcPath = target;
    }
  }
  const res = await ctx.client().archiveGet(container, srcPath);
  if (dstPath === '-') {
    for await (const chunk of res) ctx.io.stdout.write(chunk as Buffer);
    return;
  }
  const st = decodePathStat(res.headers['x-docker-container-path-stat']);
  const total = { n: 0 };
  let content: Readable = quiet ? res : res.pipe(counter(total));
  const src: CopyInfo = { path: srcPath, exists: true, isDir: st ? statIsDir(st) : false, rebaseName: rebase };
  if (rebase) {
    content = await rebaseArchive(content, splitPathDirEntry(srcPath)[1], rebase);
    src.rebaseName = undefined;
    src.path = path.posix.join(splitPathDirEntry(srcPath)[0], rebase);
  }
  const dst = await localDestInfo(dstPath);
  const plan = prepareArchiveCopy(src, dst);
  if (plan.from !== undefined && plan.to !== undefined) content = await rebaseArchive(content, plan.from, plan.to);
  await extractTo(content, plan.dstDir);
  if (!quiet) ctx.err(`Successfully copied ${humanSizeWithPrecision(total.n, 3)} to ${dstPath}\n`);
}

export async function copyToContainer(ctx: CliContext, container: string, source: string, dstPath: string, followLink: boolean, copyUIDGID: boolean, quiet: boolean): Promise<void> {
  const srcPath = source === '-' ? '-' : resolveLocalPath(source);
  const dst: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let st = await statInContainer(ctx, container, dstPath);
  if (st && statIsSymlink(st)) {
    let target = st.linkTarget;
    if (!target.startsWith('/')) target = path.posix.join(splitPathDirEntry(dstPath)[0], target);
    dst.path = target;
    st = await statInContainer(ctx, container, target);
  }
  if (st) {
    const isDir = statIsDir(st);
    const irregular = !isDir && st.mode >= 2 ** 20 && !statIsSymlink(st);
    if (irregular) throw new Error(`destination "${container}:${dstPath}" must be a directory or a regular file`);
    dst.exists = true;
    dst.isDir = isDir;
  }
  const client = ctx.client();
  if (srcPath === '-') {
    if (!dst.isDir) throw new Error(`destination "${container}:${dstPath}" must be a directory`);
    await client.archivePut(container, dst.path, ctx.io.stdin, { noOverwriteDirNonDir: true, copyUIDGID });
    return;
  }
  const src = await localCopyInfo(srcPath, followLink);
  let content = await tarResource(src, followLink);
  let plan;
  try {
    plan = prepareArchiveCopy(src, dst);
  } catch (err) {
    content.destroy();
    throw err;
  }
  if (plan.from !== undefined && plan.to !== undefined) content = await rebaseArchive(content, plan.from, plan.to);
  const total = { n: 0 };
  if (!quiet) content = content.pipe(counter(total));
  await client.archivePut(container, plan.dstDir, content, { noOverwriteDirNonDir: true, copyUIDGID });
  if (!quiet) ctx.err(`Successfully copied ${humanSizeWithPrecision(total.n, 3)} to ${container}:${dst.path}\n`);
}

