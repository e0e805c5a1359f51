import type { Readable } from 'node:stream';
import type { EventBus } from '../daemon/events.js';
import type { LayerTars } from '../image/archive-layer-tars.js';
import { refName, type NamedRef } from '../image/reference.js';
import type { StoredImage } from '../image/image-store.js';
import { upperDirTar } from '../storage/layer-tar.js';
import type { LayerInfo } from '../storage/types.js';
import type { AuthConfig } from './auth-config.js';
import { BlobDownloads } from './blob-download.js';
import { RegistryConfig } from './endpoints.js';
import { login, type AuthenticateOKBody } from './login-service.js';
import type { ProgressSink } from './progress.js';
import { PullService, type PullImageFn, type PullLayerStore, type PullOptions } from './pull-service.js';
import { PushService, type KeptGzipBlob, type PushOptions } from './push-service.js';
import { RegistryService } from './registry-service.js';
import { search, type SearchResult } from './search-service.js';
import { V2MetadataStore } from './v2-metadata.js';
import { withOfflineFallback, type BootstrapFn } from './offline-images.js';

// The registry side of the daemon in one place: pull, push, login and search over the
// image and layer stores, configured from daemon.json ("insecure-registries",
// "registry-mirrors", "max-concurrent-downloads", "max-concurrent-uploads").

// The parts of the image service distribution uses.
export interface DistributionImages {
  store: {
    get(id: string): StoredImage | undefined;
    refs: { get(ref: NamedRef): string | undefined; all(): Array<{ ref: NamedRef; id: string }> };
  };
  withLayerLease<T>(fn: () => Promise<T>): Promise<T>;
  createImage(config: Uint8Array): Promise<string>;
  addReferences(id: string, refs: NamedRef[]): Promise<void>;
}

// The layer store with the tars it keeps (LayerTarKeepingStore).
export interface DistributionLayers extends PullLayerStore {
  readonly tars: LayerTars;
  layerDiffDirs(chainId: string): Promise<string[]>;
  get(chainId: string): Promise<LayerInfo | null>;
}

export interface DistributionDeps {
  dataRoot: string;
  daemonJson: Record<string, unknown>;
  images: DistributionImages;
  layers: DistributionLayers;
  events: EventBus;
  userAgent: string;
  // Makes busybox and registry from Debian's packages when Docker Hub cannot be reached.
  bootstrap?: BootstrapFn;
}

export class DistributionService {
  readonly registry: RegistryService;
  private readonly downloads: BlobDownloads;
  private readonly metadata: V2MetadataStore;
  private readonly puller: PullService;
  private readonly pusher: PushService;
  private readonly pullWithFallback: PullImageFn;

  constructor(private readonly deps: DistributionDeps) {
    const raw = deps.daemonJson;
    this.registry = new RegistryService(RegistryConfig.fromDaemonJson(raw), deps.userAgent);
    this.downloads = new BlobDownloads(deps.dataRoot);
    this.metadata = new V2MetadataStore(deps.dataRoot);
    const images = deps.images;
    this.puller = new PullService({
      registry: this.registry,
      images: {
        imageConfig: (id) => images.store.get(id)?.config,
        reference: (ref) => images.store.refs.get(ref),
        labels: (id) => images.store.get(id)?.config.config?.Labels ?? {},
        withLayerLease: (fn) => images.withLayerLease(fn),
        createImage: (config) => images.createImage(config),
        addReferences: (id, refs) => images.addReferences(id, refs),
      },
      layers: deps.layers,
      downloads: this.downloads,
      metadata: this.metadata,
      events: deps.events,
      maxConcurrentDownloads: positiveInt(raw['max-concurrent-downloads'], 3),
    });
    this.pusher = new PushService({
      registry: this.registry,
      images: {
        tagsOf: (repo) =>
          images.store.refs
            .all()
            .filter((r) => r.ref.tag !== undefined && r.ref.digest === undefined && refName(r.ref) === refName(repo))
            .sort((a, b) => (a.ref.tag! < b.ref.tag! ? -1 : a.ref.tag! > b.ref.tag! ? 1 : 0)),
        reference: (ref) => images.store.refs.get(ref),
        image: (id) => images.store.get(id),
        addReferences: (id, refs) => images.addReferences(id, refs),
      },
      layers: { tarSize: (diffId) => this.tarSize(diffId), openTar: (diffId, chainId) => this.openTar(diffId, chainId), keptGzipBlob: (diffId) => this.keptGzipBlob(diffId) },
      metadata: this.metadata,
      events: deps.events,
      maxConcurrentUploads: positiveInt(raw['max-concurrent-uploads'], 5),
    });
    const { bootstrap } = deps;
    this.pullWithFallback = bootstrap ? withOfflineFallback(this.puller.pullImage, bootstrap) : this.puller.pullImage;
  }

  async init(): Promise<void> {
    await this.downloads.init();
    await this.metadata.init();
  }

  // For the build executor's FROM and anything else that needs an image pulled.
  get pullImage(): PullImageFn {
    return this.pullWithFallback;
  }

  pull(image: string, opts: PullOptions, progress: ProgressSink): Promise<unknown> {
    return this.pullWithFallback(image, opts, progress);
  }

  push(name: string, opts: PushOptions, progress: ProgressSink): Promise<void> {
    return this.pusher.pushImage(name, opts, progress);
  }

  login(auth: AuthConfig): Promise<AuthenticateOKBody> {
    return login(this.registry, auth);
  }

  search(term: string, limit: number, filters: Record<string, string[]>, auth: AuthConfig): Promise<SearchResult[]> {
    return search(this.registry.config, this.deps.userAgent, term, limit, filters, auth);
  }

  private async keptGzipBlob(diffId: string): Promise<KeptGzipBlob | null> {
    const b = await this.deps.layers.tars.compressedBlob(diffId);
    if (!b || b.compression !== 'gzip') return null;
    return { digest: b.digest, size: b.blobSize, tarSize: b.size, open: b.open };
  }

  private tarSize(diffId: string): Promise<number> {
    return this.deps.layers.tars.size(diffId);
  }

  // The kept tar; for a layer registered before tars were kept, its files archived again
  // (push checks the bytes against the diff ID, so a different archive is refused).
  private async openTar(diffId: string, chainId: string): Promise<Readable> {
    const kept = await this.deps.layers.tars.open(diffId);
    if (kept) return kept.stream;
    const [diffDir] = await this.deps.layers.layerDiffDirs(chainId);
    return upperDirTar(diffDir!);
  }
}

function positiveInt(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : dflt;
}
