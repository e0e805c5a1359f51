import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import type { EventBus } from '../daemon/events.js';
import { MediaTypes } from '../image/archive-format.js';
import { chainIds, sha256Digest } from '../image/digest.js';
import { familiarName, familiarString, parseNormalizedNamed, refName, trimNamed, withTag, type NamedRef } from '../image/reference.js';
import type { ImageConfig } from '../image/types.js';
import { decompressedTar } from '../storage/layer-decompress.js';
import { invalid, notFound, systemError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import type { AuthConfig } from './auth-config.js';
import type { Endpoint } from './endpoints.js';
import { readBody } from './http.js';
import { LayerGzip } from './layer-gzip.js';
import { Limiter } from './limiter.js';
import { schema2Manifest } from './manifest.js';
import { Progress, ProgressPacer, type ProgressSink } from './progress.js';
import type { RegistryClient } from './registry-client.js';
import { errorFromResponse, RegistryResponseError, TransportError } from './registry-errors.js';
import type { RegistryService } from './registry-service.js';
import type { V2Metadata, V2MetadataStore } from './v2-metadata.js';

// `docker push` on the daemon side, after moby's distribution/push_v2.go. For each layer:
// a blob the registry is known to have (from where it was pulled or pushed before) is
// only checked with HEAD ("Layer already exists"); one in a sibling repository of the same
// registry is mounted ("Mounted from …"); the rest is gzipped from the layer's tar and
// uploaded (one PUT when small, PATCH chunks when large), its digest computed on the way.
// A pulled layer's kept gzip blob goes up as it is (no second compression, and the
// registry gets the digest the image was pulled with, as containerd pushes); dockerd
// compresses every layer again. Then the config and the schema 2 manifest; the image gets
// a RepoDigest.

export interface PushImageStore {
  // Every tag of a repository, with the image it names.
  tagsOf(repo: NamedRef): Array<{ ref: NamedRef; id: string }>;
  reference(ref: NamedRef): string | undefined;
  image(id: string): { raw: Buffer; config: ImageConfig } | undefined;
  addReferences(id: string, refs: NamedRef[]): Promise<void>;
}

export interface PushLayerSource {
  // The size of the layer's tar (0 when unknown until it is written).
  tarSize(diffId: string, chainId: string): Promise<number>;
  // The layer's tar; its bytes must hash to the diff ID (checked while uploading).
  openTar(diffId: string, chainId: string): Promise<Readable>;
  // The gzip blob a pulled layer keeps (archive-layer-tars.ts), pushed as it is; null when
  // the layer keeps a plain tar.
  keptGzipBlob(diffId: string): Promise<KeptGzipBlob | null>;
}

export interface KeptGzipBlob {
  digest: string;
  size: number; // of the blob
  tarSize: number;
  open(): Promise<Readable>;
}

export interface PushServiceDeps {
  registry: RegistryService;
  images: PushImageStore;
  layers: PushLayerSource;
  metadata: V2MetadataStore;
  events: EventBus;
  maxConcurrentUploads?: number;
}

export interface PushOptions {
  tag?: string;
  auth?: AuthConfig;
}

// Compressed layers up to this size go up in one PUT; bigger ones stream in a PATCH.
export const MONOLITHIC_MAX = 8 << 20;
const SMALL_LAYER = 100 << 10; // moby's smallLayerMaximumSize
const MIDDLE_LAYER = 10 << 20; // middleLayerMaximumSize

interface RemoteBlob {
  digest: string;
  size: number;
}

export class PushService {
  private readonly limiter: Limiter;

  constructor(private readonly deps: PushServiceDeps) {
    this.limiter = new Limiter(deps.maxConcurrentUploads ?? 5);
  }

  async pushImage(name: string, opts: PushOptions, sink: ProgressSink): Promise<void> {
    let ref = parseNormalizedNamed(name);
    if (opts.tag) ref = withTag(ref, opts.tag);
    if (ref.digest !== undefined) throw invalid('cannot push a digest reference');
    const repo = trimNamed(ref);
    const progress = new Progress(sink);
    progress.message('', `The push refers to repository [${refName(repo)}]`);
    const tags = this.deps.images.tagsOf(repo);
    if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);

    let targets: Array<{ ref: NamedRef; id: string }>;
    if (ref.tag !== undefined) {
      const id = this.deps.images.reference(ref);
      if (id === undefined) throw notFound(`tag does not exist: ${familiarString(ref)}`);
      targets = [{ ref, id }];
    } else {
      targets = tags;
    }
    await this.deps.registry.withEndpoints(repo.domain, false, async (endpoint) => {
      const pusher = new Pusher(this.deps, this.limiter, endpoint, repo, opts.auth ?? {}, progress);
      // newRepository pings first: an endpoint that cannot be reached fails before any output.
      await pusher.ping();
      for (const t of targets) await pusher.pushTag(t.ref, t.id);
    });
    // dockerd's LogImageEvent: the image's labels too, when the reference names one.
    const labels = ref.tag !== undefined ? (this.deps.images.image(targets[0]!.id)?.config.config?.Labels ?? {}) : {};
    this.deps.events.emit('image', 'push', familiarString(ref), { ...labels, name: familiarName(repo) });
  }
}

