import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ContainerRuntime } from '../runtime/types.js';
import type { Change } from '../storage/changes.js';
import { resolveInRoot } from '../storage/path-safety.js';
import { applyLayerTar } from '../storage/tar-apply.js';
import { BerthError, conflict, invalid, notFound, systemError } from '../util/errors.js';
import { ownerForUser } from './archive-owner.js';
import { assertsDirectory, containerAbsPath, goBase } from './archive-path.js';
import { locate, readFileInRoot, type DirMount, type Located } from './archive-rootfs.js';
import { pathStat, type PathStat } from './archive-stat.js';
import { nodeTar } from './archive-tar.js';
import type { ContainerRecord } from './types.js';

// Files in and out of a container (moby daemon/archive*.go, container export and changes):
// `docker cp` (HEAD, GET and PUT /containers/{id}/archive), `docker export`, `docker diff`.
// A stopped container's rootfs is mounted for the time of the call and unmounted after;
// the container's lock is held throughout, so it neither starts nor exits under us.
// Paths are resolved inside the rootfs as a chroot would (archive-rootfs.ts).

export interface ArchiveContainers {
  withLock<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T>;
  emitEvent(rec: ContainerRecord, action: string, extra?: Record<string, string>): void;
}

export interface ArchiveLayers {
  mountRw(id: string): Promise<string>;
  unmountRw(id: string): Promise<void>;
  rwChanges(id: string): Promise<Change[]>;
}

// A file the daemon bind-mounts into the container (its /etc/hosts, hostname, resolv.conf):
// `docker cp` reads it, not the placeholder beneath, as dockerd mounts it for cp.
export interface FileMount {
  destination: string; // path in the container
  source: string; // host file
}

export interface ArchiveDeps {
  containers: ArchiveContainers;
  layers: ArchiveLayers;
  runtime: Pick<ContainerRuntime, 'pause' | 'resume' | 'state'>;
  fileMounts(rec: ContainerRecord): FileMount[];
}

export interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
}

function requirePath(path: string): void {
  // Sic: moby's message lacks the space.
  if (path === '') throw invalid('bad parameter: pathcannot be empty');
}

export class ArchiveService {
  constructor(private readonly deps: ArchiveDeps) {}

  // HEAD /containers/{id}/archive
  async stat(ref: string, path: string): Promise<PathStat> {
    requirePath(path);
    const absPath = containerAbsPath(path);
    return this.withRootfs(ref, async (rec, rootfs) => {
      const node = await this.find(rootfs, ref, path, absPath, false, await this.dirMountsIn(rec, rootfs));
      try {
        return await describe(rootfs, node, absPath, await this.mountsIn(rec, rootfs));
      } finally {
        await node.close();
      }
    });
  }

  // GET /containers/{id}/archive: consume gets the stat and the tar while the container is
  // held; it returns once the tar has been read.
  async archive(ref: string, path: string, consume: (stat: PathStat, tar: Readable) => Promise<void>): Promise<void> {
    requirePath(path);
    const absPath = containerAbsPath(path);
    await this.withRootfs(ref, async (rec, rootfs) => {
      const node = await this.find(rootfs, ref, path, absPath, false, await this.dirMountsIn(rec, rootfs));
      try {
        const mounts = await this.mountsIn(rec, rootfs);
        const stat = await describe(rootfs, node, absPath, mounts);
        // moby's TarResourceRebaseOpts: the entry is named as the path asked for, "." for
        // "dir/." (its content), and the root's entries start with "/".
        const top = goBase(absPath);
        this.deps.containers.emitEvent(rec, 'archive-path');
        await consume(stat, nodeTar(node, top === '/' ? '' : top, mounts));
      } finally {
        await node.close();
      }
    });
  }

  // PUT /containers/{id}/archive: path must be a directory (symlinks followed).
  async extract(ref: string, path: string, tar: Readable, opts: ExtractOptions): Promise<void> {
    requirePath(path);
    const absPath = containerAbsPath(path);
    await this.withRootfs(ref, async (rec, rootfs) => {
      await this.frozen(rec, async () => {
        const node = await this.find(rootfs, ref, path, absPath, true, await this.dirMountsIn(rec, rootfs));
        await node.close();
        if (node.name !== null) throw invalid('extraction point is not a directory');
        // moby's messages: a read-only volume, or a read-only rootfs when no volume is in the way.
        if (node.mount && !node.mount.rw) throw invalid('mounted volume is marked read-only');
        if (!node.mount && rec.HostConfig.ReadonlyRootfs) throw invalid('container rootfs is marked read-only');
        const owner =
          opts.copyUIDGID && rec.Config.User ? await ownerForUser(rec.Config.User, (f) => readFileInRoot(rootfs, `/etc/${f}`)) : undefined;
        await applyLayerTar(tar, node.mount?.source ?? rootfs, { base: node.rel, whiteouts: false, noOverwriteDirNonDir: opts.noOverwriteDirNonDir, owner });
      });
      this.deps.containers.emitEvent(rec, 'extract-to-dir');
    });
  }

