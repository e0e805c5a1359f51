import { createReadStream } from 'node:fs';
import { chmod, lchown, lstat, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { directoryTar } from '../../storage/layer-tar.js';
import { resolveInRoot } from '../../storage/path-safety.js';
import { applyLayerTar } from '../../storage/tar-apply.js';
import { decompressAny, isArchiveFile } from '../decompress.js';
import type { CopySource } from './copy-sources.js';

// Copying one COPY/ADD source into a build layer's mounted rootfs (moby copy.go
// performCopyForInfo). Everything is written by the safe tar extractor: the source
// becomes a tar stream and is applied under the destination, resolved inside the rootfs
// as a chroot would, so no symlink in the image can send a write outside it.
// - a directory copies its content; a new destination directory takes its mode;
// - ADD of a local (compressed) tar unpacks it, owners as in the archive;
// - a file lands in a destination directory (existing, or named with a trailing "/") under
//   its own name, else at the destination path; missing parents are made.
// Owners are root's, or --chown's, or (COPY --from without --chown) the source's.

export interface Owner {
  uid: number;
  gid: number;
}

export interface CopyOptions {
  decompress: boolean; // ADD
  owner: Owner | null; // null: keep the source's owners
  mode: number | null; // --chmod
}

export async function copyIntoRootfs(rootfs: string, dest: string, src: CopySource, opts: CopyOptions): Promise<void> {
  const destAbs = await resolveInRoot(rootfs, dest);
  const destRel = relTo(rootfs, destAbs);
  const st = await stat(src.abs);
  const destStat = await lstat(destAbs).catch(() => null);
  if (st.isDirectory()) return copyDirectory(rootfs, src.abs, st, destRel, destStat, opts);
  if (opts.decompress && !src.noDecompress && (await isArchiveFile(src.abs))) {
    const { stream } = await decompressAny(createReadStream(src.abs));
    await applyLayerTar(stream, rootfs, { base: destRel, whiteouts: false });
    return;
  }
  const intoDir = destStat?.isDirectory() || dest.endsWith('/');
  const target = intoDir ? posix.join(destRel, posix.basename(src.rel)) : destRel;
  const newParents = opts.owner && (opts.owner.uid !== 0 || opts.owner.gid !== 0) ? await missingDirs(rootfs, posix.dirname(target)) : [];
  const name = posix.basename(target);
  await applyLayerTar(singleEntryTar(name, src.abs, st, opts.mode), rootfs, {
    base: posix.dirname(target) === '.' ? '' : posix.dirname(target),
    whiteouts: false,
    owner: opts.owner ?? undefined,
  });
  // moby's MkdirAllAndChown(WithOnlyNew): parents made for a --chown copy are the user's.
  for (const d of newParents) await lchown(d, opts.owner!.uid, opts.owner!.gid);
}

async function copyDirectory(rootfs: string, srcAbs: string, srcStat: Stats, destRel: string, destStat: Stats | null, opts: CopyOptions): Promise<void> {
  await applyLayerTar(directoryTar(srcAbs), rootfs, { base: destRel, whiteouts: false, owner: opts.owner ?? undefined });
  // Resolved again: the extractor made it (and only real directories) if it was missing.
  const dir = await resolveInRoot(rootfs, destRel);
  if (opts.mode !== null) await chmodTree(srcAbs, dir, opts.mode);
  if (!destStat) {
    const owner = opts.owner ?? { uid: srcStat.uid, gid: srcStat.gid };
    await lchown(dir, owner.uid, owner.gid);
    await chmod(dir, opts.mode ?? srcStat.mode & 0o7777);
  }
}

// --chmod: every copied file and directory (symlinks have no mode of their own).
async function chmodTree(src: string, dest: string, mode: number): Promise<void> {
  for (const e of await readdir(src, { withFileTypes: true })) {
    const d = `${dest}/${e.name}`;
    if (e.isSymbolicLink()) continue;
    await chmod(d, mode);
    if (e.isDirectory()) await chmodTree(`${src}/${e.name}`, d, mode);
  }
}

// The directories from the root down to rel that do not exist yet (they will be made).
async function missingDirs(rootfs: string, rel: string): Promise<string[]> {
  const abs = await resolveInRoot(rootfs, rel === '.' ? '' : rel);
  const out: string[] = [];
  for (let p = abs; p.length > rootfs.length; p = posix.dirname(p)) {
    if (await lstat(p).then(() => true, () => false)) break;
    out.unshift(p);
  }
  return out;
}

function relTo(rootfs: string, abs: string): string {
  return abs === rootfs ? '' : abs.slice(rootfs.length + 1);
}

// One file (or device, fifo) as a tar: the file's own mode, owners and mtime.
function singleEntryTar(name: string, abs: string, st: Stats, mode: number | null): Readable {
  const pack = tar.pack();
  const header: Partial<Header> & { name: string } = {
    name,
    mode: mode ?? st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
    size: 0,
    type: 'file',
  };
  const done = (err?: Error | null): void => {
    if (err) pack.destroy(err);
    else pack.finalize();
  };
  if (st.isFile()) {
    const sink = pack.entry({ ...header, size: st.size }, done);
    (async () => {
      for await (const chunk of createReadStream(abs)) {
        if (!sink.write(chunk as Buffer)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
      sink.end(null);
    })().catch((err: unknown) => pack.destroy(err as Error));
  } else {
    const type = st.isFIFO() ? 'fifo' : st.isBlockDevice() ? 'block-device' : 'character-device';
    pack.entry({ ...header, type, devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: st.rdev & 0xff }, Buffer.alloc(0), done);
  }
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}
