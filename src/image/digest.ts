import { createHash } from 'node:crypto';
import { invalid } from '../util/errors.js';

// Digests as go-digest spells them ("sha256:<64 hex>"), with its error texts, and
// OCI chain IDs. Only sha256 is registered, as in dockerd (sha384/sha512 parse as
// "unsupported" there too unless a caller imports them).

export const ErrDigestInvalidFormat = 'invalid checksum digest format';
export const ErrDigestInvalidLength = 'invalid checksum digest length';
export const ErrDigestUnsupported = 'unsupported digest algorithm';

const anchoredDigest = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

// go-digest's Digest.Validate: returns the error text, or null when valid.
export function digestError(s: string): string | null {
  const i = s.indexOf(':');
  if (i <= 0 || i + 1 === s.length) return ErrDigestInvalidFormat;
  const alg = s.slice(0, i);
  const hex = s.slice(i + 1);
  if (alg !== 'sha256') return anchoredDigest.test(s) ? ErrDigestUnsupported : ErrDigestInvalidFormat;
  if (hex.length !== 64) return ErrDigestInvalidLength;
  if (!/^[a-f0-9]{64}$/.test(hex)) return ErrDigestInvalidFormat;
  return null;
}

export function parseDigest(s: string): string {
  const err = digestError(s);
  if (err) throw invalid(err);
  return s;
}

export const isSha256Digest = (s: string): boolean => /^sha256:[a-f0-9]{64}$/.test(s);

export const sha256Digest = (data: string | Uint8Array): string =>
  'sha256:' + createHash('sha256').update(data).digest('hex');

export const digestHex = (digest: string): string => digest.replace(/^sha256:/, '');

// ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)).
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : sha256Digest(`${prev} ${diffId}`));
  }
  return out;
}

export function topChainId(diffIds: readonly string[]): string | null {
  const ids = chainIds(diffIds);
  return ids.length ? ids[ids.length - 1] : null;
}
