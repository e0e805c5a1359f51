import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
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
import type { ImageConfig } from '../image/types.js';
import { descriptorKind } from '../image/archive-format.js';
import type { LayerInfo } from '../storage/types.js';
import { BerthError, invalid, systemError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import type { AuthConfig } from './auth-config.js';
import { BlobDownloads, type DownloadEvent } from './blob-download.js';
import type { Endpoint } from './endpoints.js';
import { Limiter } from './limiter.js';
import {
  checkConfigMediaType,
  checkSupportedMediaType,
  layerCompression,
  matchingManifests,
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
  register(tar: Readable, parentChainId: string | null, expectedDiffId?: string): Promise<LayerInfo>;
  registerFile(path: string, fileDigest: string, parentChainId: string | null, diffId: string, progress?: (bytesRead: number) => void): Promise<LayerInfo>;
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

    // Downloads start now, up to the limit; registration follows them in order.
    const downloads = new Map<number, Promise<string>>();
    for (const i of missing) {
      const p = this.download(layers[i]!);
      p.catch(() => {});
      downloads.set(i, p);
    }
    try {
      for (const i of missing) {
        const l = layers[i]!;
        const path = await downloads.get(i)!;
        await this.register(l, path, i === 0 ? null : chains[i - 1]!, diffIds[i]!);
        await this.deps.metadata.add(diffIds[i]!, { Digest: l.digest, SourceRepository: repoName });
      }
    } finally {
      // Nothing may still write once the pull has failed.
      await Promise.allSettled(downloads.values());
    }
  }

  private download(l: Descriptor): Promise<string> {
    const id = shortId(l.digest);
    let pacer: ProgressPacer | null = null;
    const onEvent = (e: DownloadEvent): void => {
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
    return this.limiter.run(
      async () => {
        const path = await this.deps.downloads.fetch(this.client, l.digest, l.size, onEvent);
        this.progress.update(id, 'Download complete');
        return path;
      },
      () => this.progress.update(id, 'Waiting'),
    );
  }

  private async register(l: Descriptor, path: string, parent: string | null, diffId: string): Promise<void> {
    const id = shortId(l.digest);
    const size = l.size > 0 ? l.size : 0;
    const pacer = new ProgressPacer(this.progress, id, 'Extracting', size);
    const onRead = (n: number): void => pacer.set(n);
    try {
      if (layerCompression(l.mediaType) === 'zstd') {
        await this.deps.layers.register(zstdDecompress(path, onRead), parent, diffId);
      } else {
        await this.deps.layers.registerFile(path, l.digest, parent, diffId, onRead);
      }
    } catch (err) {
      throw systemError(`failed to register layer: ${(err as Error).message}`);
    }
    pacer.finish();
    this.progress.update(id, 'Pull complete');
    await this.deps.downloads.remove(l.digest);
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

// zstd layers (OCI +zstd): Node 20's zlib has no zstd, the zstd tool does.
function zstdDecompress(path: string, onRead: (n: number) => void): Readable {
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const src = createReadStream(path);
  let n = 0;
  src.on('data', (c: Buffer | string) => onRead((n += c.length)));
  src.pipe(child.stdin);
  child.on('error', (err) => child.stdout.destroy(err));
  child.on('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`zstd exited with status ${code}`));
  });
  return child.stdout;
}
