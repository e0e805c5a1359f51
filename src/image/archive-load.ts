import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid } from '../util/errors.js';
import { chainId } from '../storage/chain-id.js';
import type { LayerInfo } from '../storage/types.js';
import { decompress } from './archive-decompress.js';
import {
  INDEX_FILE,
  MANIFEST_FILE,
  blobPath,
  checkImageOs,
  descriptorKind,
  nameFromAnnotations,
  parseDockerManifest,
  parseImageConfig,
  parseOciIndex,
  parseOciManifest,
  parseRepoTag,
  platformMatches,
  type Descriptor,
} from './archive-format.js';
import { readArchive, type ArchiveFile, type ArchiveIndex } from './archive-reader.js';
import { GO_OS, goArch } from './platform.js';
import { familiarString, type NamedRef } from './reference.js';
import type { ImageConfig } from './types.js';

// POST /images/load: a docker-archive (what `docker save` writes, plain or gzip) or an OCI
// image layout tar becomes images, with the same IDs as where they came from (the config
// bytes are kept as they are). The whole archive is read and checked first: anything
// missing, malformed or not matching its digest fails before a layer is registered.
// Layers then go through the layer store's safe extraction, each checked against the
// config's diff ID; layers of an image that fails are garbage collected.

const MAX_JSON = 16 << 20;

export interface LoadedLayers {
  get(chainId: string): Promise<LayerInfo | null>;
  // A layer tar on disk whose sha256 is fileDigest; progress reports bytes read.
  registerFile(path: string, fileDigest: string, parent: string | null, diffId: string, progress?: (n: number) => void): Promise<LayerInfo>;
  register(tar: Readable, parent: string | null, diffId: string): Promise<LayerInfo>;
}

export interface LoadedImages {
  createImage(config: Uint8Array): Promise<string>;
  tagForLoad(ref: NamedRef, id: string): Promise<string | undefined>; // returns the ID the tag had
  setParent(id: string, parent: string): Promise<void>;
  getConfig(id: string): ImageConfig | undefined;
  withLayerLease<T>(fn: () => Promise<T>): Promise<T>;
  collectLayers(deleted: null): Promise<unknown>;
  settled(): Promise<void>;
  event(action: 'load', id: string): void;
}

export interface LoadDeps {
  images: LoadedImages;
  layers: LoadedLayers;
  tmpDir: string; // under the data root
}

// What the caller streams back (a JSON-message stream in the API).
export interface LoadOutput {
  stream(text: string): void;
  progress(id: string, action: string, current: number, total: number): void;
}

interface PlannedLayer {
  diffId: string;
  file: ArchiveFile;
}

interface PlannedImage {
  config: Buffer;
  parsed: ImageConfig;
  layers: PlannedLayer[];
  tags: NamedRef[];
  parent: string;
}

const activeSpools = new Set<string>();

export async function loadImages(input: Readable, deps: LoadDeps, out: LoadOutput, opts: { quiet: boolean }): Promise<void> {
  const spool = await makeSpool(deps.tmpDir);
  try {
    const { compression, stream } = await decompress(input);
    if (compression !== 'none' && compression !== 'gzip') throw invalid(`unsupported archive compression: ${compression}`);
    const archive = await readArchive(stream, { spoolDir: spool });
    const plan = await planLoad(archive);
    await loadPlanned(archive, plan, deps, out, opts.quiet);
  } finally {
    await rm(spool, { recursive: true, force: true });
    activeSpools.delete(spool);
  }
}

// docker-archive first, as dockerd reads it; an OCI layout when there is no manifest.json.
export async function planLoad(archive: ArchiveIndex): Promise<PlannedImage[]> {
  if (archive.has(MANIFEST_FILE)) return planDockerArchive(archive);
  if (archive.has(INDEX_FILE)) return planOciLayout(archive);
  throw invalid(`invalid archive: it has neither ${MANIFEST_FILE} (docker-archive) nor ${INDEX_FILE} (OCI image layout)`);
}

