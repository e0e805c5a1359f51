import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { upperDirTar } from '../storage/layer-tar.js';
import type { LayerInfo } from '../storage/types.js';
import { notFound, systemError } from '../util/errors.js';
import {
  AnnotationImageName,
  AnnotationRefName,
  INDEX_FILE,
  MANIFEST_FILE,
  MediaTypes,
  OCI_LAYOUT_CONTENT,
  OCI_LAYOUT_FILE,
  REPOSITORIES_FILE,
  blobPath,
  dockerManifestJson,
  ociIndex,
  ociManifest,
  repositoriesJson,
  v1Layers,
  type Descriptor,
  type DockerManifestItem,
  type Platform,
  type V1Layer,
} from './archive-format.js';
import type { LayerTars } from './archive-layer-tars.js';
import { chainIds, digestHex, sha256Digest } from './digest.js';
import type { StoredImage } from './image-store.js';
import { familiarName, isNameOnly, parseAnyReference, refString, tagNameOnly, type NamedRef } from './reference.js';
import { parseRfc3339Ns } from './time.js';
import { toNodeReadable } from './tree-tar.js';

// GET /images/{name}/get and /images/get?names=…: images as one tar that `docker load`
// reads, whichever Docker it is. Both dialects at once, sharing the layer bytes:
// - docker-archive as dockerd 20.10 writes it: manifest.json (Config "<hex>.json", Layers
//   "<v1 id>/layer.tar"), repositories, and per layer <v1 id>/{VERSION,json,layer.tar};
// - the OCI layout Docker 25+ writes: oci-layout, index.json, blobs/sha256/<hex> for the
//   layers, configs and manifests.
// Each layer tar is stored once, as blobs/sha256/<diff ID hex>; <v1 id>/layer.tar is a
// relative symlink to it (dockerd 20.10 itself links a layer saved twice that way, so every
// docker-archive reader follows them).
//
// Names are resolved and every layer tar made available before the first byte goes out,
// so a bad name is an HTTP error, not a broken stream.

export interface SaveImageSource {
  get(id: string): StoredImage | undefined;
  search(term: string): string | 'ambiguous' | undefined;
  refs: {
    get(ref: NamedRef): string | undefined;
    all(): Array<{ ref: NamedRef; id: string }>;
  };
}

export interface SaveLayerSource {
  get(chainId: string): Promise<LayerInfo | null>;
  layerDiffDirs(chainId: string): Promise<string[]>;
  readonly tars: LayerTars;
}

interface SaveImage {
  img: StoredImage;
  tags: NamedRef[];
  diffIds: string[];
  v1: V1Layer[];
  mtime: Date;
}

export interface SavePlan {
  images: SaveImage[];
  layerSizes: Map<string, number>; // diff ID → tar size
}

const EPOCH = new Date(0);

// moby's parseNames: a name without a tag saves every tag of that repository; a tag, that
// one; an ID or a digest reference, the image without a tag.
export function resolveSaveNames(names: string[], store: SaveImageSource): Array<{ img: StoredImage; tags: NamedRef[] }> {
  const out = new Map<string, { img: StoredImage; tags: NamedRef[] }>();
  const add = (id: string, ref?: NamedRef): void => {
    const img = store.get(id);
    if (!img) throw notFound(`No such image: ${id}`);
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { img, tags: [] }));
    if (!ref || ref.digest !== undefined) return;
    const tagged = tagNameOnly(ref);
    if (!entry.tags.some((t) => refString(t) === refString(tagged))) entry.tags.push(tagged);
  };
  const search = (term: string): string => {
    const id = store.search(term);
    if (id === 'ambiguous') throw notFound('ambiguous digest string');
    if (id === undefined) throw notFound(`No such image: ${term}`);
    return id;
  };
  for (const name of names) {
    const any = parseAnyReference(name);
    if (any.kind === 'digest') {
      add(any.digest);
      continue;
    }
    const ref = any.ref;
    if (familiarName(ref) === 'sha256') {
      add(search(name));
      continue;
    }
    if (isNameOnly(ref)) {
      const repo = familiarName(ref);
      const assocs = store.refs
        .all()
        .filter((a) => familiarName(a.ref) === repo)
        .sort((a, b) => (refString(a.ref) < refString(b.ref) ? -1 : refString(a.ref) > refString(b.ref) ? 1 : 0));
      for (const a of assocs) add(a.id, a.ref);
      if (assocs.length === 0) add(search(name));
      continue;
    }
    const id = store.refs.get(ref);
    if (id === undefined) throw notFound('reference does not exist');
    add(id, ref);
  }
  return [...out.values()];
}

