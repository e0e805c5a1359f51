import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { EventBus } from '../daemon/events.js';
import type { GraphDriverData, LayerInfo, LayerStore } from '../storage/types.js';
import { conflict, invalid, systemError } from '../util/errors.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { bootstrapBusybox, type BaseImage } from './bootstrap-busybox.js';
import { bootstrapDebian } from './bootstrap-debian.js';
import { bootstrapRegistry } from './bootstrap-registry.js';
import { applyChanges } from './changes.js';
import { dockerContainerConfig, imageConfigBytes } from './config-shape.js';
import { ContentStore } from './content-store.js';
import { chainIds } from './digest.js';
import { deleteImage, type DeleteContext } from './image-delete.js';
import { danglingFilter, filterValues, hasFilter, matchKVList, matchLabels, validateFilters } from './image-filters.js';
import { ImageStore, type StoredImage } from './image-store.js';
import { GO_OS, goArch } from './platform.js';
import {
  familiarString,
  parseNormalizedNamed,
  referenceMatches,
  refString,
  trimNamed,
  withTag,
  type NamedRef,
} from './reference.js';
import { normaliseRfc3339, nowRfc3339Nano, parseFilterTimestamp, unixSeconds, ZERO_TIME } from './time.js';
import type {
  ContainerConfig,
  DeleteItem,
  Filters,
  HistoryItem,
  ImageConfig,
  ImageInspect,
  ImageSummary,
  PruneReport,
} from './types.js';

// The image side of the engine: every answer in the Engine API's JSON shapes, so the
// API routes only decode requests and encode what comes back.

export interface ImageServiceDeps {
  dataRoot: string;
  layers: LayerStore;
  events: EventBus;
  // Containers created from an image (rmi conflicts).
  containersUsing: (imageId: string) => Promise<Array<{ id: string; running: boolean }>>;
  // Chain IDs container layers sit on: garbage collection keeps them.
  layersInUse: () => Promise<Set<string>>;
  // Recorded as docker_version in images berth creates (omitted when empty).
  engineVersion?: string;
}

export interface ListOptions {
  all?: boolean;
  filters?: Filters;
  digests?: boolean; // display-only in the CLI; accepted for symmetry
  apiVersion?: string; // shapes differ before 1.43 (<none> placeholders) and 1.44 (VirtualSize)
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes?: string[];
  message?: string;
  source?: string; // fromSrc: "-" for a request body, else a URL or file name
}

export interface CreateImageOptions {
  parent?: string; // the image this one was built or committed on
  tags?: string[]; // references to point at it ("name", "name:tag")
}

export interface BootstrapOptions {
  tag?: string;
  suite?: string;
  include?: string[];
}

const LIST_FILTERS = ['dangling', 'label', 'before', 'since', 'reference'];
const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until'];
const LOCK = 'images';

export class ImageService {
  readonly content: ContentStore;
  readonly store: ImageStore;
  private readonly lock = new KeyedLock();
  private readonly layerSizes = new Map<string, number>();
  private leases = 0;
  private gcPending = false;
  private deferredGc: Promise<unknown> = Promise.resolve();
  private pruning = false;

  constructor(private readonly deps: ImageServiceDeps) {
    this.content = new ContentStore(deps.dataRoot);
    this.store = new ImageStore(deps.dataRoot, this.content);
  }

  async init(): Promise<void> {
    await this.content.init();
    await this.store.init();
  }

  count(): number {
    return this.store.all().length;
  }

  // What users type → the stored image (NotFound "No such image: …" otherwise).
  resolve(name: string): StoredImage {
    return this.store.resolve(name);
  }

  imageId(name: string): string | null {
    try {
      return this.store.resolve(name).id;
    } catch {
      return null;
    }
  }

  async resolveForRun(name: string): Promise<{ id: string; config: ContainerConfig; topChainId: string | null }> {
    const img = this.store.resolve(name);
    return { id: img.id, config: img.config.config ?? {}, topChainId: img.topChainId };
  }

