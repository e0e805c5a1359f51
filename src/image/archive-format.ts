import { invalid } from '../util/errors.js';
import { dockerContainerConfig } from './config-shape.js';
import { digestError, digestHex, sha256Digest } from './digest.js';
import { parseNormalizedNamed, tagNameOnly, type NamedRef } from './reference.js';
import { normaliseRfc3339 } from './time.js';
import type { ImageConfig } from './types.js';

// The files of an image archive, both dialects `docker save` has written:
// - docker-archive (moby's image/tarexport): manifest.json, repositories, a directory per
//   layer with VERSION, json (a v1 image config) and layer.tar, and <config hex>.json;
// - the OCI image layout (Docker 25+, containerd, podman): oci-layout, index.json,
//   blobs/<alg>/<hex> holding manifests, configs and layers.
// Pure shapes and checks, so they can be tested without an archive.

export const MANIFEST_FILE = 'manifest.json';
export const REPOSITORIES_FILE = 'repositories';
export const INDEX_FILE = 'index.json';
export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_LAYOUT_CONTENT = '{"imageLayoutVersion":"1.0.0"}';

export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

const LAYER_TYPES: ReadonlySet<string> = new Set([
  MediaTypes.ociLayer,
  MediaTypes.ociLayerGzip,
  MediaTypes.ociLayerNondistributable,
  MediaTypes.ociLayerNondistributableGzip,
  MediaTypes.dockerLayer,
  MediaTypes.dockerLayerGzip,
  MediaTypes.dockerForeignLayerGzip,
]);
const INDEX_TYPES: ReadonlySet<string> = new Set([MediaTypes.ociIndex, MediaTypes.dockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaTypes.ociManifest, MediaTypes.dockerManifest]);

export const AnnotationImageName = 'io.containerd.image.name';
export const AnnotationRefName = 'org.opencontainers.image.ref.name';

// --- docker-archive ---

// moby's manifestItem.
export interface DockerManifestItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
  Parent?: string;
  LayerSources?: Record<string, unknown>;
}

export function parseDockerManifest(data: Buffer): DockerManifestItem[] {
  const v = parseJson(data, MANIFEST_FILE);
  // dockerd: "a nil manifest usually indicates a bug, so don't just silently fail".
  if (v === null) throw invalid('invalid manifest, manifest cannot be null (but can be [])');
  if (!Array.isArray(v)) throw invalid(`invalid archive: ${MANIFEST_FILE} is not a JSON array`);
  return v.map((item: unknown, i) => {
    const where = `${MANIFEST_FILE} entry ${i}`;
    if (!isObject(item)) throw invalid(`invalid archive: ${where} is not an object`);
    if (typeof item.Config !== 'string' || item.Config === '') throw invalid(`invalid archive: ${where} has no Config`);
    const layers = item.Layers ?? [];
    if (!isStringArray(layers)) throw invalid(`invalid archive: ${where} has invalid Layers`);
    const tags = item.RepoTags ?? null;
    if (tags !== null && !isStringArray(tags)) throw invalid(`invalid archive: ${where} has invalid RepoTags`);
    const out: DockerManifestItem = { Config: item.Config, RepoTags: tags, Layers: layers };
    if (typeof item.Parent === 'string' && item.Parent !== '') out.Parent = item.Parent;
    if (isObject(item.LayerSources)) out.LayerSources = item.LayerSources;
    return out;
  });
}

// A RepoTags entry: a name with a tag, as dockerd's load requires (reference.NamedTagged).
export function parseRepoTag(s: string): NamedRef {
  const ref = parseNormalizedNamed(s);
  if (ref.tag === undefined) throw invalid(`invalid tag "${s}"`);
  return ref;
}

// --- image configs ---