export async function planSave(names: string[], store: SaveImageSource, layers: SaveLayerSource): Promise<SavePlan> {
  const images: SaveImage[] = [];
  const layerSizes = new Map<string, number>();
  for (const { img, tags } of resolveSaveNames(names, store)) {
    const diffIds = img.config.rootfs.diff_ids ?? [];
    if (diffIds.length === 0) throw systemError('empty export - not implemented');
    const chains = chainIds(diffIds);
    for (const [i, diffId] of diffIds.entries()) {
      const chain = chains[i]!;
      if (!(await layers.get(chain))) throw systemError(`layer ${chain} does not exist`);
      if (!layerSizes.has(diffId)) layerSizes.set(diffId, await ensureLayerTar(layers, diffId, chain));
    }
    const ns = parseRfc3339Ns(img.config.created ?? '');
    images.push({ img, tags, diffIds, v1: v1Layers(img.config, chains), mtime: ns === null ? EPOCH : new Date(Number(ns / 1_000_000n)) });
  }
  return { images, layerSizes };
}

// The layer's kept tar, checked against its diff ID. A layer registered before berth kept
// layer tars has none (nor one a crash cut short): re-archiving its diff dir is tried, and
// kept if it happens to give the same bytes (the diff ID is the proof).
async function ensureLayerTar(layers: SaveLayerSource, diffId: string, chain: string): Promise<number> {
  const tars = layers.tars;
  if (!(await tars.verify(diffId))) {
    const [diffDir] = await layers.layerDiffDirs(chain);
    const { digest } = await tars.ingest(upperDirTar(diffDir!));
    if (digest !== diffId) {
      await tars.dropUnmarked(digest);
      throw systemError(
        `cannot save layer ${diffId}: its original tar was not kept (the layer predates berth keeping layer tars) and re-archiving its files gives ${digest}; re-create the image (import, build or load it again) to save it`,
      );
    }
    await tars.mark(diffId);
  }
  return tars.size(diffId);
}

type Pack = ReturnType<typeof tar.pack>;
type EntryHeader = Parameters<Pack['entry']>[0];

// The archive, streamed. onImage is called as each image's files are out (the `save` event).
export function writeSaveArchive(plan: SavePlan, layers: SaveLayerSource, onImage: (img: StoredImage) => void): Readable {
  const pack = tar.pack();
  new ArchiveWriter(pack, plan, layers.tars, onImage).run().then(
    () => pack.finalize(),
    (err: unknown) => pack.destroy(err as Error),
  );
  return toNodeReadable(pack);
}

class ArchiveWriter {
  private readonly written = new Set<string>();

  constructor(
    private readonly pack: Pack,
    private readonly plan: SavePlan,
    private readonly tars: LayerTars,
    private readonly onImage: (img: StoredImage) => void,
  ) {}