  // `ps --filter ancestor=<name>`: the image itself or any image built on it.
  async matches(imageId: string, nameOrId: string): Promise<boolean> {
    let wanted: string;
    try {
      wanted = this.store.resolve(nameOrId).id;
    } catch {
      return false;
    }
    for (let id: string | undefined = imageId; id; id = this.store.get(id)?.parent) {
      if (id === wanted) return true;
    }
    return false;
  }

  async list(opts: ListOptions = {}): Promise<ImageSummary[]> {
    const filters = opts.filters ?? {};
    validateFilters(filters, LIST_FILTERS);
    const danglingOnly = danglingFilter(filters, false) === true;
    const apiVersion = opts.apiVersion ?? '1.41';
    let before: StoredImage | undefined;
    let since: StoredImage | undefined;
    for (const v of filterValues(filters, 'before')) before = this.store.resolve(v);
    for (const v of filterValues(filters, 'since')) since = this.store.resolve(v);
    const patterns = filterValues(filters, 'reference');

    const out: Array<{ summary: ImageSummary; created: bigint; id: string }> = [];
    for (const img of danglingOnly ? this.store.heads() : this.store.all()) {
      if (before && img.createdNs >= before.createdNs) continue;
      if (since && img.createdNs <= since.createdNs) continue;
      if (hasFilter(filters, 'label') && (!img.config.config || !matchKVList(filters, 'label', img.config.config.Labels))) {
        continue;
      }
      const size = await this.imageSize(img);
      if (size === null) continue; // its layers are gone (deleted meanwhile)

      let tags: string[] | null = null;
      let digests: string[] | null = null;
      for (const ref of this.store.refs.references(img.id)) {
        if (patterns.length && !patterns.some((p) => referenceMatches(p, ref))) continue;
        if (ref.digest !== undefined) (digests ??= []).push(familiarString(ref));
        if (ref.tag !== undefined) (tags ??= []).push(familiarString(ref));
      }
      if (!tags && !digests) {
        // Untagged: shown when dangling (no children) or with -a, never under reference=.
        if (!opts.all && this.store.children(img.id).length > 0) continue;
        if (hasFilter(filters, 'dangling') && !danglingOnly) continue;
        if (patterns.length) continue;
      } else if (danglingOnly && tags) {
        continue;
      }

      if (versionLess(apiVersion, '1.43')) {
        if (!tags && !digests) {
          tags = ['<none>:<none>'];
          digests = ['<none>@<none>'];
        }
      } else {
        tags ??= [];
        digests ??= [];
      }
      const summary: ImageSummary = {
        Containers: -1,
        Created: unixSeconds(img.config.created),
        Id: img.id,
        Labels: img.config.config?.Labels ?? null,
        ParentId: img.parent,
        RepoDigests: digests,
        RepoTags: tags,
        SharedSize: -1,
        Size: size,
      };
      if (versionLess(apiVersion, '1.44')) summary.VirtualSize = size;
      out.push({ summary, created: img.createdNs, id: img.id });
    }
    out.sort((a, b) => (a.created === b.created ? (a.id < b.id ? -1 : 1) : a.created > b.created ? -1 : 1));
    return out.map((o) => o.summary);
  }

  async inspect(name: string): Promise<ImageInspect> {
    const img = this.store.resolve(name);
    const c = img.config;
    const repoTags: string[] = [];
    const repoDigests: string[] = [];
    for (const ref of this.store.refs.references(img.id)) {
      if (ref.digest !== undefined) repoDigests.push(familiarString(ref));
      else if (ref.tag !== undefined) repoTags.push(familiarString(ref));
    }
    const size = (await this.imageSize(img)) ?? 0;
    const graphData = img.topChainId ? graphDriverData(await this.deps.layers.graphDriver(img.topChainId)) : null;
    const history = c.history ?? [];
    return {
      Id: img.id,
      RepoTags: repoTags,
      RepoDigests: repoDigests,
      Parent: img.parent,
      Comment: c.comment || history[history.length - 1]?.comment || '',
      Created: normaliseRfc3339(c.created),
      Container: c.container ?? '',
      ContainerConfig: dockerContainerConfig(c.container_config),
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: c.config ? dockerContainerConfig(c.config) : null,
      Architecture: c.architecture ?? '',
      ...(c.variant ? { Variant: c.variant } : {}),
      Os: c.os || GO_OS,
      ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
      Size: size,
      VirtualSize: size,
      GraphDriver: { Name: 'overlay2', Data: graphData },
      RootFS: c.rootfs.diff_ids?.length ? { Type: c.rootfs.type, Layers: c.rootfs.diff_ids } : { Type: c.rootfs.type },
      Metadata: { LastTagTime: img.lastUpdated || ZERO_TIME },
    };
  }

