import { invalid } from '../util/errors.js';

// Go's time formats as they appear in image JSON and the Engine API. JavaScript dates
// stop at milliseconds; image configs carry nanoseconds, so time here is a bigint of ns.

const NS_PER_SEC = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

export const ZERO_TIME = '0001-01-01T00:00:00Z';

// Wall clock with sub-millisecond digits (hrtime keeps them unique and increasing enough).
export function nowNs(): bigint {
  return BigInt(Date.now()) * NS_PER_MS + (process.hrtime.bigint() % NS_PER_MS);
}

// time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, no fraction if zero.
export function formatRfc3339Nano(ns: bigint): string {
  let sec = ns / NS_PER_SEC;
  let frac = ns % NS_PER_SEC;
  if (frac < 0n) {
    frac += NS_PER_SEC;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${f}Z`;
}

export const nowRfc3339Nano = (): string => formatRfc3339Nano(nowNs());

const rfc3339Re = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

// Parses RFC 3339 with up to nanosecond precision; null when it is not one.
export function parseRfc3339Ns(s: string): bigint | null {
  const m = rfc3339Re.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac, z, sign, oh, om] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (Number.isNaN(ms)) return null;
  // Date.UTC maps years 0-99 to 1900-1999; Go's zero time is year 1.
  if (Number(y) < 100) {
    const dt = new Date(ms);
    dt.setUTCFullYear(Number(y));
    ms = dt.getTime();
  }
  if (!z) ms -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  const nanos = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return BigInt(ms) * NS_PER_MS + nanos;
}

// Unix seconds of an RFC 3339 string (0 when missing or unparsable, as for a zero time).
export function unixSeconds(s: string | undefined): number {
  const ns = s ? parseRfc3339Ns(s) : null;
  if (ns === null) return 0;
  const sec = ns / NS_PER_SEC;
  return Number(ns < 0n && ns % NS_PER_SEC !== 0n ? sec - 1n : sec);
}

// Normalises a stored timestamp the way Go re-marshals it (RFC3339Nano, UTC kept as Z).
export function normaliseRfc3339(s: string | undefined): string {
  if (!s) return ZERO_TIME;
  const m = rfc3339Re.exec(s);
  if (!m) return s;
  const [whole, , , , , , , frac] = m;
  if (frac === undefined) return whole.replace(/z$/, 'Z');
  const trimmed = frac.replace(/0+$/, '');
  return whole.replace(`.${frac}`, trimmed ? `.${trimmed}` : '').replace(/z$/, 'Z');
}

const durationUnits: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

// time.ParseDuration, in nanoseconds.
export function parseGoDuration(s: string): number {
  const bad = (): never => {
    throw invalid(`time: invalid duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest[0] === '-' ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]*)/;
  while (rest) {
    const m = part.exec(rest)!;
    if (m[1] === '' && (m[2] ?? '') === '') bad();
    if (m[3] === '') throw invalid(`time: missing unit in duration ${JSON.stringify(s)}`);
    const unit = durationUnits[m[3]];
    if (unit === undefined) {
      throw invalid(`time: unknown unit ${JSON.stringify(m[3])} in duration ${JSON.stringify(s)}`);
    }
    total += Number(m[1] || '0') * unit + (m[2] ? Number(`0.${m[2]}`) * unit : 0);
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}

// api/types/time.GetTimestamp for `until`/`since` filters: a Go duration before now, a
// unix timestamp (seconds[.fraction]) or an RFC 3339 date or date-time.
export function parseFilterTimestamp(value: string, nowMs = Date.now()): bigint {
  if (value !== '0') {
    try {
      return (BigInt(nowMs) * NS_PER_MS) - BigInt(parseGoDuration(value));
    } catch {
      // not a duration
    }
  }
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(value);
  if (unix) return BigInt(unix[1]) * NS_PER_SEC + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const exact = parseRfc3339Ns(value);
  if (exact !== null) return exact;
  if (/^\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?$/.test(value)) {
    // Without a zone Go reads it in local time; JS does the same for date-times.
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00` : value.length === 13 ? `${value}:00` : value);
    if (!Number.isNaN(ms)) return BigInt(ms) * NS_PER_MS;
  }
  throw invalid(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
}