async function planDockerArchive(archive: ArchiveIndex): Promise<PlannedImage[]> {
  // Not followed: a symlinked manifest is no archive `docker save` writes.
  const manifest = parseDockerManifest(await archive.read(archive.file(MANIFEST_FILE, MANIFEST_FILE, false), MAX_JSON, MANIFEST_FILE));
  const plan: PlannedImage[] = [];
  for (const item of manifest) {
    const configFile = archive.file(item.Config, 'config');
    const config = await archive.read(configFile, MAX_JSON, item.Config);
    const parsed = parseImageConfig(config, item.Config);
    checkImageOs(parsed);
    const diffIds = parsed.rootfs.diff_ids ?? [];
    if (item.Layers.length !== diffIds.length) {
      throw invalid(`invalid manifest, layers length mismatch: expected ${item.Layers.length}, got ${diffIds.length}`);
    }
    const layers = diffIds.map((diffId, i) => ({ diffId, file: archive.file(item.Layers[i]!, 'layer') }));
    const tags = (item.RepoTags ?? []).map(parseRepoTag);
    plan.push({ config, parsed, layers, tags, parent: item.Parent ?? '' });
  }
  return plan;
}

async function planOciLayout(archive: ArchiveIndex): Promise<PlannedImage[]> {
  const index = parseOciIndex(await archive.read(archive.file(INDEX_FILE, INDEX_FILE, false), MAX_JSON, INDEX_FILE), INDEX_FILE);
  const byManifest = new Map<string, PlannedImage>();
  const arch = goArch();
  let skipped = 0;
  for (const top of index.manifests) {
    const manifestDesc = await pickManifest(archive, top, arch, 0);
    if (!manifestDesc) {
      skipped++;
      continue;
    }
    let img = byManifest.get(manifestDesc.digest);
    if (!img) {
      img = await planOciImage(archive, manifestDesc);
      byManifest.set(manifestDesc.digest, img);
    }
    const name = nameFromAnnotations(top.annotations) ?? nameFromAnnotations(manifestDesc.annotations);
    if (name && !img.tags.some((t) => familiarString(t) === familiarString(name))) img.tags.push(name);
  }
  if (byManifest.size === 0 && skipped > 0) throw invalid(`no image for platform ${GO_OS}/${arch} in the archive`);
  return [...byManifest.values()];
}

// An index.json entry down to the image manifest for this host (nested indexes are
// multi-platform images).
async function pickManifest(archive: ArchiveIndex, d: Descriptor, arch: string, depth: number): Promise<Descriptor | null> {
  switch (descriptorKind(d.mediaType)) {
    case 'manifest':
      return platformMatches(d.platform, GO_OS, arch) ? d : null;
    case 'index': {
      if (depth > 4) throw invalid('invalid archive: image indexes nested too deep');
      if (!platformMatches(d.platform, GO_OS, arch)) return null;
      const nested = parseOciIndex(await readBlob(archive, d), d.digest);
      for (const m of nested.manifests) {
        const found = await pickManifest(archive, m, arch, depth + 1);
        if (found) return found;
      }
      return null;
    }
    default:
      return null; // attestations, signatures, artifacts: not images
  }
}

async function planOciImage(archive: ArchiveIndex, d: Descriptor): Promise<PlannedImage> {
  const manifest = parseOciManifest(await readBlob(archive, d), d.digest);
  const config = await readBlob(archive, manifest.config);
  const parsed = parseImageConfig(config, manifest.config.digest);
  checkImageOs(parsed);
  const diffIds = parsed.rootfs.diff_ids ?? [];
  if (manifest.layers.length !== diffIds.length) {
    throw invalid(`invalid manifest, layers length mismatch: expected ${manifest.layers.length}, got ${diffIds.length}`);
  }
  const layers = manifest.layers.map((l, i) => {
    if (descriptorKind(l.mediaType) !== 'layer') throw invalid(`unsupported layer media type ${l.mediaType} in ${d.digest}`);
    return { diffId: diffIds[i]!, file: blobFile(archive, l) };
  });
  return { config, parsed, layers, tags: [], parent: '' };
}

// A blob named by a descriptor: present, of the size it claims, with its digest (every
// blobs/sha256/ file was hashed against its name while reading; a symlink to another
// blob still has to match what the descriptor names).
function blobFile(archive: ArchiveIndex, d: Descriptor): ArchiveFile {
  if (!d.digest.startsWith('sha256:')) throw invalid(`invalid archive: blob ${d.digest}: unsupported digest algorithm`);
  const path = blobPath(d.digest);
  if (!archive.has(path)) throw invalid(`invalid archive: blob ${d.digest} is missing`);
  const f = archive.file(path, 'blob');
  if (f.digest !== d.digest) throw invalid(`invalid archive: blob ${d.digest} does not match its digest (its content is ${f.digest})`);
  if (f.size !== d.size) throw invalid(`invalid archive: blob ${d.digest} is ${f.size} bytes, its descriptor says ${d.size}`);
  return f;
}

