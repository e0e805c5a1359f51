import { parseGoDuration } from '../util/units.js';

// moby's timetypes.GetTimestamp: a Go duration ("10m") counts back from now; an
// RFC 3339-ish date becomes "<seconds>.<nanoseconds>"; a Unix timestamp passes through.

export function getTimestamp(value: string, reference: Date): string {
  if (value !== '0') {
    try {
      const ns = parseGoDuration(value);
      return String(Math.floor((reference.getTime() - ns / 1e6) / 1000));
    } catch {
      /* not a duration */
    }
  }
  const inLocation = !/[zZ+]/.test(value) && (value.match(/-/g) ?? []).length !== 3;
  let iso: string | undefined;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?)?(Z|[zZ]|[+-]\d{2}:\d{2})?$/.exec(value))) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
    iso = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone ? (zone.toUpperCase() === 'Z' ? 'Z' : zone) : ''}`;
    if (!inLocation && !zone) iso = undefined;
  }
  if (iso !== undefined) {
    const t = new Date(iso);
    if (!Number.isNaN(t.getTime())) {
      const frac = /\.(\d{1,9})/.exec(value)?.[1] ?? '';
      const nanos = frac.padEnd(9, '0');
      return `${Math.floor(t.getTime() / 1000)}.${nanos || '000000000'}`;
    }
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
}
