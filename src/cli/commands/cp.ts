import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import { EngineError } from '../../client/engine-client.js';
import type { ParsedFlags } from '../flags.js';
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
} from '../copy-archive.js';
import { humanSizeWithPrecision } from '../units.js';
import { Transform, type Readable } from 'node:stream';
import path from 'node:path';

// `berth cp`: container ⇄ local through GET/PUT /containers/{id}/archive, with
// docker's rules for naming the copy.

function splitCpArg(arg: string): [container: string, p: string] {
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

async function copyFromContainer(ctx: CliContext, container: string, srcPath: string, dest: string, followLink: boolean, quiet: boolean): Promise<void> {
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
    content = rebaseArchive(content, splitPathDirEntry(srcPath)[1], rebase);
    src.rebaseName = undefined;
    src.path = path.posix.join(splitPathDirEntry(srcPath)[0], rebase);
  }
  const dst = await localDestInfo(dstPath);
  const plan = prepareArchiveCopy(src, dst);
  if (plan.from !== undefined && plan.to !== undefined) content = rebaseArchive(content, plan.from, plan.to);
  await extractTo(content, plan.dstDir);
  if (!quiet) ctx.err(`Successfully copied ${humanSizeWithPrecision(total.n, 3)} to ${dstPath}\n`);
}

async function copyToContainer(ctx: CliContext, container: string, source: string, dstPath: string, followLink: boolean, copyUIDGID: boolean, quiet: boolean): Promise<void> {
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
  if (plan.from !== undefined && plan.to !== undefined) content = rebaseArchive(content, plan.from, plan.to);
  const total = { n: 0 };
  if (!quiet) content = content.pipe(counter(total));
  await client.archivePut(container, plan.dstDir, content, { noOverwriteDirNonDir: true, copyUIDGID });
  if (!quiet) ctx.err(`Successfully copied ${humanSizeWithPrecision(total.n, 3)} to ${container}:${dst.path}\n`);
}

export const cpCommand: CommandSpec = {
  name: 'cp',
  use: 'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  short: 'Copy files/folders between a container and the local filesystem',
  long:
    "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
  aliasText: 'docker container cp, docker cp',
  flags: [
    { name: 'follow-link', short: 'L', kind: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    { name: 'archive', short: 'a', kind: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    {
      name: 'quiet',
      short: 'q',
      kind: 'bool',
      usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
    },
  ],
  args: exactArgs(2),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    if (args[0] === '') throw new Error('source can not be empty');
    if (args[1] === '') throw new Error('destination can not be empty');
    const quiet = flags.changed('quiet') ? flags.bool('quiet') : !ctx.io.stdout.isTTY;
    const [srcContainer, srcPath] = splitCpArg(args[0]);
    const [dstContainer, dstPath] = splitCpArg(args[1]);
    if (srcContainer && dstContainer) throw new Error('copying between containers is not supported');
    if (srcContainer) return copyFromContainer(ctx, srcContainer, srcPath, dstPath, flags.bool('follow-link'), quiet);
    if (dstContainer) return copyToContainer(ctx, dstContainer, srcPath, dstPath, flags.bool('follow-link'), flags.bool('archive'), quiet);
    throw new Error('must specify at least one container source');
  },
};
