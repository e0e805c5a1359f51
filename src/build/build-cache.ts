import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredImage } from '../image/image-store.js';
import type { ContainerConfig } from '../image/types.js';
import { writeJsonAtomic } from '../util/atomic-write.js';

// The legacy builder's cache (moby image/cache): a step is a hit when an image built here
// is a child of the current image and was made by the same step — its ContainerConfig
// (the "#(nop)" comment or the RUN command, env, user, workdir...) equals the step's.
// Once a step misses, every later step of the stage misses too. The index of images made
// by builds lives in <dataRoot>/builder/: it is what `builder prune` removes and what a
// FROM scratch build looks for among parentless images.

export interface CacheImageStore {
  get(id: string): StoredImage | undefined;
  children(id: string): string[];
  all(): StoredImage[];
}

export interface Platform {
  os: string;
  architecture: string;
}

export class BuildCacheIndex {
  private ids = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;

  constructor(private readonly dir: string) {}

  private get file(): string {
    return join(this.dir, 'built-images.json');
  }

  async init(): Promise<void> {
    try {
      const list = JSON.parse(await readFile(this.file, 'utf8')) as unknown;
      if (Array.isArray(list)) this.ids = new Set(list.filter((x): x is string => typeof x === 'string'));
    } catch {
      this.ids = new Set();
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  all(): string[] {
    return [...this.ids];
  }

  add(id: string): Promise<void> {
    if (this.ids.has(id)) return this.writing;
    this.ids.add(id);
    return this.persist();
  }

  // Drops what the image store no longer has (deleted by rmi or prune).
  forget(exists: (id: string) => boolean): Promise<void> {
    const before = this.ids.size;
    for (const id of this.ids) if (!exists(id)) this.ids.delete(id);
    return this.ids.size === before ? this.writing : this.persist();
  }

  // The last write, once every change made so far is on disk; rejects if it failed.
  flush(): Promise<void> {
    return this.writing;
  }

  // Writes one after another, each with the set as it is when it starts; changes made
  // while one is waiting to start share it (a build's steps add images faster than a
  // synced write completes on a busy disk).
  private persist(): Promise<void> {
    if (this.queued) return this.queued;
    const write = (): Promise<void> => {
      this.queued = null;
      return writeJsonAtomic(this.file, [...this.ids]);
    };
    this.queued = this.writing.then(write, write);
    this.writing = this.queued;
    return this.queued;
  }
}

// moby image/cache compare: the fields that make a step's result, not the container's
// identity (Image, Hostname, Domainname, MacAddress are left out).
export function sameStepConfig(a: ContainerConfig | undefined, b: ContainerConfig | undefined): boolean {
  if (!a || !b) return false;
  const list = (x: readonly string[] | null | undefined): readonly string[] => x ?? [];
  const sameList = (x: readonly string[] | null | undefined, y: readonly string[] | null | undefined): boolean =>
    list(x).length === list(y).length && list(x).every((v, i) => v === list(y)[i]);
  const keys = (x: Record<string, unknown> | null | undefined): string[] => Object.keys(x ?? {});
  const sameKeys = (x: Record<string, unknown> | null | undefined, y: Record<string, unknown> | null | undefined): boolean =>
    keys(x).length === keys(y).length && keys(x).every((k) => k in (y ?? {}));
  if (!sameList(a.Env, b.Env) || !sameList(a.Cmd, b.Cmd) || !sameList(a.Entrypoint, b.Entrypoint)) return false;
  if (!sameList(a.Shell, b.Shell) || !sameList(a.OnBuild, b.OnBuild)) return false;
  if (!sameKeys(a.ExposedPorts, b.ExposedPorts) || !sameKeys(a.Volumes, b.Volumes)) return false;
  const la = a.Labels ?? {};
  const lb = b.Labels ?? {};
  if (keys(la).length !== keys(lb).length || keys(la).some((k) => la[k] !== lb[k])) return false;
  const flags = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'NetworkDisabled', 'Tty', 'OpenStdin', 'StdinOnce', 'ArgsEscaped'] as const;
  if (flags.some((f) => (a[f] ?? false) !== (b[f] ?? false))) return false;
  if ((a.User ?? '') !== (b.User ?? '') || (a.WorkingDir ?? '') !== (b.WorkingDir ?? '') || (a.StopSignal ?? '') !== (b.StopSignal ?? '')) return false;
  if ((a.StopTimeout ?? null) !== (b.StopTimeout ?? null)) return false;
  const ha = a.Healthcheck;
  const hb = b.Healthcheck;
  if (!ha || !hb) return !ha && !hb;
  const hk = ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const;
  if (hk.some((k) => (ha[k] ?? 0) !== (hb[k] ?? 0))) return false;
  const si = (h: typeof ha): number => (h as { StartInterval?: number }).StartInterval ?? 0;
  return si(ha) === si(hb) && sameList(ha.Test, hb.Test);
}

// The newest image built here on parentId (or, for "", with no parent) by the same step.
export function findCachedImage(store: CacheImageStore, index: BuildCacheIndex, parentId: string, config: ContainerConfig, platform: Platform): string {
  const candidates = parentId ? store.children(parentId) : store.all().filter((i) => !i.parent).map((i) => i.id);
  let match: StoredImage | undefined;
  for (const id of candidates) {
    if (!index.has(id)) continue;
    const img = store.get(id);
    if (!img) continue;
    const os = img.config.os ?? '';
    const arch = img.config.architecture ?? '';
    // moby discards images with no platform, and those of another one.
    if ((os === '' && arch === '') || os !== platform.os || arch !== platform.architecture) continue;
    if (!sameStepConfig(img.config.container_config, config)) continue;
    if (!match || img.createdNs > match.createdNs) match = img;
  }
  return match?.id ?? '';
}

// One per stage, as moby's imageProber: after a miss the rest of the stage misses.
export class CacheProber {
  private busted = false;

  constructor(private readonly lookup: ((parentId: string, config: ContainerConfig) => Promise<string>) | null) {}

  reset(): void {
    this.busted = false;
  }

  async probe(parentId: string, config: ContainerConfig): Promise<string> {
    if (!this.lookup || this.busted) return '';
    const id = await this.lookup(parentId, config);
    if (id === '') this.busted = true;
    return id;
  }
}