  async run(): Promise<void> {
    await this.dir('blobs/', EPOCH);
    await this.dir('blobs/sha256/', EPOCH);
    const manifest: DockerManifestItem[] = [];
    const index: Descriptor[] = [];
    const repos = new Map<string, Map<string, string>>();
    const savedIds = new Set(this.plan.images.map((i) => i.img.id));

    for (const image of this.plan.images) {
      const { img, tags, diffIds, v1, mtime } = image;
      const ociLayers: Array<{ digest: string; size: number }> = [];
      for (const [i, diffId] of diffIds.entries()) {
        const size = this.plan.layerSizes.get(diffId)!;
        await this.layerBlob(diffId, size, mtime);
        await this.v1Dir(v1[i]!, diffId, mtime);
        ociLayers.push({ digest: diffId, size });
      }
      const configHex = digestHex(img.id);
      await this.once(blobPath(img.id), () => this.file(blobPath(img.id), img.raw, mtime));
      await this.once(`${configHex}.json`, () => this.file(`${configHex}.json`, img.raw, mtime));
      const m = Buffer.from(ociManifest(img.id, img.raw.length, ociLayers));
      const mDigest = sha256Digest(m);
      await this.once(blobPath(mDigest), () => this.file(blobPath(mDigest), m, EPOCH));

      const topV1 = v1[v1.length - 1]!.id;
      const platform: Platform = { architecture: img.config.architecture ?? '', os: img.config.os ?? '' };
      if (img.config.variant) platform.variant = img.config.variant;
      const desc = (annotations?: Record<string, string>): Descriptor => ({
        mediaType: MediaTypes.ociManifest,
        digest: mDigest,
        size: m.length,
        ...(annotations ? { annotations } : {}),
        platform,
      });
      for (const t of tags) {
        const name = familiarName(t);
        if (!repos.has(name)) repos.set(name, new Map());
        repos.get(name)!.set(t.tag!, topV1);
        index.push(desc({ [AnnotationImageName]: refString(t), [AnnotationRefName]: t.tag! }));
      }
      // Docker 25 lists only tagged images; an image saved by ID is listed without a name,
      // so an OCI reader still finds it.
      if (tags.length === 0) index.push(desc());
      const item: DockerManifestItem = {
        Config: `${configHex}.json`,
        RepoTags: tags.length ? tags.map((t) => `${familiarName(t)}:${t.tag}`) : null,
        Layers: v1.map((l) => `${l.id}/layer.tar`),
      };
      if (img.parent && savedIds.has(img.parent) && img.parent !== img.id) item.Parent = img.parent;
      manifest.push(item);
      this.onImage(img);
    }

    await this.file(INDEX_FILE, Buffer.from(ociIndex(index)), EPOCH);
    await this.file(MANIFEST_FILE, Buffer.from(dockerManifestJson(manifest)), EPOCH);
    await this.file(OCI_LAYOUT_FILE, Buffer.from(OCI_LAYOUT_CONTENT), EPOCH);
    if (repos.size > 0) await this.file(REPOSITORIES_FILE, Buffer.from(repositoriesJson(repos)), EPOCH);
  }

  private async layerBlob(diffId: string, size: number, mtime: Date): Promise<void> {
    const name = blobPath(diffId);
    await this.once(name, async () => {
      const t = await this.tars.open(diffId);
      if (!t) throw systemError(`layer tar ${diffId} disappeared while saving`);
      if (t.size !== size) {
        t.stream.destroy();
        throw systemError(`layer tar ${diffId} changed while saving`);
      }
      const sink = this.pack.entry({ name, size, mode: 0o644, mtime, type: 'file' });
      await pipeline(t.stream, sink as unknown as NodeJS.WritableStream);
    });
  }

  private async v1Dir(l: V1Layer, diffId: string, mtime: Date): Promise<void> {
    await this.once(`${l.id}/`, async () => {
      await this.dir(`${l.id}/`, mtime);
      await this.file(`${l.id}/VERSION`, Buffer.from('1.0'), mtime);
      await this.file(`${l.id}/json`, Buffer.from(l.json), mtime);
      await this.entry({ name: `${l.id}/layer.tar`, type: 'symlink', linkname: `../${blobPath(diffId)}`, mode: 0o777, mtime });
    });
  }

  private async once(name: string, write: () => Promise<void>): Promise<void> {
    if (this.written.has(name)) return;
    this.written.add(name);
    await write();
  }

  private dir(name: string, mtime: Date): Promise<void> {
    return this.entry({ name, type: 'directory', mode: 0o755, mtime });
  }

  private file(name: string, data: Buffer, mtime: Date): Promise<void> {
    return this.entry({ name, type: 'file', mode: 0o644, mtime, size: data.length }, data);
  }

  private entry(h: EntryHeader, body: Buffer = Buffer.alloc(0)): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry({ uid: 0, gid: 0, ...h }, body, (err) => (err ? reject(err) : resolve()));
    });
  }
}