class Pusher {
  private readonly client: RegistryClient;
  // Layers known to be in the target repository during this push (pushState.remoteLayers).
  private readonly remote = new Map<string, Promise<RemoteBlob>>();
  private readonly repoName: string;

  constructor(
    private readonly deps: PushServiceDeps,
    private readonly limiter: Limiter,
    endpoint: Endpoint,
    private readonly repo: NamedRef,
    auth: AuthConfig,
    private readonly progress: Progress,
  ) {
    this.client = deps.registry.client(endpoint, repo.path, auth, ['push', 'pull']);
    this.repoName = refName(repo);
  }

  ping(): Promise<void> {
    return this.client.ping();
  }

  async pushTag(ref: NamedRef, id: string): Promise<void> {
    const img = this.deps.images.image(id);
    if (!img) throw systemError(`could not find image from tag ${familiarString(ref)}: image ${id} does not exist`);
    const diffIds = img.config.rootfs?.diff_ids ?? [];
    const chains = chainIds(diffIds);
    // Top layer first, as dockerd lists them.
    const order = diffIds.map((_, i) => i).reverse();
    for (const i of order) this.progress.update(shortId(diffIds[i]!), 'Preparing');
    const uploads = order.map((i) => {
      const p = this.layer(diffIds[i]!, chains[i]!);
      p.catch(() => {});
      return { i, p };
    });
    const blobs: RemoteBlob[] = new Array(diffIds.length);
    try {
      for (const u of uploads) blobs[u.i] = await u.p;
    } finally {
      await Promise.allSettled(uploads.map((u) => u.p));
    }

    const configDigest = sha256Digest(img.raw);
    if ((await this.client.statBlob(configDigest)) === null) await this.uploadSmall(img.raw, configDigest);
    const manifest = schema2Manifest({ digest: configDigest, size: img.raw.length }, blobs);
    const digest = await this.client.putManifest(ref.tag!, manifest, MediaTypes.dockerManifest);
    this.progress.message('', `${ref.tag}: digest: ${digest} size: ${manifest.length}`);
    const digestRef: NamedRef = { ...trimNamed(ref), digest };
    if (this.deps.images.reference(digestRef) === undefined) await this.deps.images.addReferences(id, [digestRef]);
    this.progress.aux({ Tag: ref.tag, Digest: digest, Size: manifest.length });
  }

  private layer(diffId: string, chainId: string): Promise<RemoteBlob> {
    let p = this.remote.get(diffId);
    if (p) {
      this.progress.update(shortId(diffId), 'Layer already exists');
      return p;
    }
    p = this.limiter.run(
      () => this.upload(diffId, chainId),
      () => this.progress.update(shortId(diffId), 'Waiting'),
    );
    this.remote.set(diffId, p);
    p.catch(() => this.remote.delete(diffId));
    return p;
  }

  // pushDescriptor.Upload.
  private async upload(diffId: string, chainId: string): Promise<RemoteBlob> {
    const id = shortId(diffId);
    const meta = (await this.deps.metadata.get(diffId)).reverse(); // newest first
    const checked = new Set<string>();
    const size = await this.deps.layers.tarSize(diffId, chainId);
    const [maxMounts, maxChecks, checkOthers] = size > MIDDLE_LAYER ? [4, 3, true] : size > SMALL_LAYER ? [3, 1, false] : [1, 1, false];

    const found = await this.alreadyExists(diffId, meta, true, 1, checked);
    if (found) return found;

    for (const m of this.mountCandidates(meta).slice(0, maxMounts)) {
      const from = parseNormalizedNamed(m.SourceRepository).path;
      let start;
      try {
        start = await this.client.startUpload({ digest: m.Digest, from });
      } catch (err) {
        if (err instanceof TransportError) throw err;
        await this.deps.metadata.remove(diffId, m);
        continue;
      }
      if (start.mounted) {
        this.progress.update(id, `Mounted from ${from}`);
        const blobSize = start.size > 0 ? start.size : ((await this.client.statBlob(m.Digest)) ?? 0);
        await this.deps.metadata.add(diffId, { Digest: m.Digest, SourceRepository: this.repoName });
        return { digest: m.Digest, size: blobSize };
      }
      // The registry opened an upload instead: not needed yet.
      await this.client.cancelUpload(start.location);
      await this.deps.metadata.remove(diffId, m);
    }

    if (maxChecks - checked.size > 0) {
      const again = await this.alreadyExists(diffId, meta, checkOthers, maxChecks - checked.size, checked);
      if (again) return again;
    }

    const kept = await this.deps.layers.keptGzipBlob(diffId);
    const blob = kept ? await this.uploadKept(id, diffId, kept) : await this.uploadLayer(id, diffId, { stream: await this.deps.layers.openTar(diffId, chainId), size });
    this.progress.update(id, 'Pushed');
    await this.deps.metadata.add(diffId, { Digest: blob.digest, SourceRepository: this.repoName });
    return blob;
  }

