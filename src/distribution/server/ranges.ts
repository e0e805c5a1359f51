import { registryError } from './errors.js';

// The two kinds of range the registry API has: HTTP Range on blob reads (RFC 9110,
// one range; several fall back to the whole blob as Go's http.ServeContent would
// not, but as the spec allows), and the upload offsets of chunked pushes.

export type ByteRange = { start: number; end: number }; // inclusive

// null: serve the whole blob; 'unsatisfiable': answer 416.
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // bytes=-N: the last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null; // syntactically invalid: ignored per RFC 9110
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

// The Range header of an upload in progress. distribution writes "0-0" for an empty
// upload as well as a one-byte one; clients only read the end to resume.
export function uploadRangeHeader(size: number): string {
  return `0-${size > 0 ? size - 1 : 0}`;
}

// Content-Range of a PATCH or final PUT chunk: "<start>-<end>" (distribution), also
// tolerating a "bytes " or "bytes=" prefix that some clients send.
export function parseContentRange(header: string): ByteRange {
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  if (!m) throw registryError('RANGE_INVALID', `invalid content range format, ${header}`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

// The chunk must start where the upload stands, and Content-Length (when sent) must
// cover the range exactly: distribution's RANGE_INVALID (416) and SIZE_INVALID (400).
export function checkChunk(contentRange: string | undefined, contentLength: string | undefined, offset: number): void {
  if (contentRange === undefined || contentRange === '') return;
  const { start, end } = parseContentRange(contentRange);
  if (start > end || start !== offset) {
    throw registryError('RANGE_INVALID', { offset, range: contentRange });
  }
  if (contentLength !== undefined && contentLength !== '' && Number(contentLength) !== end - start + 1) {
    throw registryError('SIZE_INVALID', { range: contentRange, length: contentLength });
  }
}
