import { lstat, mkdir, stat } from 'node:fs/promises';
import type { EventBus } from '../daemon/events.js';
import type { SpecMount } from '../runtime/types.js';
import { BerthError, invalid } from '../util/errors.js';
import type { VolumeService } from './volume-service.js';
import { cleanPath, mergeTmpfsOptions, parseApiMount, parseBind, parseVolumesFrom, readWrite, validateDestination, type ParsedMount } from './mount-parse.js';
import { copyImageContent, pathInRootfs } from './copy-up.js';
import type { ApiMount, MountPoint } from './types.js';

// What a container asked for, from its HostConfig and Config.Volumes.
export interface MountRequest {
  binds: string[] | null | undefined;
  mounts: ApiMount[] | null | undefined;
  tmpfs: Record<string, string> | null | undefined;
  volumesFrom: string[] | null | undefined;
  volumeDriver: string | undefined;
  anonymous: string[]; // Config.Volumes: the image's VOLUMEs and -v /path
}

export interface PrepareContext {
  containerId: string;
  // The mount points of another container (--volumes-from); throws if there is none.
  mountPointsOf(ref: string): MountPoint[];
  // Runs fn with the container's rootfs mounted (for copy-up and the file check).
  withRootfs<T>(fn: (rootfs: string) => Promise<T>): Promise<T>;
}

export interface StoredMountPoint extends MountPoint {
  Anonymous?: boolean; // a volume Docker named itself: `rm -v` removes it
}

const duplicate = (dest: string): Error => invalid(`Duplicate mount point: ${dest}`);

// Joins volumes and host paths to containers: resolved once at create (moby's
// registerMountPoints + createContainerVolumesOS), turned into OCI mounts at each start.
// runc makes every mount inside the container's own mount namespace, after the rootfs is
// ready and before pivot_root, so the host never sees them; only a volume with its own
// filesystem (local driver -o type=,device=) is mounted on the host, at its _data.
export class ContainerMounts {
  constructor(private readonly volumes: VolumeService, private readonly events: EventBus) {}