  // layerAlreadyExists: HEAD the digests this layer is known under, this repository's first.
  private async alreadyExists(diffId: string, meta: V2Metadata[], checkOthers: boolean, max: number, checked: Set<string>): Promise<RemoteBlob | null> {
    const candidates = this.byLikeness(meta.filter((m) => checkOthers || m.SourceRepository === this.repoName));
    const digests: V2Metadata[] = [];
    for (const m of candidates) {
      if (digests.length >= max) break;
      if (checked.has(m.Digest) || digests.some((d) => d.Digest === m.Digest)) continue;
      digests.push(m);
    }
    for (const m of digests) {
      checked.add(m.Digest);
      const size = await this.client.statBlob(m.Digest);
      if (size !== null) {
        if (m.SourceRepository !== this.repoName) await this.deps.metadata.add(diffId, { Digest: m.Digest, SourceRepository: this.repoName });
        this.progress.update(shortId(diffId), 'Layer already exists');
        return { digest: m.Digest, size };
      }
      if (m.SourceRepository === this.repoName) await this.deps.metadata.remove(diffId, m);
    }
    return null;
  }

  // getRepositoryMountCandidates: other repositories of the same registry.
  private mountCandidates(meta: V2Metadata[]): V2Metadata[] {
    return this.byLikeness(
      meta.filter((m) => {
        if (m.SourceRepository === this.repoName) return false;
        try {
          return parseNormalizedNamed(m.SourceRepository).domain === this.repo.domain;
        } catch {
          return false;
        }
      }),
    );
  }

  // Most path components in common with the target first; newest first among equals.
  private byLikeness(meta: V2Metadata[]): V2Metadata[] {
    const target = this.repoName.split('/');
    const common = (s: string): number => {
      const parts = s.split('/');
      let i = 0;
      while (i < parts.length && i < target.length && parts[i] === target[i]) i++;
      return i;
    };
    return meta.map((m, i) => ({ m, i, c: common(m.SourceRepository) })).sort((a, b) => b.c - a.c || a.i - b.i).map((x) => x.m);
  }

  // The layer tar, gzipped on the fly (LayerGzip), its diff ID checked on the way out.
  private async uploadLayer(id: string, diffId: string, source: { stream: Readable; size: number }): Promise<RemoteBlob> {
    const pacer = new ProgressPacer(this.progress, id, 'Pushing', source.size);
    const plainHash = createHash('sha256');
    let sourceError: unknown = null;
    async function* tar(): AsyncGenerator<Buffer> {
      try {
        for await (const c of source.stream) {
          const b = c as Buffer;
          plainHash.update(b);
          pacer.add(b.length);
          yield b;
        }
      } catch (err) {
        sourceError = err;
        throw err;
      }
    }
    const pieces = new LayerGzip().compress(tar())[Symbol.asyncIterator]();
    const blob = await this.sendBlob(pieces, async () => {
      if (`sha256:${plainHash.digest('hex')}` !== diffId) throw tarMismatch(diffId);
    }).catch((err: unknown) => {
      source.stream.destroy();
      throw sourceError ?? err;
    });
    pacer.finish();
    return blob;
  }