// The parts of a config load checks; the bytes themselves are kept as they are.
export function parseImageConfig(data: Buffer, what: string): ImageConfig {
  const v = parseJson(data, what);
  if (!isObject(v) || !isObject(v.rootfs)) throw invalid('invalid image JSON, no RootFS key');
  const rootfs = v.rootfs;
  const diffIds = rootfs.diff_ids ?? [];
  if (!isStringArray(diffIds)) throw invalid(`invalid image JSON: ${what}: rootfs.diff_ids is not a list of digests`);
  for (const d of diffIds) {
    const err = digestError(d);
    if (err) throw invalid(`invalid image JSON: ${what}: diff ID ${JSON.stringify(d)}: ${err}`);
  }
  if (v.os !== undefined && typeof v.os !== 'string') throw invalid(`invalid image JSON: ${what}: os is not a string`);
  return v as unknown as ImageConfig;
}

// image.CheckOS on Linux: the host's OS, or none given.
export function checkImageOs(config: ImageConfig): void {
  const os = config.os ?? '';
  if (os !== '' && os !== 'linux') throw invalid(`cannot load ${os} image on linux`);
}

// --- OCI image layout ---

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface OciIndex {
  manifests: Descriptor[];
}

export interface OciManifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export function parseOciIndex(data: Buffer, what: string): OciIndex {
  const v = parseJson(data, what);
  if (!isObject(v) || !Array.isArray(v.manifests)) throw invalid(`invalid archive: ${what} has no manifests list`);
  return { manifests: v.manifests.map((d: unknown, i) => parseDescriptor(d, `${what} manifests[${i}]`)) };
}

export function parseOciManifest(data: Buffer, what: string): OciManifest {
  const v = parseJson(data, what);
  if (!isObject(v) || !isObject(v.config) || !Array.isArray(v.layers)) {
    throw invalid(`invalid archive: ${what} is not an image manifest`);
  }
  const out: OciManifest = {
    config: parseDescriptor(v.config, `${what} config`),
    layers: v.layers.map((d: unknown, i) => parseDescriptor(d, `${what} layers[${i}]`)),
  };
  if (typeof v.mediaType === 'string') out.mediaType = v.mediaType;
  return out;
}

function parseDescriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v)) throw invalid(`invalid archive: ${what} is not a descriptor`);
  if (typeof v.mediaType !== 'string') throw invalid(`invalid archive: ${what} has no mediaType`);
  if (typeof v.digest !== 'string') throw invalid(`invalid archive: ${what} has no digest`);
  const err = digestError(v.digest);
  if (err) throw invalid(`invalid archive: ${what}: ${err}`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) throw invalid(`invalid archive: ${what} has an invalid size`);
  const d: Descriptor = { mediaType: v.mediaType, digest: v.digest, size: v.size };
  if (isStringArray(v.urls)) d.urls = v.urls;
  if (isObject(v.annotations)) {
    d.annotations = {};
    for (const [k, val] of Object.entries(v.annotations)) if (typeof val === 'string') d.annotations[k] = val;
  }
  if (isObject(v.platform) && typeof v.platform.os === 'string' && typeof v.platform.architecture === 'string') {
    d.platform = { os: v.platform.os, architecture: v.platform.architecture };
    if (typeof v.platform.variant === 'string') d.platform.variant = v.platform.variant;
  }
  return d;
}

export type DescriptorKind = 'index' | 'manifest' | 'layer' | 'other';

export function descriptorKind(mediaType: string): DescriptorKind {
  if (INDEX_TYPES.has(mediaType)) return 'index';
  if (MANIFEST_TYPES.has(mediaType)) return 'manifest';
  if (LAYER_TYPES.has(mediaType)) return 'layer';
  return 'other';
}

// Where a blob lives in an OCI layout.
export function blobPath(digest: string): string {
  const i = digest.indexOf(':');
  return `blobs/${digest.slice(0, i)}/${digest.slice(i + 1)}`;
}

// A descriptor without a platform fits any; otherwise the OS and architecture must be the
// host's (the variant is not checked: one arm variant runs another's images more often
// than not, and amd64 has none).
export function platformMatches(p: Platform | undefined, os: string, arch: string): boolean {
  return p === undefined || (p.os === os && p.architecture === arch);
}

