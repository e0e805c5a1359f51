import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { CreateBody } from '../container/create-config.js';
import type { ContainerRecord } from '../container/types.js';
import type { StoredImage } from '../image/image-store.js';
import { GO_OS, goArch } from '../image/platform.js';
import { familiarString, parseNormalizedNamed, tagNameOnly } from '../image/reference.js';
import type { ContainerConfig, DeleteItem, HealthConfig, ImageConfig } from '../image/types.js';
import type { AttachSession } from '../runtime/types.js';
import type { LayerInfo } from '../storage/types.js';
import { BerthError, errorMessage, notFound, systemError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import { type BuildCacheIndex, CacheProber, findCachedImage, type Platform } from './build-cache.js';
import { CacheFrom } from './cache-from.js';
import { childImageConfig } from './build-commit.js';
import { ScratchLayer, type BuildLayerStore } from './build-layer.js';
import type { BuildOptions } from './build-options.js';
import type { BuildOutput } from './build-output.js';
import type { DispatchState, StageResults } from './build-state.js';
import { authConfigKey, convertToHostname, type AuthConfig } from '../distribution/auth-config.js';
import { withNopComment } from './run-config.js';
import { SourceHasher } from './source-hash.js';

// One build's services and bookkeeping (moby's Builder): the cache prober, the
// intermediate containers to remove, the image rootfs mounted for COPY --from, the temp
// dirs of downloads and heredocs. The dispatchers (build-steps/) work through it.

export interface BuildImageStore {
  get(id: string): StoredImage | undefined;
  children(id: string): string[];
  all(): StoredImage[];
  setParent(id: string, parent: string): Promise<void>;
  refs: { references(id: string): Array<{ tag?: string; digest?: string }> };
}

export interface BuildImages {
  store: BuildImageStore;
  resolve(name: string): StoredImage;
  createImage(config: ImageConfig, opts: { parent?: string }): Promise<string>;
  tag(source: string, repo: string, tag?: string): Promise<void>;
  withLayerLease<T>(fn: () => Promise<T>): Promise<T>;
  remove(name: string, opts: { force?: boolean; noprune?: boolean }): Promise<DeleteItem[]>;
}

export interface BuildContainers {
  create(body: CreateBody, name: string | null): Promise<{ Id: string; Warnings: string[] }>;
  attach(ref: string, streams: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<{ session: Promise<AttachSession> }>;
  start(ref: string): Promise<void>;
  wait(ref: string, condition: 'not-running'): Promise<{ StatusCode: number }>;
  remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void>;
  store: { get(id: string): ContainerRecord | undefined; all(): ContainerRecord[] };
}

export interface PullProgress {
  message(msg: Record<string, unknown>): void;
}

export interface BuilderDeps {
  dataRoot: string;
  images: BuildImages;
  layers: BuildLayerStore & { layerDiffDirs(chainId: string): Promise<string[]>; get(chainId: string): Promise<LayerInfo | null> };
  containers: BuildContainers;
  engineVersion?: string;
  // Fetches an image from its registry (a base image missing here, or --pull). Absent:
  // missing images fail as `docker pull` does without a registry client.
  pullImage?: (ref: string, opts: { platform?: string; auth: AuthConfig; progress: PullProgress; signal: AbortSignal }) => Promise<void>;
}

export interface SessionEnv {
  contextRoot: string; // the extracted context ('' for none)
  escapeToken: '\\' | '`';
  stages: StageResults;
  tmpDir: string; // <dataRoot>/builder/tmp
  index: BuildCacheIndex;
  onImage?: (id: string) => void; // an image this build made or stands on
}

export class BuildSession {
  readonly hasher = new SourceHasher();
  readonly prober: CacheProber;
  private readonly tmpContainers = new Set<string>();
  private readonly mounts = new Map<string, Promise<ScratchLayer>>();
  private readonly tmpDirs: string[] = [];

  constructor(
    readonly deps: BuilderDeps,
    readonly opts: BuildOptions,
    readonly out: BuildOutput,
    readonly signal: AbortSignal,
    readonly env: SessionEnv,
  ) {
    const platform = this.platform();
    const { images } = deps;
    const cacheFrom = this.cacheFrom();
    this.prober = new CacheProber(
      opts.noCache
        ? null
        : async (parent, cfg) => {
            const local = findCachedImage(images.store, env.index, parent, cfg, platform);
            return cacheFrom ? cacheFrom.probe(parent, cfg, local) : local;
          },
    );
  }

  // --cache-from images that exist here; the others are skipped, as moby does.
  private cacheFrom(): CacheFrom | null {
    const { images } = this.deps;
    const sources: StoredImage[] = [];
    for (const ref of this.opts.cacheFrom) {
      try {
        sources.push(images.resolve(ref));
      } catch {
        // not here: not a source
      }
    }
    if (sources.length === 0) return null;
    return new CacheFrom(
      {
        get: (id) => images.store.get(id),
        setParent: (id, parent) => images.store.setParent(id, parent),
        createImage: async (config, parent) => {
          const id = await images.createImage(config, { parent: parent || undefined });
          await this.env.index.add(id);
          return id;
        },
      },
      sources,
    );
  }

  platform(): Platform {
    const [os, architecture] = this.opts.platform ? this.opts.platform.split('/') : [];
    return { os: os || GO_OS, architecture: architecture || goArch() };
  }

  checkCancelled(): void {
    if (this.signal.aborted) throw new BerthError('System', 'Build cancelled');
  }

  // ---- cache and commits ----------------------------------------------------------

  async probeCache(state: DispatchState, config: ContainerConfig): Promise<boolean> {
    const id = await this.prober.probe(state.imageId, config);
    if (!id) return false;
    this.hold(id);
    this.out.stdout(' ---> Using cache\n');
    state.imageId = id;
    return true;
  }

  // A step that changes only the config (moby's Builder.commit). moby runs an empty
  // container to commit; berth writes the image straight away, with no layer.
  async commitConfig(state: DispatchState, comment: string): Promise<void> {
    if (!state.hasFromImage()) throw systemError('Please provide a source image with `from` prior to commit');
    const probe = withNopComment(state.runConfig, comment);
    if (await this.probeCache(state, probe)) return;
    await this.commitImage(state, null, probe);
  }

  // The image of a step on the current one; registers the layer (if any) under a lease so
  // garbage collection cannot take it before the image holds it.
  async commitImage(state: DispatchState, layer: (() => Promise<LayerInfo | null>) | null, containerConfig: ContainerConfig, containerId?: string): Promise<void> {
    const { images } = this.deps;
    const parent = state.imageId ? images.store.get(state.imageId) : undefined;
    if (state.imageId && !parent) throw notFound(`No such image: ${state.imageId}`);
    const id = await images.withLayerLease(async () => {
      const info = layer ? await layer() : null;
      const config = childImageConfig({
        parent: parent?.config ?? null,
        config: state.runConfig,
        containerConfig,
        diffId: info?.diffId ?? null,
        author: state.maintainer,
        containerId,
        engineVersion: this.deps.engineVersion,
      });
      return images.createImage(config, { parent: state.imageId || undefined });
    });
    this.hold(id);
    // Not waited for here: the set is updated at once (later steps probe it), and the
    // builder waits for the file before it reports the build done.
    this.env.index.add(id).catch(() => {});
    state.imageId = id;
  }

  hold(id: string): void {
    this.env.onImage?.(id);
  }

  // WORKDIR, COPY, ADD: fn changes files in a writable layer on the current image, which
  // then becomes the step's image.
  async commitFiles(state: DispatchState, containerConfig: ContainerConfig, fn: (rootfs: string) => Promise<void>): Promise<void> {
    const parent = state.imageId ? this.deps.images.store.get(state.imageId) : undefined;
    const layer = await ScratchLayer.open(this.deps.layers, this.env.tmpDir, parent?.topChainId ?? null);
    try {
      await fn(layer.rootfs);
      this.checkCancelled();
      await this.commitImage(state, () => layer.commit(), containerConfig);
    } finally {
      await layer.release().catch(() => {});
    }
  }

  // RUN: the exited container's upper dir is the step's layer (moby's CommitBuildStep).
  async commitContainer(state: DispatchState, id: string, containerConfig: ContainerConfig): Promise<void> {
    const { layers, containers } = this.deps;
    const rec = containers.store.get(id);
    if (!rec) throw notFound(`No such container: ${id}`);
    const layer = async (): Promise<LayerInfo | null> => {
      const { upper } = await layers.rwDirs(id);
      if ((await readdir(upper)).length === 0) return null;
      return layers.register(await layers.rwDiffTar(id), rec.ImageChainId);
    };
    await this.commitImage(state, layer, containerConfig, id);
  }

  // ---- images ---------------------------------------------------------------------

  // A base image or COPY --from image: the local one unless --pull; a missing one is pulled
  // when berth can, else the build fails as a pull does.
  async getImage(name: string, localOnly: boolean): Promise<StoredImage> {
    const { images, pullImage } = this.deps;
    const lookup = (): StoredImage | null => {
      try {
        return images.resolve(name);
      } catch (err) {
        if (err instanceof BerthError && err.kind === 'NotFound') return null;
        throw err;
      }
    };
    if (localOnly) return images.resolve(name);
    const local = this.opts.pull ? null : lookup();
    if (local) return local;
    if (!pullImage) {
      if (this.opts.pull) return images.resolve(name);
      throw notFound(`pull access denied for ${familiarString(tagNameOnly(parseNormalizedNamed(name)))}: berth has no registry client yet; create base images with 'berth image bootstrap busybox|debian' or 'berth import'`);
    }
    const auth = authFor(this.opts.authConfigs, parseNormalizedNamed(name).domain);
    await pullImage(name, { platform: this.opts.platform || undefined, auth, progress: this.out, signal: this.signal });
    return images.resolve(name);
  }

  // An image's files, read-only by convention, for COPY --from (mounted once per build).
  imageRootfs(img: StoredImage): Promise<string> {
    let m = this.mounts.get(img.id);
    if (!m) {
      m = ScratchLayer.open(this.deps.layers, this.env.tmpDir, img.topChainId);
      this.mounts.set(img.id, m);
      m.catch(() => this.mounts.delete(img.id));
    }
    return m.then((l) => l.rootfs);
  }

  async tmpDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(this.env.tmpDir, prefix));
    this.tmpDirs.push(dir);
    return dir;
  }

  // ---- containers (RUN) -------------------------------------------------------------

  async createContainer(config: ContainerConfig, networkMode: string, binds: string[] = []): Promise<string> {
    const o = this.opts;
    // RUN --network=default is the build's own network mode.
    const mode = (networkMode && networkMode !== 'default' ? networkMode : o.networkMode) || 'default';
    const body: CreateBody & { Healthcheck?: HealthConfig } = {
      Image: config.Image || '',
      Cmd: config.Cmd ?? null,
      Entrypoint: config.Entrypoint ?? null,
      Env: config.Env ?? [],
      User: config.User ?? '',
      WorkingDir: config.WorkingDir ?? '',
      Labels: config.Labels ?? {},
      Volumes: config.Volumes ?? null,
      ExposedPorts: config.ExposedPorts ?? undefined,
      StopSignal: config.StopSignal,
      Healthcheck: config.Healthcheck,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        NetworkMode: mode,
        ShmSize: o.shmSize || undefined,
        ExtraHosts: o.extraHosts.length ? o.extraHosts : null,
        Binds: binds.length ? binds : null,
        ...o.resources,
      },
    };
    const created = await this.deps.containers.create(body, null);
    this.tmpContainers.add(created.Id);
    for (const w of created.Warnings) this.out.stdout(` ---> [Warning] ${w}\n`);
    this.out.stdout(` ---> Running in ${shortId(created.Id)}\n`);
    return created.Id;
  }

  // Runs the container with its output streamed to the client; the exit code comes back.
  // A cancelled build removes the container at once (moby's containerManager.Run).
  async runContainer(id: string): Promise<number> {
    const { containers } = this.deps;
    const { session } = await containers.attach(id, { stdin: false, stdout: true, stderr: true });
    session.catch(() => {});
    const cancel = (): void => void containers.remove(id, { force: true, volumes: true }).catch(() => {});
    this.signal.addEventListener('abort', cancel, { once: true });
    try {
      await containers.start(id);
      const s = await session;
      await Promise.all([this.forward(s.stdout, (t) => this.out.stdout(t)), this.forward(s.stderr, (t) => this.out.stderr(t))]);
      await s.closed;
      this.checkCancelled();
      return (await containers.wait(id, 'not-running')).StatusCode;
    } catch (err) {
      this.checkCancelled();
      throw err;
    } finally {
      this.signal.removeEventListener('abort', cancel);
    }
  }

  private async forward(stream: Readable, write: (text: string) => void): Promise<void> {
    const dec = new StringDecoder('utf8');
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = dec.write(chunk);
      if (text) write(text);
    }
    const rest = dec.end();
    if (rest) write(rest);
  }

  // After each step: with --rm (and success) or --force-rm, the step's containers go.
  async removeContainers(): Promise<void> {
    for (const id of [...this.tmpContainers]) {
      this.out.stdout(`Removing intermediate container ${shortId(id)}\n`);
      try {
        await this.deps.containers.remove(id, { force: true, volumes: true });
      } catch (err) {
        if (!(err instanceof BerthError && err.kind === 'NotFound')) {
          this.out.stdout(`Error removing intermediate container ${shortId(id)}: ${errorMessage(err)}\n`);
          continue;
        }
      }
      this.tmpContainers.delete(id);
    }
  }

  // The end of the build, whatever happened: mounts and temp files go. Containers stay as
  // the rm options left them (a failed RUN's container is kept without --force-rm).
  async close(): Promise<void> {
    for (const m of this.mounts.values()) await m.then((l) => l.release()).catch(() => {});
    this.mounts.clear();
    for (const d of this.tmpDirs.splice(0)) await rm(d, { recursive: true, force: true }).catch(() => {});
  }
}

// moby registry.ResolveAuthConfig: the entry for the registry, keyed by host or URL.
function authFor(configs: Record<string, AuthConfig>, domain: string): AuthConfig {
  const key = authConfigKey(domain);
  if (configs[key]) return configs[key]!;
  for (const [k, v] of Object.entries(configs)) if (convertToHostname(k) === convertToHostname(key)) return v;
  return {};
}
