import { invalid } from '../util/errors.js';

// The filters of GET /volumes and POST /volumes/prune, as moby's volume service reads
// them (filtersToBy, withPrune). Pure, for table tests.

export type Filters = Record<string, string[]>;

export interface VolumeFacts {
  name: string;
  driver: string;
  labels: Record<string, string> | null;
  referenced: boolean;
}

export const LIST_FILTERS = new Set(['dangling', 'name', 'driver', 'label']);
export const PRUNE_FILTERS = new Set(['label', 'label!', 'all']);

function invalidFilter(key: string, values?: string[]): Error {
  return invalid(`invalid filter '${key}${values ? `=${values.join(',')}` : ''}'`);
}

export function validateFilters(filters: Filters, accepted: Set<string>): void {
  for (const key of Object.keys(filters)) if (!accepted.has(key)) throw invalidFilter(key);
}

// filters.Args.GetBoolOrDefault: every value must agree and be true/1 or false/0.
export function boolFilter(filters: Filters, key: string): boolean | undefined {
  const values = filters[key];
  if (!values || values.length === 0) return undefined;
  let result: boolean | undefined;
  for (const v of values) {
    const b = v.toLowerCase() === 'true' || v === '1' ? true : v.toLowerCase() === 'false' || v === '0' ? false : undefined;
    if (b === undefined || (result !== undefined && result !== b)) throw invalidFilter(key, values);
    result = b;
  }
  return result;
}

// filters.Args.Match: a value matches when it equals the field or, read as a regular
// expression, matches somewhere in it.
function matchesAny(values: string[], field: string): boolean {
  return values.some((v) => {
    if (v === field) return true;
    try {
      return new RegExp(v).test(field);
    } catch {
      return false;
    }
  });
}

function hasLabel(labels: Record<string, string> | null, spec: string): boolean {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (!labels || !(key in labels)) return false;
  return eq < 0 || labels[key] === spec.slice(eq + 1);
}

export function volumeMatches(v: VolumeFacts, filters: Filters): boolean {
  if (filters.driver?.length && !filters.driver.includes(v.driver)) return false;
  if (filters.name?.length && !matchesAny(filters.name, v.name)) return false;
  if (filters.label?.length && !filters.label.every((l) => hasLabel(v.labels, l))) return false;
  if (filters['label!']?.length && filters['label!'].some((l) => hasLabel(v.labels, l))) return false;
  const dangling = boolFilter(filters, 'dangling');
  if (dangling !== undefined && v.referenced === dangling) return false;
  return true;
}

// withPrune: unless all=true, only anonymous volumes go (API 1.42 and later).
export function pruneFilters(filters: Filters, anonymousLabel: string): Filters {
  const all = filters.all ?? [];
  if (all.length > 1) throw invalid(`invalid filter 'all=${all.join(',')}': only one value is expected`);
  const out: Filters = { ...filters };
  delete out.all;
  if (all.length === 1) {
    const v = all[0].toLowerCase();
    const ok = ['1', 't', 'true'].includes(v) ? true : ['0', 'f', 'false'].includes(v) ? false : null;
    if (ok === null) throw invalid(`invalid filter 'all': strconv.ParseBool: parsing ${JSON.stringify(all[0])}: invalid syntax`);
    if (ok) return out;
  }
  out.label = [...(out.label ?? []), anonymousLabel];
  return out;
}
