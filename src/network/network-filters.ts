import { invalid } from '../util/errors.js';
import { isPredefined, type NetworkRecord } from './types.js';

// GET /networks?filters=… and POST /networks/prune?filters=…, with Docker's semantics:
// values of one key OR, keys AND; name and id match as Go regexps (or exactly),
// driver and scope exactly; dangling = no container attached; type builtin|custom.

export type Filters = Record<string, string[]>;

const LIST_KEYS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
const PRUNE_KEYS = new Set(['until', 'label', 'label!']);

function regexMatch(pattern: string, s: string): boolean {
  if (pattern === s) return true;
  try {
    return new RegExp(pattern).test(s);
  } catch {
    return false;
  }
}

export function labelsMatch(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return filter in labels;
  return labels[filter.slice(0, eq)] === filter.slice(eq + 1);
}

export function filterNetworks(nets: NetworkRecord[], filters: Filters, inUse: (n: NetworkRecord) => boolean): NetworkRecord[] {
  for (const k of Object.keys(filters)) if (!LIST_KEYS.has(k)) throw invalid(`invalid filter '${k}'`);
  const f = filters;
  let out = nets.filter((n) => {
    if (f.driver && !f.driver.includes(n.Driver)) return false;
    if (f.name && !f.name.some((v) => regexMatch(v, n.Name))) return false;
    if (f.id && !f.id.some((v) => regexMatch(v, n.Id))) return false;
    if (f.label && !f.label.every((l) => labelsMatch(n.Labels ?? {}, l))) return false;
    if (f.scope && !f.scope.includes(n.Scope)) return false;
    return true;
  });
  if (f.dangling) {
    if (f.dangling.length > 1) throw invalid('got more than one value for filter key "dangling"');
    const v = f.dangling[0];
    if (!['0', 'false', '1', 'true'].includes(v!)) throw invalid(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
    const dangling = v === '1' || v === 'true';
    out = out.filter((n) => (dangling ? !isPredefined(n.Name) && !inUse(n) : isPredefined(n.Name) || inUse(n)));
  }
  if (f.type) {
    for (const t of f.type) if (t !== 'builtin' && t !== 'custom') throw invalid(`invalid filter: 'type'='${t}'`);
    out = out.filter((n) => (isPredefined(n.Name) ? f.type!.includes('builtin') : f.type!.includes('custom')));
  }
  return out;
}

// Go durations and timestamps as `until` takes them: "24h", "10m", an RFC 3339 date, or unix seconds.
export function parseUntil(v: string, now = Date.now()): number {
  const dur = /^(\d+(?:\.\d+)?)(h|m|s|ms)$/.exec(v);
  if (dur) return now - Number(dur[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[dur[2] as 'h' | 'm' | 's' | 'ms'];
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`failed to parse value as time or duration: "${v}"`);
  return t;
}

export function prunable(nets: NetworkRecord[], filters: Filters, inUse: (n: NetworkRecord) => boolean, now = Date.now()): NetworkRecord[] {
  for (const k of Object.keys(filters)) if (!PRUNE_KEYS.has(k)) throw invalid(`invalid filter '${k}'`);
  const until = filters.until?.length ? Math.min(...filters.until.map((u) => parseUntil(u, now))) : null;
  return nets.filter((n) => {
    if (isPredefined(n.Name) || inUse(n)) return false;
    if (until !== null && Date.parse(n.Created) >= until) return false;
    if (filters.label && !filters.label.every((l) => labelsMatch(n.Labels ?? {}, l))) return false;
    if (filters['label!'] && filters['label!'].some((l) => labelsMatch(n.Labels ?? {}, l))) return false;
    return true;
  });
}