  async prepare(req: MountRequest, ctx: PrepareContext): Promise<StoredMountPoint[]> {
    const id = ctx.containerId;
    const points = new Map<string, StoredMountPoint>();
    const pending: Array<{ mp: StoredMountPoint; copy: boolean }> = [];
    const refs: string[] = [];
    const created: string[] = [];
    try {
      const tmpfs = Object.keys(req.tmpfs ?? {});
      for (const dest of tmpfs) validateDestination(dest);
      const tmpfsDests = new Set(tmpfs.map(cleanPath));

      for (const spec of req.volumesFrom ?? []) {
        const { container, mode } = parseVolumesFrom(spec);
        let theirs: MountPoint[];
        try {
          theirs = ctx.mountPointsOf(container);
        } catch (err) {
          throw err instanceof BerthError ? invalid(err.message) : err;
        }
        for (const m of theirs) {
          const mp: StoredMountPoint = { ...m, RW: m.RW && readWrite(mode) };
          if (mp.Type === 'volume') {
            this.volumes.addRef(mp.Name, id);
            refs.push(mp.Name);
          }
          this.replace(points, mp, id, refs);
        }
      }

      const binds = new Set<string>();
      const take = async (p: ParsedMount, target: string, labels?: Record<string, string> | null, options?: Record<string, string> | null): Promise<void> => {
        if (binds.has(p.destination) || (p.type !== 'tmpfs' && tmpfsDests.has(p.destination))) throw duplicate(target);
        const mp = await this.mountPoint(p, id, labels, options, created, refs);
        binds.add(p.destination);
        this.replace(points, mp, id, refs);
        if (mp.Type === 'volume') pending.push({ mp, copy: p.copyData });
      };
      for (const raw of req.binds ?? []) {
        const p = parseBind(raw, req.volumeDriver ?? '');
        await take(p, p.destination);
      }
      for (const m of req.mounts ?? []) {
        const p = parseApiMount(m);
        if (p.bindSourceMustExist && !(await lstat(p.source).then(() => true, () => false))) {
          throw invalid(`invalid mount config for type "bind": bind source path does not exist: ${p.source}`);
        }
        await take(p, m.Target ?? '', p.volumeLabels, p.volumeOptions);
      }

      const anonymous = [...new Set(req.anonymous.map(cleanPath))].filter((d) => !points.has(d) && !tmpfsDests.has(d));
      for (const dest of anonymous) validateDestination(dest);
      const copies = pending.filter((c) => c.copy);
      if (anonymous.length > 0 || copies.length > 0) {
        await ctx.withRootfs(async (rootfs) => {
          for (const dest of anonymous) {
            const at = await pathInRootfs(rootfs, dest);
            const st = await lstat(at).catch(() => null);
            if (st && !st.isDirectory()) throw invalid(`cannot mount volume over existing file, file exists ${at}`);
            const v = await this.volumes.create('', { driver: req.volumeDriver || undefined, ref: id });
            created.push(v.Name);
            refs.push(v.Name);
            const mp: StoredMountPoint = { Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: dest, Driver: 'local', Mode: '', RW: true, Propagation: '', Anonymous: true };
            points.set(dest, mp);
            copies.push({ mp, copy: true });
          }
          // A volume with its own filesystem is mounted for the copy (moby's populateVolume).
          for (const { mp } of copies) {
            const dir = await this.volumes.activate(mp.Name, id);
            try {
              await copyImageContent(rootfs, mp.Destination, dir);
            } finally {
              await this.volumes.deactivate(mp.Name, id);
            }
          }
        });
      }
    } catch (err) {
      for (const name of refs) this.volumes.releaseRef(name, id);
      for (const name of created) await this.volumes.remove(name, { force: true }).catch(() => {});
      throw err;
    }
    return [...points.values()].sort((a, b) => (a.Destination < b.Destination ? -1 : 1));
  }

  // A later source for the same destination wins; the earlier one's volume is released.
  private replace(points: Map<string, StoredMountPoint>, mp: StoredMountPoint, id: string, refs: string[]): void {
    const old = points.get(mp.Destination);
    if (old?.Type === 'volume' && old.Name !== mp.Name) {
      const i = refs.indexOf(old.Name);
      if (i >= 0) refs.splice(i, 1);
      this.volumes.releaseRef(old.Name, id);
    }
    points.set(mp.Destination, mp);
  }

  private async mountPoint(
    p: ParsedMount,
    id: string,
    labels: Record<string, string> | null | undefined,
    options: Record<string, string> | null | undefined,
    created: string[],
    refs: string[],
  ): Promise<StoredMountPoint> {
    const common = { Destination: p.destination, RW: p.rw };
    if (p.type === 'bind') {
      return { ...common, Type: 'bind', Name: '', Source: p.source, Driver: '', Mode: p.mode, Propagation: p.propagation, CreateSource: p.createSource || undefined, NonRecursive: p.nonRecursive || undefined };
    }
    if (p.type === 'tmpfs') return { ...common, Type: 'tmpfs', Name: '', Source: '', Driver: '', Mode: '', Propagation: '', TmpfsOptions: p.tmpfsOptions };
    const existed = p.source !== '' && this.volumes.has(p.source);
    const v = await this.volumes.create(p.source, { driver: p.driver || undefined, labels, options, ref: id });
    if (!existed) created.push(v.Name);
    refs.push(v.Name);
    // moby's setBindModeIfNull: local volumes get the shared SELinux label mode.
    return { ...common, Type: 'volume', Name: v.Name, Source: v.Mountpoint, Driver: v.Driver, Mode: p.mode || 'z', Propagation: '', Anonymous: p.source === '' || undefined };
  }

