import { registryError } from './errors.js';
import { digestString, parseDigest } from './names.js';

// What the registry needs to know about a manifest: its media type (served back as
// Content-Type) and what it references (checked to exist before it is accepted).
// The bytes themselves are stored and served exactly as pushed.

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

export type ManifestMediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

const KNOWN: ReadonlySet<string> = new Set(Object.values(MEDIA_TYPES));
const isList = (t: string): boolean => t === MEDIA_TYPES.dockerList || t === MEDIA_TYPES.ociIndex;

export interface ManifestPlatformEntry {
  digest: string;
  os?: string;
  architecture?: string;
}

export interface ParsedManifest {
  // One of MEDIA_TYPES for anything accepted here; stored manifests written by
  // another registry (schema 1) keep whatever they declare.
  mediaType: string;
  // Blobs an image manifest needs (config and layers that are not foreign).
  blobs: string[];
  // Manifests a list or index needs.
  manifests: ManifestPlatformEntry[];
}

const invalid = (detail: string): Error => registryError('MANIFEST_INVALID', detail);

function descriptorDigest(d: unknown, where: string): string {
  const digest = (d as { digest?: unknown } | null)?.digest;
  if (typeof d !== 'object' || d === null || typeof digest !== 'string') throw invalid(`${where}: descriptor without a digest`);
  try {
    return digestString(parseDigest(digest));
  } catch {
    throw invalid(`${where}: invalid digest ${JSON.stringify(digest)}`);
  }
}

// The media type the body declares, else the Content-Type it came with, else its
// shape (OCI made `mediaType` optional in early manifests and indexes).
function detectMediaType(body: Record<string, unknown>, contentType: string | undefined): ManifestMediaType {
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  const header = contentType?.split(';')[0].trim();
  if (declared !== undefined) {
    if (!KNOWN.has(declared)) throw invalid(`unsupported manifest media type ${JSON.stringify(declared)}`);
    if (header && KNOWN.has(header) && header !== declared) {
      throw invalid(`mediaType in manifest should be '${header}' not '${declared}'`);
    }
    return declared as ManifestMediaType;
  }
  if (header && KNOWN.has(header)) return header as ManifestMediaType;
  if (Array.isArray(body.manifests)) return MEDIA_TYPES.ociIndex;
  if (body.config !== undefined) return MEDIA_TYPES.ociManifest;
  throw invalid('unrecognized manifest content');
}

export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw invalid(`invalid JSON: ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('manifest is not a JSON object');
  const obj = body as Record<string, unknown>;
  if (obj.schemaVersion !== 2) throw invalid(`unsupported manifest schemaVersion ${JSON.stringify(obj.schemaVersion)}`);
  const mediaType = detectMediaType(obj, contentType);
  if (isList(mediaType)) {
    if (!Array.isArray(obj.manifests)) throw invalid('index without a manifests array');
    const manifests = obj.manifests.map((d: unknown, i: number) => {
      const platform = (d as { platform?: { os?: unknown; architecture?: unknown } }).platform;
      return {
        digest: descriptorDigest(d, `manifests[${i}]`),
        os: typeof platform?.os === 'string' ? platform.os : undefined,
        architecture: typeof platform?.architecture === 'string' ? platform.architecture : undefined,
      };
    });
    return { mediaType, blobs: [], manifests };
  }
  if (!Array.isArray(obj.layers)) throw invalid('manifest without a layers array');
  const blobs = [descriptorDigest(obj.config, 'config')];
  obj.layers.forEach((d: unknown, i: number) => {
    const digest = descriptorDigest(d, `layers[${i}]`);
    // Foreign layers (Windows base layers) live at their URLs, not in the registry.
    const urls = (d as { urls?: unknown }).urls;
    if (!(Array.isArray(urls) && urls.length > 0)) blobs.push(digest);
  });
  return { mediaType, blobs: [...new Set(blobs)], manifests: [] };
}

// A stored manifest, described without failing: a volume written by another registry
// may hold what this one would not accept (schema 1); it is served as it declares.
export function describeStoredManifest(bytes: Uint8Array): ParsedManifest {
  try {
    return parseManifest(bytes);
  } catch {
    let declared: unknown;
    try {
      declared = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown }).mediaType;
    } catch {
      declared = undefined;
    }
    return { mediaType: typeof declared === 'string' ? declared : 'application/json', blobs: [], manifests: [] };
  }
}

// Which manifest types a client accepts. No Accept header, or a wildcard (curl's
// "*/*"), takes anything; distribution would refuse OCI types then, but nothing is
// gained by making `curl .../manifests/latest` fail.
export function acceptedTypes(acceptHeaders: readonly string[]): Set<string> | 'any' {
  const types = new Set<string>();
  for (const h of acceptHeaders) {
    for (const part of h.split(',')) {
      const t = part.split(';')[0].trim().toLowerCase();
      if (t === '*/*' || t === 'application/*') return 'any';
      if (t) types.add(t);
    }
  }
  return types.size === 0 ? 'any' : types;
}

export type Negotiation =
  | { kind: 'serve' }
  // An old client asked for a tag that names a Docker manifest list: give it the
  // manifest for this platform instead, as distribution does.
  | { kind: 'platform'; digest: string }
  | { kind: 'refuse'; message: string };

export function negotiate(
  stored: ParsedManifest,
  accepted: Set<string> | 'any',
  byTag: boolean,
  platform: { os: string; architecture: string },
): Negotiation {
  if (accepted === 'any' || accepted.has(stored.mediaType)) return { kind: 'serve' };
  switch (stored.mediaType) {
    case MEDIA_TYPES.ociManifest:
      return { kind: 'refuse', message: 'OCI manifest found, but accept header does not support OCI manifests' };
    case MEDIA_TYPES.ociIndex:
      return { kind: 'refuse', message: 'OCI index found, but accept header does not support OCI indexes' };
    case MEDIA_TYPES.dockerList: {
      if (!byTag || !accepted.has(MEDIA_TYPES.dockerManifest)) return { kind: 'serve' };
      const match = stored.manifests.find((m) => m.os === platform.os && m.architecture === platform.architecture);
      return match ? { kind: 'platform', digest: match.digest } : { kind: 'refuse', message: 'manifest unknown' };
    }
    default:
      // A schema 2 manifest is what every v2 client understands.
      return { kind: 'serve' };
  }
}
