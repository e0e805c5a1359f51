import { MediaTypes } from '../image/archive-format.js';
import { digestError } from '../image/digest.js';
import type { LayerCompression } from '../storage/layer-decompress.js';
import { invalid } from '../util/errors.js';
import { formatPlatform, platformScore, type Platform } from './platform.js';

// Registry manifests: Docker v2 schema 2 and OCI image manifests, Docker manifest lists
// and OCI indexes; parsing with moby's checks and messages, picking a platform's entry,
// and writing the schema 2 manifest push sends.

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
}

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

const SCHEMA1 = new Set([
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

// What pull accepts, in the order docker's Accept header lists them.
export const MANIFEST_ACCEPT = [
  MediaTypes.dockerManifest,
  MediaTypes.dockerManifestList,
  MediaTypes.ociManifest,
  MediaTypes.ociIndex,
];

// moby's supportedMediaTypes: prefixes of image content, plus the odd values old images
// carry; anything else (OCI artifacts, AI models) is refused before any download.
const SUPPORTED_PREFIXES = ['application/vnd.oci.image', 'application/vnd.docker'];
const SUPPORTED_EXACT = new Set(['application/octet-stream', 'application/json', 'text/html', '']);
const IMAGE_CONFIG_TYPES = new Set([MediaTypes.dockerConfig, MediaTypes.ociConfig, 'application/octet-stream', 'application/json', 'text/html', '']);
const PLUGIN_CONFIG = 'application/vnd.docker.plugin.v1+json';

export class UnsupportedManifestError extends Error {}

export function schema1Error(refString: string): Error {
  return invalid(
    'Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed. ' +
      `Suggest the author of ${refString} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. ` +
      'More information at https://docs.docker.com/go/deprecated-image-specs/',
  );
}

// refString names the image in the schema 1 message.
export function parseManifest(data: Buffer, contentType: string, refString: string): Manifest {
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw invalid(`invalid manifest: ${(err as Error).message}`);
  }
  if (!isObject(v)) throw invalid('unsupported manifest format');
  const declared = typeof v.mediaType === 'string' ? v.mediaType : '';
  const header = contentType.split(';')[0]!.trim();
  let mediaType = declared || header;
  if (SCHEMA1.has(mediaType) || v.schemaVersion === 1) throw schema1Error(refString);
  if (!MANIFEST_ACCEPT.includes(mediaType as (typeof MANIFEST_ACCEPT)[number])) {
    // OCI content may omit mediaType; the shape tells which it is.
    if (Array.isArray(v.manifests)) mediaType = MediaTypes.ociIndex;
    else if (isObject(v.config) && Array.isArray(v.layers)) mediaType = MediaTypes.ociManifest;
    else throw invalid('unsupported manifest format');
  }
  if (mediaType === MediaTypes.dockerManifestList || mediaType === MediaTypes.ociIndex) {
    if (!Array.isArray(v.manifests)) throw invalid('unsupported manifest format');
    return { kind: 'index', mediaType, manifests: v.manifests.map((d) => descriptor(d)) };
  }
  if (!isObject(v.config) || !Array.isArray(v.layers)) throw invalid('unsupported manifest format');
  return { kind: 'image', mediaType, config: descriptor(v.config), layers: v.layers.map((d) => descriptor(d)) };
}

function descriptor(v: unknown): Descriptor {
  if (!isObject(v)) throw invalid('invalid manifest: descriptor is not an object');
  const digest = typeof v.digest === 'string' ? v.digest : '';
  const err = digestError(digest);
  if (err) throw invalid(`could not validate layer digest ${JSON.stringify(digest)}: ${err}`);
  const size = typeof v.size === 'number' && Number.isSafeInteger(v.size) && v.size >= 0 ? v.size : -1;
  const d: Descriptor = { mediaType: typeof v.mediaType === 'string' ? v.mediaType : '', digest, size };
  if (Array.isArray(v.urls)) d.urls = v.urls.filter((u): u is string => typeof u === 'string');
  const p = v.platform;
  if (isObject(p) && typeof p.os === 'string' && typeof p.architecture === 'string') {
    d.platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string' && p.variant) d.platform.variant = p.variant;
  }
  return d;
}

// checkSupportedMediaType: exact matches or a known prefix followed by ".".
export function checkSupportedMediaType(mediaType: string): void {
  const lower = mediaType.toLowerCase();
  if (lower.startsWith('application/vnd.docker.ai.')) {
    throw invalid('AI models are not yet supported by the Engine, please use "docker model pull/run" instead');
  }
  if (SUPPORTED_EXACT.has(lower)) return;
  if (SUPPORTED_PREFIXES.some((p) => lower === p || lower.startsWith(p + '.'))) return;
  throw invalid(`unsupported media type ${mediaType}`);
}

// validateMediaType: only image configs are pulled (plugins have their own command).
export function checkConfigMediaType(mediaType: string): void {
  if (IMAGE_CONFIG_TYPES.has(mediaType)) return;
  const cls = mediaType === PLUGIN_CONFIG ? 'plugin' : 'unknown';
  throw invalid(`Encountered remote ${JSON.stringify(mediaType)}(${cls}) when fetching`);
}

// The index entries that fit the platform, best first (stable for equal fits).
export function matchingManifests(index: Descriptor[], wanted: Platform): Descriptor[] {
  return index
    .map((d, i) => ({ d, i, score: platformScore(d.platform, wanted) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((x) => x.d);
}

export function noMatchingManifest(wanted: Platform): Error {
  return invalid(`no matching manifest for ${formatPlatform(wanted)} in the manifest list entries`);
}

export type { LayerCompression };

// The compression a layer's media type declares (the bytes are sniffed as well).
export function layerCompression(mediaType: string): LayerCompression {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd';
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip';
  return 'none';
}

// schema2.DeserializedManifest as docker's push serialises it: MarshalIndent with three
// spaces, fields in the Go structs' order.
export function schema2Manifest(config: { digest: string; size: number; mediaType?: string }, layers: Array<{ digest: string; size: number; mediaType?: string }>): Buffer {
  const body = {
    schemaVersion: 2,
    mediaType: MediaTypes.dockerManifest,
    config: { mediaType: config.mediaType ?? MediaTypes.dockerConfig, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType ?? MediaTypes.dockerLayerGzip, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(body, null, 3));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