  // GET /containers/{id}/export: the merged filesystem, volumes excluded.
  async export(ref: string, consume: (tar: Readable) => Promise<void>): Promise<void> {
    await this.deps.containers.withLock(ref, async (rec) => {
      if (rec.State.Dead) throw conflict(`You cannot export container ${rec.Id} which is Dead`);
      if (rec.State.Status === 'removing') throw conflict(`You cannot export container ${rec.Id} which is being removed`);
      await this.mounted(rec, async (rootfs) => {
        const root = await locate(rootfs, '/', true);
        try {
          await consume(nodeTar(root, null));
        } finally {
          await root.close();
        }
      });
      this.deps.containers.emitEvent(rec, 'export');
    });
  }

  // GET /containers/{id}/changes: null when nothing changed, as dockerd answers.
  async changes(ref: string): Promise<Change[] | null> {
    const changes = await this.deps.containers.withLock(ref, (rec) => this.deps.layers.rwChanges(rec.Id));
    return changes.length > 0 ? changes : null;
  }

  // The file mounts by where they land in the rootfs (runc resolves destinations inside it).
  private async mountsIn(rec: ContainerRecord, rootfs: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const m of this.deps.fileMounts(rec)) {
      const at = await resolveInRoot(rootfs, m.destination).catch(() => null);
      if (at !== null) out.set(at.slice(rootfs.length) || '/', m.source);
    }
    return out;
  }

  // Volumes and directory binds by where they land in the rootfs. tmpfs mounts live only
  // in the container's mount namespace: cp sees what lies beneath them.
  private async dirMountsIn(rec: ContainerRecord, rootfs: string): Promise<Map<string, DirMount>> {
    const out = new Map<string, DirMount>();
    for (const m of rec.MountPoints ?? []) {
      if (m.Type === 'tmpfs' || !m.Source) continue;
      const isDir = await stat(m.Source).then((st) => st.isDirectory(), () => false);
      if (!isDir) continue;
      const at = await resolveInRoot(rootfs, m.Destination).catch(() => null);
      if (at !== null && at !== rootfs) out.set(at.slice(rootfs.length), { source: m.Source, rw: m.RW });
    }
    return out;
  }

  private withRootfs<T>(ref: string, fn: (rec: ContainerRecord, rootfs: string) => Promise<T>): Promise<T> {
    return this.deps.containers.withLock(ref, (rec) => this.mounted(rec, (rootfs) => fn(rec, rootfs)));
  }

  // Under the container's lock: a running container's rootfs is mounted and stays so; a
  // stopped one's is mounted for fn (mountRw is a no-op on a mounted one).
  private async mounted<T>(rec: ContainerRecord, fn: (rootfs: string) => Promise<T>): Promise<T> {
    const rootfs = await this.deps.layers.mountRw(rec.Id);
    try {
      return await fn(rootfs);
    } finally {
      if (!rec.State.Running) await this.deps.layers.unmountRw(rec.Id).catch(() => {});
    }
  }

  // Writing into a running container goes through path names the container could swap for
  // symlinks between our checks and our writes (CVE-2018-15664); frozen, it cannot. Reads
  // need no freezing: archive-rootfs.ts resolves them through held directory fds.
  private async frozen<T>(rec: ContainerRecord, fn: () => Promise<T>): Promise<T> {
    if (!rec.State.Running || rec.State.Paused) return fn();
    const { runtime } = this.deps;
    try {
      await runtime.pause(rec.Id);
    } catch (err) {
      // Exited meanwhile (its exit is handled once we release the lock): nothing runs.
      const state = await runtime.state(rec.Id).catch(() => null);
      if (state && state.status !== 'stopped') throw err;
      return fn();
    }
    try {
      return await fn();
    } finally {
      await runtime.resume(rec.Id).catch(() => {});
    }
  }

  // The node at absPath; a path ending in "/" or "/." must be a directory, and is followed
  // if it is a symlink (as lstat("link/") is), as is every path with follow.
  private async find(rootfs: string, ref: string, path: string, absPath: string, follow = false, mounts?: ReadonlyMap<string, DirMount>): Promise<Located> {
    const dirAsserted = assertsDirectory(absPath);
    let node: Located;
    try {
      node = await locate(rootfs, absPath, follow || dirAsserted, absPath, mounts);
    } catch (err) {
      throw archiveError(err, ref, path);
    }
    if (dirAsserted && node.name !== null) {
      await node.close();
      throw systemError(`lstat ${absPath}: not a directory`);
    }
    return node;
  }
}

// moby's ContainerStatPath: a missing file is NotFound with this text, anything else not
// already typed is a system error.
function archiveError(err: unknown, ref: string, path: string): Error {
  if (err instanceof BerthError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return notFound(`Could not find the file ${path} in container ${ref}`);
  return systemError(e.message ?? String(err));
}

// PathStat of a located node: named as the path asked for; a symlink's linkTarget is its
// target fully resolved inside the rootfs, as far as it exists (FollowSymlinkInScope).
async function describe(rootfs: string, node: Located, absPath: string, mounts: ReadonlyMap<string, string>): Promise<PathStat> {
  const mounted = mounts.get(node.path);
  if (mounted !== undefined) return pathStat(goBase(absPath), await stat(mounted, { bigint: true }), '');
  let linkTarget = '';
  if (node.stat.isSymbolicLink()) {
    try {
      const resolved = await resolveInRoot(rootfs, node.path.slice(1));
      linkTarget = resolved.slice(rootfs.length) || '/';
    } catch {
      linkTarget = node.path;
    }
  }
  return pathStat(goBase(absPath), node.stat, linkTarget);
}
