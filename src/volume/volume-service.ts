import type { EventBus } from '../daemon/events.js';
import { BerthError, conflict, notFound } from '../util/errors.js';
import { newId } from '../util/ids.js';
import { diskUsage } from '../storage/disk-usage.js';
import { VolumeStore, type StoredVolume } from './volume-store.js';
import { validateVolumeName } from './volume-names.js';
import { deviceMount, validateLocalOptions } from './local-options.js';
import { mountDevice, unmountDevice } from './device-mount.js';
import { isMountPoint } from '../storage/mounts.js';
import { LIST_FILTERS, PRUNE_FILTERS, pruneFilters, validateFilters, volumeMatches, type Filters } from './volume-filters.js';
import { ANONYMOUS_LABEL, type DeviceMount, type Volume } from './types.js';
import { sortedMap } from '../util/sorted-map.js';

export interface CreateVolumeOptions {
  driver?: string;
  labels?: Record<string, string> | null;
  options?: Record<string, string> | null;
  ref?: string; // the container that will use it, counted before anyone can remove it
}

export interface PruneReport {
  VolumesDeleted: string[];
  SpaceReclaimed: number;
}

const nowRfc3339 = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

// Only the local driver exists here; moby's answer for a plugin it cannot find.
function driverCheck(name: string, driver: string | undefined): void {
  if (driver && driver !== 'local') throw notFound(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
}

// Volumes of the local driver, with moby's volume service semantics: names are unique,
// a volume in use by any container (running or not) cannot be removed, and who uses
// what is counted in memory (rebuilt from the container records at start-up).
export class VolumeService {
  private readonly store: VolumeStore;
  private readonly volumes = new Map<string, StoredVolume>();
  private readonly refs = new Map<string, Set<string>>();
  // Running containers of each volume whose own filesystem is mounted at _data (moby's
  // local driver active count): mounted for the first, unmounted after the last.
  private readonly active = new Map<string, Set<string>>();
  // Names being created or removed right now: a second create waits for the first.
  private readonly busy = new Map<string, Promise<unknown>>();
  private pruning = false;

  constructor(private readonly deps: { root: string; events: EventBus }) {
    this.store = new VolumeStore(deps.root);
  }

  async init(): Promise<void> {
    for (const v of await this.store.load()) this.volumes.set(v.Name, v);
  }

  private view(v: StoredVolume): Volume {
    return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: this.store.dataPath(v.Name), Name: v.Name, Options: v.Options, Scope: 'local' };
  }

  private async serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    for (let p = this.busy.get(name); p; p = this.busy.get(name)) await p.catch(() => {});
    const run = fn();
    this.busy.set(name, run);
    try {
      return await run;
    } finally {
      this.busy.delete(name);
    }
  }

  // An existing name returns the volume there (Docker ignores differing labels then).
  async create(name: string, opts: CreateVolumeOptions = {}): Promise<Volume> {
    const anonymous = name === '';
    const volName = anonymous ? newId() : name;
    driverCheck(volName, opts.driver);
    try {
      if (!anonymous) validateVolumeName(volName);
      validateLocalOptions(opts.options);
    } catch (err) {
      // moby's volume store wraps what the driver refuses in an OpErr: "create <name>: ...".
      throw err instanceof BerthError ? new BerthError(err.kind, `create ${volName}: ${err.message}`) : err;
    }
    const v = await this.serial(volName, async () => {
      const existing = this.volumes.get(volName);
      if (existing) return existing;
      const labels = anonymous ? { ...(opts.labels ?? {}), [ANONYMOUS_LABEL]: '' } : opts.labels ?? null;
      const stored: StoredVolume = { Name: volName, Driver: 'local', CreatedAt: nowRfc3339(), Labels: sortedMap(labels), Options: sortedMap(opts.options) };
      await this.store.create(stored);
      this.volumes.set(volName, stored);
      this.deps.events.emit('volume', 'create', volName, { driver: 'local' });
      return stored;
    });
    if (opts.ref) this.addRef(volName, opts.ref);
    return this.view(v);
  }

  private stored(name: string, op = 'get'): StoredVolume {
    const v = this.volumes.get(name);
    if (!v) throw notFound(`${op} ${name}: no such volume`);
    return v;
  }

  get(name: string): Volume {
    return this.view(this.stored(name));
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }

  list(filters: Filters = {}): Volume[] {
    validateFilters(filters, LIST_FILTERS);
    return [...this.volumes.values()].filter((v) => volumeMatches(this.facts(v), filters)).map((v) => this.view(v));
  }

  private facts(v: StoredVolume): { name: string; driver: string; labels: Record<string, string> | null; referenced: boolean } {
    return { name: v.Name, driver: v.Driver, labels: v.Labels, referenced: this.references(v.Name).length > 0 };
  }

  // The volume's own mount (type/device options), or null for a plain directory.
  deviceMount(name: string): DeviceMount | null {
    return deviceMount(this.stored(name).Options);
  }

  dataPath(name: string): string {
    return this.store.dataPath(name);
  }

  // ---- mounting ---------------------------------------------------------------------

  // The host path a container binds. A volume with type/device options has its filesystem
  // mounted there once for all the containers that run with it, so they share it (a tmpfs
  // volume too) and the host sees it at Mountpoint, as with Docker.
  async activate(name: string, containerId: string): Promise<string> {
    return this.serial(name, async () => {
      const path = this.dataPath(name);
      const dev = this.deviceMount(name);
      if (!dev) return path;
      let users = this.active.get(name);
      // Mounted with no user known: left by a berthd that stopped while it ran (moby's restoreIfMounted).
      if (!users && !(await isMountPoint(path))) mountDevice(dev, path);
      if (!users) this.active.set(name, (users = new Set()));
      users.add(containerId);
      return path;
    });
  }

  async deactivate(name: string, containerId: string): Promise<void> {
    await this.serial(name, async () => {
      const users = this.active.get(name);
      if (!users?.delete(containerId) || users.size > 0) return;
      this.active.delete(name);
      unmountDevice(this.dataPath(name));
    });
  }

  // At start-up: a container that kept running holds its volume's mount still.
  markActive(name: string, containerId: string): void {
    if (!this.volumes.has(name) || !this.deviceMount(name)) return;
    let users = this.active.get(name);
    if (!users) this.active.set(name, (users = new Set()));
    users.add(containerId);
  }

  isAnonymous(name: string): boolean {
    const labels = this.volumes.get(name)?.Labels;
    return !!labels && ANONYMOUS_LABEL in labels;
  }

  // ---- references -----------------------------------------------------------------

  addRef(name: string, containerId: string): void {
    this.stored(name);
    let set = this.refs.get(name);
    if (!set) this.refs.set(name, (set = new Set()));
    set.add(containerId);
  }

  releaseRef(name: string, containerId: string): void {
    const set = this.refs.get(name);
    set?.delete(containerId);
    if (set && set.size === 0) this.refs.delete(name);
  }

  references(name: string): string[] {
    return [...(this.refs.get(name) ?? [])];
  }

  // ---- remove, prune ----------------------------------------------------------------

  // force: a volume that is not there is no error (moby's WithPurgeOnError).
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.serial(name, async () => {
      if (!this.volumes.has(name)) {
        if (opts.force) return;
        this.stored(name);
      }
      const refs = this.references(name);
      if (refs.length > 0) throw conflict(`remove ${name}: volume is in use - [${refs.join(', ')}]`);
      await this.store.remove(name);
      this.volumes.delete(name);
      this.deps.events.emit('volume', 'destroy', name, { driver: 'local' });
    });
  }

  async prune(filters: Filters = {}): Promise<PruneReport> {
    validateFilters(filters, PRUNE_FILTERS);
    const by = pruneFilters(filters, ANONYMOUS_LABEL);
    if (this.pruning) throw conflict('a prune operation is already running');
    this.pruning = true;
    try {
      const report: PruneReport = { VolumesDeleted: [], SpaceReclaimed: 0 };
      for (const v of [...this.volumes.values()]) {
        // Volumes with driver options hold someone else's filesystem: never pruned.
        if (v.Options && Object.keys(v.Options).length > 0) continue;
        if (!volumeMatches(this.facts(v), { ...by, dangling: ['true'] })) continue;
        const size = await diskUsage(this.store.dataPath(v.Name)).catch(() => 0);
        try {
          await this.remove(v.Name);
        } catch {
          continue; // taken into use meanwhile
        }
        report.VolumesDeleted.push(v.Name);
        report.SpaceReclaimed += size;
      }
      this.deps.events.emit('volume', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
      return report;
    } finally {
      this.pruning = false;
    }
  }

  // For `system df`: every volume with its size and how many containers use it.
  async usage(): Promise<Volume[]> {
    return Promise.all(
      [...this.volumes.values()].map(async (v) => ({
        ...this.view(v),
        UsageData: { Size: await diskUsage(this.store.dataPath(v.Name)).catch(() => -1), RefCount: this.references(v.Name).length },
      })),
    );
  }
}
