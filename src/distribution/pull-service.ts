import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EventBus } from '../daemon/events.js';
import { chainIds, digestError, sha256Digest } from '../image/digest.js';
import {
  familiarName,
  familiarString,
  isNameOnly,
  parseNormalizedNamed,
  refString,
  trimNamed,
  withDigest,
  withTag,
  type NamedRef,
} from '../image/reference.js';
import type { RegisterOptions } from '../image/archive-layer-store.js';
import type { ImageConfig } from '../image/types.js';
import { descriptorKind } from '../image/archive-format.js';
import { plainLayer } from '../storage/layer-decompress.js';
import type { LayerInfo } from '../storage/types.js';
import { BerthError, invalid, systemError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import type { AuthConfig } from './auth-config.js';
import { BlobDownloads, ConsumerFailed, type DownloadEvent } from './blob-download.js';
import type { Endpoint } from './endpoints.js';
import { Limiter } from './limiter.js';
import {
  checkConfigMediaType,
  checkSupportedMediaType,
  layerCompression,
  matchingManifests,
  type LayerCompression,
  noMatchingManifest,
  parseManifest,
  type Descriptor,
  type Manifest,
} from './manifest.js';
import { formatPlatform, hostPlatform, parsePlatform, platformScore, type Platform } from './platform.js';
import { Progress, ProgressPacer, type ProgressSink } from './progress.js';
import type { RegistryClient } from './registry-client.js';
import { translatePullError, TransportError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';
import type { V2MetadataStore } from './v2-metadata.js';

// `docker pull` on the daemon side, after moby's distribution/pull_v2.go: resolve the tag,
// fetch and verify the manifest (picking the platform's entry of a list or index), fetch
// and verify the config, then the layers: those already registered are skipped, the rest
// downloaded three at a time and registered in order as soon as each one and its parent
// are ready. Only then is the image created and tagged, so a pull cut short leaves no image
// pointing at missing layers; layers and complete downloads it left are reused next time.

// What pull needs from the image side.
export interface PullImageStore {
  imageConfig(id: string): ImageConfig | undefined;
  reference(ref: NamedRef): string | undefined;
  labels(id: string): Record<string, string>;
  withLayerLease<T>(fn: () => Promise<T>): Promise<T>;
  createImage(config: Uint8Array): Promise<string>;
  addReferences(id: string, refs: NamedRef[]): Promise<void>;
}

// What pull needs from the layer store.
export interface PullLayerStore {
  get(chainId: string): Promise<LayerInfo | null>;
  // opts.blob: the verified download, kept as the layer's tar (archive-layer-store.ts).
  register(tar: Readable, parentChainId: string | null, expectedDiffId?: string, opts?: RegisterOptions): Promise<LayerInfo>;
  // Overlay2Store.holdCommit: layers registered side by side, committed in order.
  holdCommit(chainId: string, until: Promise<unknown>): () => void;
}

export interface PullServiceDeps {
  registry: RegistryService;
  images: PullImageStore;
  layers: PullLayerStore;
  downloads: BlobDownloads;
  metadata: V2MetadataStore;
  events: EventBus;
  maxConcurrentDownloads?: number;
}

export interface PullOptions {
  tag?: string; // a tag or a digest, as POST /images/create?tag= carries either
  platform?: string; // "linux/amd64"
  auth?: AuthConfig;
}

export interface PullResult {
  ref: NamedRef; // what was pulled (name only for all tags)
  imageId: string | null; // the image a single tag or digest resolved to
  downloaded: boolean; // false: "Image is up to date"
}

// The signature the build executor (FROM) and container create call.
export type PullImageFn = (image: string, opts: PullOptions, progress: ProgressSink) => Promise<PullResult>;

const CONFIG_LIMIT = 32 << 20;

export class PullService {
  private readonly limiter: Limiter;

  constructor(private readonly deps: PullServiceDeps) {
    this.limiter = new Limiter(deps.maxConcurrentDownloads ?? 3);
  }

  // daemon.PullImage: fromImage and tag as the API gives them.
  readonly pullImage: PullImageFn = async (image, opts, sink) => {
    const ref = applyTag(parseNormalizedNamed(image), opts.tag ?? '');
    const wanted = opts.platform ? parsePlatform(opts.platform) : null;
    if (familiarName(ref) === 'scratch') throw new BerthError('Forbidden', "'scratch' is a reserved name");
    const progress = new Progress(sink);
    const puller = new Puller(this.deps, this.limiter, ref, wanted, opts.auth ?? {}, progress);
    let result: PullResult;
    try {
      result = await this.deps.registry.withEndpoints(ref.domain, true, (endpoint) => puller.pull(endpoint));
    } catch (err) {
      throw translatePullError(err, familiarName(ref), familiarString(ref));
    }
    const labels = result.imageId ? this.deps.images.labels(result.imageId) : {};
    this.deps.events.emit('image', 'pull', familiarString(ref), { ...labels, name: familiarName(ref) });
    return result;
  };
}

// reference.WithTag / WithDigest on fromImage, the "tag" being either.
export function applyTag(ref: NamedRef, tag: string): NamedRef {
  if (tag === '') return ref;
  if (digestError(tag) === null) return withDigest(trimNamed(ref), tag);
  return withTag(ref, tag);
}

class Puller {
  private client!: RegistryClient;

  constructor(
    private readonly deps: PullServiceDeps,
    private readonly limiter: Limiter,
    private readonly ref: NamedRef,
    private readonly wanted: Platform | null,
    private readonly auth: AuthConfig,
    private readonly progress: Progress,
  ) {}

  async pull(endpoint: Endpoint): Promise<PullResult> {
    this.client = this.deps.registry.client(endpoint, this.ref.path, this.auth, ['pull']);
    await this.client.ping();
    let downloaded = false;
    let imageId: string | null = null;
    if (!isNameOnly(this.ref)) {
      const r = await this.pullTag(this.ref);
      downloaded = r.updated;
      imageId = r.id;
    } else {
      for (const tag of await this.client.tags()) {
        const r = await this.pullTag(withTag(this.ref, tag));
        downloaded ||= r.updated;
      }
    }
    const shown = familiarString(this.ref);
    this.progress.message('', downloaded ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}`);
    return { ref: this.ref, imageId, downloaded };
  }

  // pullTag: true when a layer was downloaded or the tag now points elsewhere.
  private async pullTag(ref: NamedRef): Promise<{ updated: boolean; id: string }> {
    let digest: string;
    let tagOrDigest: string;
    if (ref.digest !== undefined) {
      digest = ref.digest;
      tagOrDigest = ref.digest;
    } else {
      digest = (await this.client.resolveTag(ref.tag!)).digest;
      tagOrDigest = ref.tag!;
    }
    const top = await this.fetchManifest(digest, ref);
    if (top.kind === 'image') checkConfigMediaType(top.config.mediaType);
    this.progress.message(tagOrDigest, `Pulling from ${this.ref.path}`);

    const id = top.kind === 'image' ? await this.pullImageManifest(top, this.wanted, false) : await this.pullIndex(top, ref);
    this.progress.message('', `Digest: ${digest}`);

    const images = this.deps.images;
    const digestRef: NamedRef = { ...trimNamed(ref), digest };
    const old = images.reference(ref);
    if (old === id) {
      await images.addReferences(id, [digestRef]);
      return { updated: false, id };
    }
    await images.addReferences(id, ref.digest !== undefined ? [ref] : [digestRef, ref]);
    return { updated: true, id };
  }

  private async fetchManifest(digest: string, ref: NamedRef): Promise<Manifest> {
    const m = await this.client.getManifest(digest);
    if (m.digest !== digest) throw invalid(`manifest verification failed for digest ${digest}`);
    return parseManifest(m.bytes, m.contentType, refString(ref));
  }

  // pullManifestList: the best entry for the platform; entries of unknown kinds (an
  // artifact, an attestation) are skipped as the OCI spec asks.
  private async pullIndex(index: Extract<Manifest, { kind: 'index' }>, ref: NamedRef): Promise<string> {
    const wanted = this.wanted ?? hostPlatform();
    for (const d of matchingManifests(index.manifests, wanted)) {
      const kind = descriptorKind(d.mediaType);
      if (kind === 'layer' || (kind === 'other' && d.mediaType !== '')) continue;
      const m = await this.fetchManifest(d.digest, ref);
      if (m.kind === 'index') return this.pullIndex(m, ref);
      checkConfigMediaType(m.config.mediaType);
      return this.pullImageManifest(m, wanted, true);
    }
    throw noMatchingManifest(wanted);
  }

  // pullSchema2Layers: config, then layers, then the image.
  private async pullImageManifest(m: Extract<Manifest, { kind: 'image' }>, wanted: Platform | null, fromList: boolean): Promise<string> {
    const images = this.deps.images;
    // The image is here already: nothing to fetch.
    const have = images.imageConfig(m.config.digest);
    if (have) {
      if (wanted && !fromList) this.warnPlatform(have, wanted);
      return m.config.digest;
    }
    checkSupportedMediaType(m.config.mediaType);
    for (const l of m.layers) checkSupportedMediaType(l.mediaType);

    const configBytes = await this.fetchConfig(m.config.digest);
    const config = parseConfig(configBytes);
    const diffIds = config.rootfs.diff_ids ?? [];
    if (diffIds.length !== m.layers.length) throw invalid("layers from manifest don't match image configuration");
    if (wanted && !fromList) this.warnPlatform(config, wanted);

    return images.withLayerLease(async () => {
      await this.pullLayers(m.layers, diffIds);
      return images.createImage(configBytes);
    });
  }

  private async fetchConfig(digest: string): Promise<Buffer> {
    let bytes: Buffer | undefined;
    for (let attempt = 1; !bytes; attempt++) {
      try {
        bytes = await this.client.readBlob(digest, CONFIG_LIMIT);
      } catch (err) {
        if (!(err instanceof TransportError) || attempt >= 3) throw invalid(`error pulling image configuration: ${(err as Error).message}`);
      }
    }
    if (sha256Digest(bytes) !== digest) throw invalid(`image config verification failed for digest ${digest}`);
    return bytes;
  }

  // dockerd 20.10 pulls a single-platform image whatever --platform says, and warns.
  private warnPlatform(config: ImageConfig, wanted: Platform): void {
    const actual: Platform = { os: config.os ?? '', architecture: config.architecture ?? '' };
    if (config.variant) actual.variant = config.variant;
    if (platformScore(actual, wanted) > 0) return;
    this.progress.message(
      '',
      `WARNING: image with reference ${familiarName(this.ref)} was found but does not match the specified platform: wanted ${formatPlatform(wanted)}, actual: ${formatPlatform(actual)}`,
    );
  }

  private async pullLayers(layers: Descriptor[], diffIds: string[]): Promise<void> {
    const chains = chainIds(diffIds);
    const repoName = `${this.ref.domain}/${this.ref.path}`;
    const missing: number[] = [];
    for (const [i, l] of layers.entries()) {
      const id = shortId(l.digest);
      if (missing.length === 0 && (await this.deps.layers.get(chains[i]!))) {
        this.progress.update(id, 'Already exists');
        await this.deps.metadata.add(diffIds[i]!, { Digest: l.digest, SourceRepository: repoName });
        continue;
      }
      missing.push(i);
      this.progress.update(id, 'Pulling fs layer');
    }
    if (missing.length === 0) return;

    // Every missing layer downloads (up to the limit) and is extracted aside while it
    // arrives; the store commits each one only once its blob is verified and its parent
    // committed (holdCommit), so the stack still grows bottom up and a layer whose bytes
    // were not verified never shows. dockerd downloads side by side but extracts one
    // layer after another, after its download.
    const jobs: Array<Promise<void>> = [];
    let parentDone: Promise<unknown> = Promise.resolve();
    for (const i of missing) {
      const verified = deferred();
      verified.promise.catch(() => {});
      const release = this.deps.layers.holdCommit(chains[i]!, Promise.all([verified.promise, parentDone]));
      const committed = this.pullLayer(layers[i]!, i === 0 ? null : chains[i - 1]!, diffIds[i]!, verified).finally(release);
      jobs.push(committed.then(() => this.deps.metadata.add(diffIds[i]!, { Digest: layers[i]!.digest, SourceRepository: repoName })));
      parentDone = committed;
    }
    // Nothing may still write once the pull has failed; the lowest failure is the one to tell.
    const settled = await Promise.allSettled(jobs);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
  }

  // One layer: downloaded and extracted at once, committed when the store's hold lets it.
  private async pullLayer(l: Descriptor, parent: string | null, diffId: string, verified: Deferred): Promise<void> {
    const id = shortId(l.digest);
    const total = l.size > 0 ? l.size : 0;
    let extracting: ProgressPacer | null = null;
    let consumed = 0;
    const consume = (bytes: Readable): Promise<LayerInfo> => {
      consumed = 0;
      const onBytes = (n: number): void => {
        consumed += n;
        extracting?.set(consumed);
      };
      const compression = layerCompression(l.mediaType);
      const blob = { path: this.deps.downloads.path(l.digest), digest: l.digest, compression };
      return this.deps.layers.register(plainLayer(counted(bytes, onBytes), compression), parent, diffId, { blob });
    };
    let registered: Promise<LayerInfo> | null = null;
    try {
      await this.limiter.run(
        async () => {
          const t = this.deps.downloads.fetch(this.client, l.digest, l.size, this.downloadEvents(id), consume);
          registered = t.result;
          registered.catch(() => {});
          await t.verified;
        },
        () => this.progress.update(id, 'Waiting'),
      );
    } catch (err) {
      // The hold fails with it, and the extraction has cleaned up before the pull reports.
      verified.reject(err);
      await (registered as Promise<LayerInfo> | null)?.catch(() => {});
      // The extraction's own failure (a bad tar, a wrong diff ID) stopped the download.
      throw err instanceof ConsumerFailed ? registerFailed(err.cause) : err;
    }
    this.progress.update(id, 'Download complete');
    verified.resolve();
    extracting = new ProgressPacer(this.progress, id, 'Extracting', total);
    extracting.set(Math.min(consumed, total));
    try {
      await registered!;
    } catch (err) {
      throw registerFailed(err);
    }
    extracting.finish();
    this.progress.update(id, 'Pull complete');
    await this.deps.downloads.remove(l.digest);
  }

  private downloadEvents(id: string): (e: DownloadEvent) => void {
    let pacer: ProgressPacer | null = null;
    return (e) => {
      if (e.kind === 'bytes') {
        pacer ??= new ProgressPacer(this.progress, id, 'Downloading', e.total);
        if (e.current > 0) pacer.set(e.current);
      } else if (e.kind === 'verifying') {
        pacer?.finish();
        this.progress.update(id, 'Verifying Checksum');
      } else {
        this.progress.update(id, `Retrying in ${e.seconds} second${e.seconds === 1 ? '' : 's'}`);
      }
    };
  }
}

function registerFailed(err: unknown): Error {
  // A hold that failed carries the parent's (already wrapped) error.
  if (err instanceof BerthError && err.message.startsWith('failed to register layer: ')) return err;
  return systemError(`failed to register layer: ${(err as Error).message}`);
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function* counted(src: AsyncIterable<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of src) {
    onBytes(chunk.length);
    yield chunk;
  }
}

function parseConfig(bytes: Buffer): ImageConfig {
  let v: Partial<ImageConfig> | null;
  try {
    v = JSON.parse(bytes.toString('utf8')) as Partial<ImageConfig> | null;
  } catch (err) {
    throw invalid(`error pulling image configuration: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || !v.rootfs || typeof v.rootfs !== 'object') throw invalid('invalid rootfs in image configuration');
  return v as ImageConfig;
}