// The name an index.json entry gives its image. containerd writes the full reference in
// io.containerd.image.name and only the tag in org.opencontainers.image.ref.name; other
// tools put a full reference in the latter. A bare tag names nothing we could tag.
export function nameFromAnnotations(a: Record<string, string> | undefined): NamedRef | null {
  if (!a) return null;
  for (const key of [AnnotationImageName, AnnotationRefName]) {
    const s = a[key];
    if (!s) continue;
    if (key === AnnotationRefName && !s.includes('/') && !s.includes(':')) continue;
    try {
      const ref = tagNameOnly(parseNormalizedNamed(s));
      if (ref.tag !== undefined) return ref;
    } catch {
      // not a reference: look at the next annotation
    }
  }
  return null;
}

// --- writing (save) ---

// Go's encoding/json escapes these even inside strings; so do we, so the bytes (and the
// v1 IDs computed from them) are the ones dockerd writes.
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const EPOCH = '1970-01-01T00:00:00Z';

// v1.V1Image's fields in declaration order, omitempty as Go applies it (a struct value is
// never empty, so container_config is always there).
function v1Fields(config: ImageConfig | null): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (config?.comment) o.comment = config.comment;
  o.created = config ? normaliseRfc3339(config.created) : EPOCH;
  if (config?.container) o.container = config.container;
  o.container_config = dockerContainerConfig(config?.container_config);
  if (config?.docker_version) o.docker_version = config.docker_version;
  if (config?.author) o.author = config.author;
  if (config?.config) o.config = dockerContainerConfig(config.config);
  if (config?.architecture) o.architecture = config.architecture;
  if (config?.variant) o.variant = config.variant;
  if (config?.os) o.os = config.os;
  return o;
}

export interface V1Layer {
  id: string; // 64 hex: the layer's directory
  json: string; // its `json` file
}

// The legacy per-layer configs of a docker-archive, as moby's save computes them: every
// layer but the top one gets an empty config created at the epoch; the top one carries
// the image's. The ID hashes that config with the layer's chain ID and its parent's ID
// (v1.CreateID), so a layer shared by two saved images gets one directory.
export function v1Layers(config: ImageConfig, chainIds: readonly string[]): V1Layer[] {
  const out: V1Layer[] = [];
  let parent = '';
  chainIds.forEach((chain, i) => {
    const top = i === chainIds.length - 1;
    const fields = v1Fields(top ? config : null);
    const forId: Record<string, unknown> = { ...fields, layer_id: chain };
    if (parent) forId.parent = `sha256:${parent}`;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(forId).sort()) sorted[k] = forId[k];
    const id = digestHex(sha256Digest(goJson(sorted)));
    const { os: _os, ...rest } = fields;
    const json: Record<string, unknown> = { id, ...(parent ? { parent } : {}), ...rest };
    if (config.os) json.os = config.os;
    out.push({ id, json: goJson(json) });
    parent = id;
  });
  return out;
}

export function ociManifest(configDigest: string, configSize: number, layers: Array<{ digest: string; size: number }>): string {
  return goJson({
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: configSize },
    layers: layers.map((l) => ({ mediaType: MediaTypes.ociLayer, digest: l.digest, size: l.size })),
  });
}

export function ociIndex(manifests: Descriptor[]): string {
  return goJson({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests });
}

// json.Encoder output: the value, then a newline.
export function dockerManifestJson(items: DockerManifestItem[]): string {
  return goJson(items) + '\n';
}

export function repositoriesJson(repos: Map<string, Map<string, string>>): string {
  const out: Record<string, Record<string, string>> = {};
  for (const name of [...repos.keys()].sort()) {
    const tags = repos.get(name)!;
    out[name] = {};
    for (const tag of [...tags.keys()].sort()) out[name][tag] = tags.get(tag)!;
  }
  return goJson(out) + '\n';
}

// --- helpers ---

function parseJson(data: Buffer, what: string): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw invalid(`invalid archive: ${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
