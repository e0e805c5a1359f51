import { invalid } from '../util/errors.js';
import { digestError } from './digest.js';
import { pathMatch } from './path-match.js';

// Docker's image reference grammar (github.com/distribution/reference):
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [domain '/'] remote-name
// with Docker's normalisation ("busybox" → "docker.io/library/busybox") and its
// familiar form for display. Error texts are the library's, as dockerd returns them.

export interface NamedRef {
  domain: string; // "docker.io", "localhost:5000", "127.0.0.1:5000", "[::1]:5000"
  path: string; // "library/busybox"
  tag?: string;
  digest?: string; // "sha256:<hex>"
}

export type AnyRef = { kind: 'named'; ref: NamedRef } | { kind: 'digest'; digest: string };

export const ErrReferenceInvalidFormat = 'invalid reference format';
export const ErrTagInvalidFormat = 'invalid tag format';
export const ErrNameContainsUppercase = 'repository name must be lowercase';
export const ErrNameEmpty = 'repository name must have at least one component';
export const ErrNameTooLong = 'repository name must not be more than 255 characters';

export const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_MAX = 255;

// The grammar, built from the same pieces as distribution/reference's regexp.go.
const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const domainNameComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const optionalPort = '(?::[0-9]+)?';
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const ipv6address = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

const referenceRe = new RegExp(`^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`);
const anchoredNameRe = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const anchoredTagRe = new RegExp(`^${tagPat}$`);
const anchoredIdentifierRe = /^[a-f0-9]{64}$/;

export const isImageIdHex = (s: string): boolean => anchoredIdentifierRe.test(s);

// reference.Parse: the raw grammar, no normalisation. Returns null name for a bare digest.
function parseRaw(s: string): AnyRef {
  if (s === '') throw invalid(ErrNameEmpty);
  const m = referenceRe.exec(s);
  if (!m) {
    const lower = s.toLowerCase();
    if (lower !== s && referenceRe.test(lower)) throw invalid(ErrNameContainsUppercase);
    throw invalid(ErrReferenceInvalidFormat);
  }
  const [, name, tag, digest] = m;
  const nm = anchoredNameRe.exec(name);
  const domain = nm ? nm[1] ?? '' : '';
  const path = nm ? nm[2] : name;
  if (path.length > NAME_MAX) throw invalid(ErrNameTooLong);
  if (digest !== undefined) {
    const err = digestError(digest);
    if (err) throw invalid(err);
  }
  const ref: NamedRef = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return { kind: 'named', ref };
}

// splitDockerDomain: the first component is a registry only if it looks like one.
export function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let remainder: string;
  if (slash < 0) {
    return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  }
  const maybeDomain = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (maybeDomain === 'localhost') [domain, remainder] = [maybeDomain, rest];
  else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) [domain, remainder] = [DEFAULT_DOMAIN, rest];
  else if (/[.:]/.test(maybeDomain)) [domain, remainder] = [maybeDomain, rest];
  else if (maybeDomain.toLowerCase() !== maybeDomain) [domain, remainder] = [maybeDomain, rest];
  else [domain, remainder] = [DEFAULT_DOMAIN, name];
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

// ParseNormalizedNamed: what users type, made fully qualified.
export function parseNormalizedNamed(s: string): NamedRef {
  if (anchoredIdentifierRe.test(s)) {
    throw invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  const { domain, remainder } = splitDockerDomain(s);
  const tagSep = remainder.indexOf(':');
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) {
    throw invalid(`invalid reference format: repository name (${remote}) must be lowercase`);
  }
  const parsed = parseRaw(`${domain}/${remainder}`);
  if (parsed.kind !== 'named') throw invalid(ErrReferenceInvalidFormat);
  return parsed.ref;
}

// ParseAnyReference: a 64-hex string or "sha256:<hex>" is an image ID, anything else a name.
export function parseAnyReference(s: string): AnyRef {
  if (anchoredIdentifierRe.test(s)) return { kind: 'digest', digest: `sha256:${s}` };
  if (digestError(s) === null) return { kind: 'digest', digest: s };
  return { kind: 'named', ref: parseNormalizedNamed(s) };
}

// ParseDockerRef: name:tag or name@digest (a tag is dropped when a digest is present).
export function parseDockerRef(s: string): NamedRef {
  const ref = parseNormalizedNamed(s);
  if (ref.digest !== undefined) return { domain: ref.domain, path: ref.path, digest: ref.digest };
  return tagNameOnly(ref);
}

export function withTag(ref: NamedRef, tag: string): NamedRef {
  if (!anchoredTagRe.test(tag)) throw invalid(ErrTagInvalidFormat);
  const out: NamedRef = { domain: ref.domain, path: ref.path, tag };
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}

export function withDigest(ref: NamedRef, digest: string): NamedRef {
  const err = digestError(digest);
  if (err) throw invalid(err);
  const out: NamedRef = { domain: ref.domain, path: ref.path, digest };
  if (ref.tag !== undefined) out.tag = ref.tag;
  return out;
}

export const trimNamed = (ref: NamedRef): NamedRef => ({ domain: ref.domain, path: ref.path });
export const isNameOnly = (ref: NamedRef): boolean => ref.tag === undefined && ref.digest === undefined;
export const tagNameOnly = (ref: NamedRef): NamedRef => (isNameOnly(ref) ? { ...ref, tag: DEFAULT_TAG } : ref);

// The canonical repository name: "docker.io/library/busybox".
export const refName = (ref: NamedRef): string => (ref.domain ? `${ref.domain}/${ref.path}` : ref.path);

function suffix(ref: NamedRef): string {
  return (ref.tag !== undefined ? `:${ref.tag}` : '') + (ref.digest !== undefined ? `@${ref.digest}` : '');
}

// The canonical string: "docker.io/library/busybox:latest".
export const refString = (ref: NamedRef): string => refName(ref) + suffix(ref);

// The familiar name: "busybox", "user/app", "localhost:5000/x".
export function familiarName(ref: NamedRef): string {
  let { domain, path } = ref;
  if (domain === DEFAULT_DOMAIN) {
    domain = '';
    if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
      const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
      if (!rest.includes('/')) path = rest;
    }
  }
  return domain ? `${domain}/${path}` : path;
}

export const familiarString = (ref: NamedRef): string => familiarName(ref) + suffix(ref);

export function anyRefFamiliarString(ref: AnyRef): string {
  return ref.kind === 'digest' ? ref.digest : familiarString(ref.ref);
}

// FamiliarMatch, widened as current moby does for `--filter reference=`: the pattern may
// match the familiar or the canonical form, with or without the tag.
export function referenceMatches(pattern: string, ref: NamedRef): boolean {
  const targets = [familiarString(ref), familiarName(ref), refString(tagNameOnly(ref)), refName(ref)];
  let matched = false;
  for (const t of targets) if (pathMatch(pattern, t)) matched = true;
  return matched;
}