  // The OCI mounts for a start, in an order where no mount hides another (parents first).
  async specMounts(id: string, points: readonly StoredMountPoint[], tmpfs: Record<string, string> | null | undefined): Promise<SpecMount[]> {
    const out: SpecMount[] = [];
    const taken = new Set(points.map((p) => p.Destination));
    for (const mp of points) {
      if (mp.Type === 'tmpfs') {
        out.push(tmpfsMount(mp.Destination, mp.TmpfsOptions ?? ''));
        continue;
      }
      if (mp.Type === 'volume') {
        if (!this.volumes.has(mp.Name)) throw new BerthError('NotFound', `get ${mp.Name}: no such volume`);
        out.push(bindMount(await this.volumes.activate(mp.Name, id), mp));
        this.events.emit('volume', 'mount', mp.Name, { driver: mp.Driver, container: id, destination: mp.Destination, 'read/write': String(mp.RW), propagation: mp.Propagation });
        continue;
      }
      // -v /host/dir that is not there yet: made as Docker makes it (a directory).
      if (mp.CreateSource) {
        await mkdir(mp.Source, { recursive: true, mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST' && err.code !== 'ENOTDIR') throw invalid(`error while creating mount source path '${mp.Source}': ${err.message}`);
        });
      }
      const isDir = await stat(mp.Source).then((st) => st.isDirectory(), () => true);
      out.push(bindMount(mp.Source, mp, isDir));
    }
    for (const [dest, data] of Object.entries(tmpfs ?? {})) {
      if (!taken.has(cleanPath(dest))) out.push(tmpfsMount(cleanPath(dest), data));
    }
    return sortMounts(out);
  }

  // After a start that failed, or an exit: volumes mounted for the container are let go of,
  // each with the unmount event Docker sends at a container's cleanup.
  async stopped(id: string, points: readonly StoredMountPoint[] | undefined): Promise<void> {
    for (const mp of points ?? []) {
      if (mp.Type !== 'volume') continue;
      await this.volumes.deactivate(mp.Name, id);
      this.events.emit('volume', 'unmount', mp.Name, { driver: mp.Driver, container: id });
    }
  }

  // At remove: the container lets go of its volumes; with -v its anonymous ones go too,
  // unless another container still uses them.
  async release(id: string, points: readonly StoredMountPoint[] | undefined, removeAnonymous: boolean): Promise<void> {
    for (const mp of points ?? []) {
      if (mp.Type !== 'volume') continue;
      await this.volumes.deactivate(mp.Name, id);
      this.volumes.releaseRef(mp.Name, id);
      if (!removeAnonymous || !mp.Anonymous) continue;
      await this.volumes.remove(mp.Name, { force: true }).catch(() => {});
    }
  }

  // At start-up: the references of containers read from disk, and the volume mounts of
  // those that kept running.
  restore(id: string, points: readonly StoredMountPoint[] | undefined, running: boolean): void {
    for (const mp of points ?? []) {
      if (mp.Type !== 'volume' || !this.volumes.has(mp.Name)) continue;
      this.volumes.addRef(mp.Name, id);
      if (running) this.volumes.markActive(mp.Name, id);
    }
  }
}

function bindMount(source: string, mp: MountPoint, isDir = true): SpecMount {
  const options = [mp.NonRecursive ? 'bind' : 'rbind'];
  // rro: read-only all the way down, so no submount of the source stays writable. A file
  // has no submounts, and crun 1.8 fails on rro for one ("open mount target: Not a directory").
  if (!mp.RW) options.push(mp.NonRecursive || !isDir ? 'ro' : 'rro');
  if (mp.Propagation) options.push(mp.Propagation);
  return { destination: mp.Destination, type: 'bind', source, options };
}

function tmpfsMount(destination: string, data: string): SpecMount {
  const options = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...data.split(',').filter((o) => o !== '')]);
  return { destination, type: 'tmpfs', source: 'tmpfs', options };
}

// moby's sortMounts: by the number of path components, so /a is mounted before /a/b.
export function sortMounts<T extends { destination: string }>(mounts: T[]): T[] {
  const depth = (p: string): number => (cleanPath(p).match(/\//g) ?? []).length;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
}