  async history(name: string): Promise<HistoryItem[]> {
    const img = this.store.resolve(name);
    const diffIds = img.config.rootfs.diff_ids ?? [];
    const chains = chainIds(diffIds);
    const items: HistoryItem[] = [];
    let layer = 0;
    for (const h of img.config.history ?? []) {
      let size = 0;
      if (!h.empty_layer) {
        if (layer >= diffIds.length) throw systemError('too many non-empty layers in History section');
        size = await this.layerSize(chains[layer]);
        layer++;
      }
      items.unshift({
        Id: '<missing>',
        Created: unixSeconds(h.created),
        CreatedBy: h.created_by ?? '',
        Tags: null,
        Size: size,
        Comment: h.comment ?? '',
      });
    }
    // Each step down is the parent image, as long as this daemon has it.
    let cur: StoredImage | undefined = img;
    for (const item of items) {
      if (!cur) break;
      item.Id = cur.id;
      const tags = this.store.refs
        .references(cur.id)
        .filter((r) => r.tag !== undefined)
        .map(familiarString);
      item.Tags = tags.length ? tags : null;
      cur = cur.parent ? this.store.get(cur.parent) : undefined;
    }
    return items;
  }

  // POST /images/{name}/tag
  async tag(source: string, repo: string, tag = ''): Promise<void> {
    await this.lock.run(LOCK, async () => {
      const img = this.store.resolve(source);
      let ref = parseNormalizedNamed(repo);
      if (tag) ref = withTag(trimNamed(ref), tag);
      await this.addTag(img, ref);
    });
  }