async function readBlob(archive: ArchiveIndex, d: Descriptor): Promise<Buffer> {
  return archive.read(blobFile(archive, d), MAX_JSON, d.digest);
}

async function loadPlanned(archive: ArchiveIndex, plan: PlannedImage[], deps: LoadDeps, out: LoadOutput, quiet: boolean): Promise<void> {
  const { images, layers } = deps;
  const loaded: Array<{ id: string; parent: string }> = [];
  let idLines = '';
  let refCount = 0;
  await images.withLayerLease(async () => {
    try {
      for (const img of plan) {
        let parent: string | null = null;
        for (const l of img.layers) {
          const chain = chainId(parent, l.diffId);
          if (!(await layers.get(chain))) {
            const id = l.diffId.slice('sha256:'.length, 'sha256:'.length + 12);
            const progress = quiet ? undefined : throttled((n) => out.progress(id, 'Loading layer', n, l.file.size), l.file.size);
            progress?.(0);
            if (l.file.path) await layers.registerFile(l.file.path, l.file.digest, parent, l.diffId, progress);
            else {
              await layers.register(archive.open(l.file), parent, l.diffId);
              progress?.(l.file.size);
            }
          }
          parent = chain;
        }
        const id = await images.createImage(img.config);
        idLines += `Loaded image ID: ${id}\n`;
        // dockerd counts the tags of the last image only: IDs are listed when it had none.
        refCount = 0;
        for (const ref of img.tags) {
          const name = familiarString(ref);
          const prev = await images.tagForLoad(ref, id);
          if (prev !== undefined && prev !== id) {
            out.stream(`The image ${name} already exists, renaming the old one with ID ${prev} to empty string\n`);
          }
          out.stream(`Loaded image: ${name}\n`);
          refCount++;
        }
        loaded.push({ id, parent: img.parent });
        images.event('load', id);
      }
    } catch (err) {
      // Runs once the lease is released: the layers of an image that did not make it go.
      await images.collectLayers(null);
      throw err;
    }
  }).finally(() => images.settled());
  await linkParents(loaded, images);
  if (refCount === 0) out.stream(idLines);
}

// manifest.json's Parent, kept only when that parent came in the same archive and really
// is one (its history a prefix of the child's), as dockerd checks.
async function linkParents(loaded: Array<{ id: string; parent: string }>, images: LoadedImages): Promise<void> {
  const ids = new Set(loaded.map((l) => l.id));
  for (const { id, parent } of loaded) {
    if (!parent || parent === id || !ids.has(parent)) continue;
    const img = images.getConfig(id);
    const par = images.getConfig(parent);
    if (!img || !par) continue;
    if (!validParent(img, par)) throw invalid(`image ${parent} is not a valid parent for ${id}`);
    await images.setParent(id, parent);
  }
}

export function validParent(img: ImageConfig, parent: ImageConfig): boolean {
  const h = img.history ?? [];
  const p = parent.history ?? [];
  if (h.length === 0 && p.length === 0) return true;
  if (h.length - p.length !== 1) return false;
  return p.every((entry, i) => JSON.stringify(entry) === JSON.stringify(h[i]));
}

// Progress as dockerd's progress reader sends it: every 1% (at most every 512 KiB), no
// more than ten times a second, and always the last.
function throttled(report: (n: number) => void, total: number): (n: number) => void {
  const every = Math.min(512 * 1024, Math.max(1, Math.floor(total / 100)));
  let last = -1;
  let lastAt = 0;
  return (n) => {
    const now = Date.now();
    if (n === total || last < 0 || (n - last > every && now - lastAt >= 100)) {
      if (n === last) return;
      last = n;
      lastAt = now;
      report(n);
    }
  };
}

// A private spool directory per load; ones a crash left behind go at the next load.
async function makeSpool(tmpDir: string): Promise<string> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  for (const name of await readdir(tmpDir)) {
    const p = join(tmpDir, name);
    if (name.startsWith('load-') && !activeSpools.has(p)) await rm(p, { recursive: true, force: true });
  }
  const dir = join(tmpDir, `load-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  activeSpools.add(dir);
  return dir;
}