  // A kept gzip blob, sent as it is read; what it uncompresses to is checked against the
  // diff ID and its bytes against its digest before the upload is committed.
  private async uploadKept(id: string, diffId: string, kept: KeptGzipBlob): Promise<RemoteBlob> {
    const pacer = new ProgressPacer(this.progress, id, 'Pushing', kept.tarSize);
    const file = await kept.open();
    const toCheck = new PassThrough();
    toCheck.on('error', () => {});
    const checked = (async (): Promise<string> => {
      const hash = createHash('sha256');
      for await (const c of decompressedTar(toCheck)) {
        hash.update(c);
        pacer.add(c.length);
      }
      return `sha256:${hash.digest('hex')}`;
    })();
    // A blob that stops uncompressing is not read further: nothing drains toCheck any more.
    let bad = false;
    const settled = checked.then(
      () => {},
      () => void (bad = true),
    );
    async function* pieces(): AsyncGenerator<Buffer[]> {
      for await (const c of file) {
        if (!toCheck.write(c)) await Promise.race([once(toCheck, 'drain'), settled]);
        if (bad) throw tarMismatch(diffId);
        yield [c as Buffer];
      }
      toCheck.end();
    }
    const blob = await this.sendBlob(pieces(), async () => {
      const plain = await checked.catch(() => null);
      if (plain !== diffId) throw tarMismatch(diffId);
    }).catch((err: unknown) => {
      file.destroy();
      toCheck.destroy();
      throw err;
    });
    if (blob.digest !== kept.digest) throw systemError(`cannot push layer ${diffId}: its kept blob no longer matches ${kept.digest}`);
    pacer.finish();
    return blob;
  }

  // One blob, from pieces of it as they come: one PUT when it fits MONOLITHIC_MAX, else one
  // PATCH whose body streams, then a PUT with the digest, as dockerd uploads (the digest is
  // known only at the end). `check` runs before the upload is committed.
  private async sendBlob(source: AsyncIterator<Buffer[]>, check: () => Promise<void>): Promise<RemoteBlob> {
    const start = await this.client.startUpload();
    if (start.mounted) throw systemError('registry mounted a blob it was not asked to');
    let location = start.location;
    const blobHash = createHash('sha256');
    let size = 0;
    const next = async (): Promise<Buffer[] | null> => {
      const r = await source.next();
      if (r.done) return null;
      for (const p of r.value) {
        blobHash.update(p);
        size += p.length;
      }
      return r.value;
    };
    try {
      const first: Buffer[] = [];
      let ended = false;
      while (size < MONOLITHIC_MAX) {
        const pieces = await next();
        if (!pieces) {
          ended = true;
          break;
        }
        first.push(...pieces);
      }
      if (!ended) location = await this.patchStream(location, first, next);
      await check();
      const digest = `sha256:${blobHash.digest('hex')}`;
      await this.client.finishUpload(location, digest, ended ? Buffer.concat(first, size) : undefined);
      return { digest, size };
    } catch (err) {
      await source.return?.(undefined).catch(() => {});
      await this.client.cancelUpload(location);
      throw err;
    }
  }

  // One PATCH carrying `first` and then every piece `next` gives until it gives null; the
  // pieces a call gives are pushed together, so the socket writes them in one writev.
  private async patchStream(location: URL, first: Buffer[], next: () => Promise<Buffer[] | null>): Promise<URL> {
    let complete = false;
    let pulling = false;
    const body = new Readable({
      read(): void {
        if (pulling) return;
        pulling = true;
        const pieces = first.length ? first.splice(0) : null;
        (pieces ? Promise.resolve(pieces) : next()).then(
          (ps) => {
            pulling = false;
            if (!ps) {
              complete = true;
              this.push(null);
              return;
            }
            for (const p of ps) this.push(p);
          },
          (err: unknown) => this.destroy(err as Error),
        );
      },
    });
    const res = await this.client.send('PATCH', location, { headers: { 'content-type': 'application/octet-stream' }, body });
    const answer = await readBody(res, 1 << 20);
    body.destroy();
    if (res.statusCode !== 202) throw errorFromResponse(res.statusCode ?? 0, res.headers, answer);
    if (!complete) throw systemError('registry answered the upload before it was complete');
    const loc = res.headers.location;
    if (!loc) throw new RegistryResponseError('registry did not return a Location for the upload', 202, [], true);
    return new URL(loc, location);
  }

  private async uploadSmall(bytes: Buffer, digest: string): Promise<void> {
    const start = await this.client.startUpload();
    if (start.mounted) return;
    try {
      await this.client.finishUpload(start.location, digest, bytes);
    } catch (err) {
      await this.client.cancelUpload(start.location);
      throw err;
    }
  }
}

function tarMismatch(diffId: string): Error {
  return systemError(`cannot push layer ${diffId}: its tar does not match the layer's diff ID (the layer was not registered with its tar kept); re-create the image to push it`);
}