  // DELETE /images/{name}
  async remove(name: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<DeleteItem[]> {
    return this.lock.run(LOCK, () => deleteImage(this.deleteContext(), name, !!opts.force, !opts.noprune));
  }

  // POST /images/prune: dangling images, or (all / dangling=false) every unused one.
  async prune(opts: { all?: boolean; filters?: Filters } = {}): Promise<PruneReport> {
    if (this.pruning) throw conflict('a prune operation is already running');
    this.pruning = true;
    try {
      return await this.lock.run(LOCK, () => this.pruneLocked(opts.filters ?? {}, !!opts.all));
    } finally {
      this.pruning = false;
    }
  }

  private async pruneLocked(filters: Filters, all: boolean): Promise<PruneReport> {
    validateFilters(filters, PRUNE_FILTERS);
    const dangling = danglingFilter(filters, true);
    const danglingOnly = dangling ?? !all;
    const untilValues = filterValues(filters, 'until');
    if (untilValues.length > 1) throw invalid('more than one until filter specified');
    const until = untilValues.length ? parseFilterTimestamp(untilValues[0]) : null;

    const sizes = new Map((await this.deps.layers.list()).map((l) => [l.chainId, l.size]));
    const candidates = (danglingOnly ? this.store.heads() : this.store.all()).filter((img) => {
      const refs = this.store.refs.references(img.id);
      if (refs.length === 0 && this.store.children(img.id).length > 0) return false;
      if (until !== null && img.createdNs > until) return false;
      if (img.config.config && !matchLabels(filters, img.config.config.Labels)) return false;
      return true;
    });

    const deleted: DeleteItem[] = [];
    const ctx = this.deleteContext();
    for (const img of candidates) {
      if (!this.store.get(img.id)) continue; // went with an earlier one
      const refs = this.store.refs.references(img.id);
      const targets: string[] = [];
      if (refs.length === 0) targets.push(img.id.slice('sha256:'.length));
      else if (!danglingOnly || !refs.some((r) => r.tag !== undefined)) targets.push(...refs.map(refString));
      for (const t of targets) {
        try {
          deleted.push(...(await deleteImage(ctx, t, false, true)));
        } catch {
          // Conflicts (and anything else) leave that image alone, as dockerd does.
        }
      }
    }
    // Layers left behind by removed containers go too: prune frees what it can.
    for (const chain of await this.collectLayers(null)) deleted.push({ Deleted: chain });
    let reclaimed = 0;
    for (const d of deleted) if ('Deleted' in d) reclaimed += sizes.get(d.Deleted) ?? 0;
    this.deps.events.emit('image', 'prune', '', { reclaimed: String(reclaimed) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  }

  // POST /images/create?fromSrc=…: the (plain or gzip) tar becomes a one-layer image.
  async importImage(tar: Readable, opts: ImportOptions = {}): Promise<string> {
    let ref: NamedRef | null = null;
    if (opts.repo) {
      ref = parseNormalizedNamed(opts.repo);
      if (ref.digest !== undefined) throw invalid('cannot import digest reference');
      if (opts.tag) ref = withTag(ref, opts.tag);
    }
    const config = applyChanges({}, opts.changes ?? []);
    const message = opts.message || `Imported from ${opts.source ?? '-'}`;
    return this.withLayerLease(async () => {
      const layer = await this.deps.layers.register(tar, null);
      const created = nowRfc3339Nano();
      const image: ImageConfig = {
        architecture: goArch(),
        comment: message,
        config: dockerContainerConfig(config),
        container_config: dockerContainerConfig(),
        created,
        docker_version: this.deps.engineVersion || undefined,
        history: [{ created, comment: message }],
        os: GO_OS,
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      };
      const id = await this.createImage(image, { tags: ref ? [refString(ref)] : [] });
      this.event('import', id, id);
      return id;
    });
  }

  // The building block import, commit, build and load share: stores the config (its
  // bytes define the ID), checks its layers are registered, links the parent, tags.
  // Pass bytes to keep a config exactly as received (docker load, pull).
  async createImage(config: ImageConfig | Uint8Array, opts: CreateImageOptions = {}): Promise<string> {
    const bytes = config instanceof Uint8Array ? config : imageConfigBytes(config);
    return this.lock.run(LOCK, async () => {
      const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as ImageConfig;
      const top = chainIds(parsed.rootfs?.diff_ids ?? []).pop();
      if (top && !(await this.deps.layers.get(top))) {
        throw systemError(`failed to get layer ${top}: layer does not exist`);
      }
      if (opts.parent && !this.store.get(opts.parent)) throw invalid(`No such image: ${opts.parent}`);
      const img = await this.store.create(bytes, opts.parent ?? '');
      for (const t of opts.tags ?? []) await this.addTag(img, parseNormalizedNamed(t));
      return img.id;
    });
  }

  // Offline base images: busybox from busybox-static, debian:<suite> via debootstrap,
  // registry (berth's registry server on the host's node; tagged :latest and :2).
  async bootstrap(kind: 'busybox' | 'debian' | 'registry', opts: BootstrapOptions, progress: (line: string) => void): Promise<string> {
    const tags = opts.tag
      ? [opts.tag]
      : kind === 'busybox'
        ? ['busybox:latest']
        : kind === 'registry'
          ? ['registry:latest', 'registry:2']
          : [`debian:${opts.suite ?? 'bookworm'}`];
    for (const tag of tags) parseNormalizedNamed(tag); // fail before minutes of debootstrap, not after
    let base: BaseImage;
    if (kind === 'busybox') {
      progress('Building busybox from /bin/busybox (busybox-static)');
      base = await bootstrapBusybox();
    } else if (kind === 'registry') {
      progress('Building registry from the host node binary and dist/registry.mjs');
      base = await bootstrapRegistry();
    } else {
      base = await bootstrapDebian(
        { suite: opts.suite, include: opts.include, workDir: join(this.deps.dataRoot, 'tmp') },
        progress,
      );
    }
    try {
      return await this.withLayerLease(async () => {
        progress('Registering layer');
        const layer = await this.deps.layers.register(base.tar, null);
        const config: ImageConfig = { ...base.config, rootfs: { type: 'layers', diff_ids: [layer.diffId] } };
        const id = await this.createImage(config, { tags });
        this.event('import', id, id);
        for (const tag of tags) progress(`Tagged ${familiarString(parseNormalizedNamed(tag))}`);
        return id;
      });
    } finally {
      base.tar.destroy();
      await base.cleanup?.();
    }
  }

  // Pull and push record where an image came from and went to: tags and name@digest
  // references, without the "tag" events `docker tag` logs (dockerd logs only the pull).
  // A digest reference already pointing elsewhere is left alone, as dockerd leaves it.
  async addReferences(id: string, refs: NamedRef[]): Promise<void> {
    await this.lock.run(LOCK, async () => {
      for (const ref of refs) {
        if (ref.digest === undefined) await this.store.refs.addTag(ref, id, true);
        else if (this.store.refs.get(ref) === undefined) await this.store.refs.addDigest(ref, id, true);
      }
    });
  }

  // Layers registered for an image not yet created must survive a concurrent rmi's GC:
  // while any lease is held, garbage collection is deferred to the last release.
  async withLayerLease<T>(fn: () => Promise<T>): Promise<T> {
    this.leases++;
    try {
      return await fn();
    } finally {
      this.leases--;
      if (this.leases === 0 && this.gcPending) {
        this.gcPending = false;
        this.deferredGc = this.lock.run(LOCK, () => this.collectLayers(null)).catch(() => {});
      }
    }
  }

  // Resolves once a garbage collection deferred by leases has run (tests, shutdown).
  async settled(): Promise<void> {
    await this.deferredGc;
  }

  // Removes every layer that neither an image nor a container needs.
  async collectLayers(deleted: StoredImage | null): Promise<string[]> {
    if (this.leases > 0) {
      this.gcPending = true;
      return [];
    }
    const keep = new Set(await this.deps.layersInUse());
    for (const img of this.store.all()) if (img.topChainId) keep.add(img.topChainId);
    const removed = new Set(await this.deps.layers.removeUnreferenced(keep));
    for (const c of removed) this.layerSizes.delete(c);
    // dockerd lists a deleted image's layers from its top down.
    const ordered = deleted ? chainIds(deleted.config.rootfs.diff_ids ?? []).reverse().filter((c) => removed.has(c)) : [];
    return [...ordered, ...[...removed].filter((c) => !ordered.includes(c))];
  }

  private deleteContext(): DeleteContext {
    return {
      store: this.store,
      containersUsing: (id) => this.deps.containersUsing(id),
      event: (action, img) => this.event(action, img.id, img.id, action === 'delete' ? undefined : img),
      collectLayers: (img) => this.collectLayers(img),
    };
  }

  private async addTag(img: StoredImage, ref: NamedRef): Promise<void> {
    await this.store.refs.addTag(ref, img.id, true);
    await this.store.setLastUpdated(img.id, nowRfc3339Nano());
    this.event('tag', img.id, familiarString(ref), img);
  }

  // dockerd's LogImageEvent: the image's labels plus name, while the image exists.
  private event(action: string, id: string, name: string, img?: StoredImage): void {
    const labels = (img ?? this.store.get(id))?.config.config?.Labels ?? {};
    this.deps.events.emit('image', action, id, { ...labels, name });
  }

  private async layerSize(chainId: string): Promise<number> {
    const cached = this.layerSizes.get(chainId);
    if (cached !== undefined) return cached;
    const info: LayerInfo | null = await this.deps.layers.get(chainId);
    if (!info) return 0;
    this.layerSizes.set(chainId, info.size);
    return info.size;
  }

  // Sum of the image's layers; null when its top layer is missing.
  private async imageSize(img: StoredImage): Promise<number | null> {
    if (!img.topChainId) return 0;
    if (!this.layerSizes.has(img.topChainId) && !(await this.deps.layers.get(img.topChainId))) return null;
    let total = 0;
    for (const c of chainIds(img.config.rootfs.diff_ids ?? [])) total += await this.layerSize(c);
    return total;
  }
}

function graphDriverData(d: GraphDriverData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === 'string') out[k] = v;
  return out;
}

// Engine API versions compare numerically per component ("1.9" < "1.41").
export function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}
