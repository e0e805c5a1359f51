import { registryError } from './errors.js';

// The grammar distribution/reference gives repository names, tags and digests. A name
// that passes it is also a safe relative path: every component starts with a letter
// or digit (never "." or "..", never "_" — so never one of the storage's own
// `_layers`, `_manifests`, `_uploads` directories), and none holds a "/" or "\0".

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const NAME_RE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_SHAPE_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

export const NAME_TOTAL_LENGTH_MAX = 255;

// The digests this registry can verify, with their hex length.
const ALGORITHMS: Record<string, number> = { sha256: 64, sha512: 128 };

export function isValidRepositoryName(name: string): boolean {
  return name.length > 0 && name.length <= NAME_TOTAL_LENGTH_MAX && NAME_RE.test(name);
}

export function checkRepositoryName(name: string): string {
  if (!isValidRepositoryName(name)) throw registryError('NAME_INVALID', { name });
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function looksLikeDigest(ref: string): boolean {
  return DIGEST_SHAPE_RE.test(ref);
}

export interface Digest {
  algorithm: 'sha256' | 'sha512';
  hex: string;
}

export function digestString(d: Digest): string {
  return `${d.algorithm}:${d.hex}`;
}

// A digest this registry can store and verify, or DIGEST_INVALID.
export function parseDigest(text: string): Digest {
  const colon = text.indexOf(':');
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1);
  const want = ALGORITHMS[algorithm];
  if (colon < 0 || want === undefined) throw registryError('DIGEST_INVALID', `unsupported digest algorithm: ${text}`);
  if (hex.length !== want || !/^[0-9a-f]+$/.test(hex)) throw registryError('DIGEST_INVALID', `invalid digest: ${text}`);
  return { algorithm: algorithm as Digest['algorithm'], hex };
}

export type ManifestReference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

export function parseManifestReference(ref: string): ManifestReference {
  if (isValidTag(ref)) return { kind: 'tag', tag: ref };
  if (looksLikeDigest(ref)) return { kind: 'digest', digest: parseDigest(ref) };
  throw registryError('TAG_INVALID', { tag: ref });
}
