import { invalid } from '../util/errors.js';
import type { Filters } from './types.js';

// The parts of moby's filters.Args that image listing and pruning use, with its messages.

export function validateFilters(filters: Filters, accepted: readonly string[]): void {
  for (const key of Object.keys(filters)) {
    if (!accepted.includes(key)) throw invalid(`Invalid filter '${key}'`);
  }
}

export const filterValues = (filters: Filters, key: string): string[] => filters[key] ?? [];
export const hasFilter = (filters: Filters, key: string): boolean => filterValues(filters, key).length > 0;

// dangling=true|false (prune also takes 1|0); null when absent.
export function danglingFilter(filters: Filters, allowNumeric: boolean): boolean | null {
  const values = filterValues(filters, 'dangling');
  if (values.length === 0) return null;
  const yes = allowNumeric ? ['true', '1'] : ['true'];
  const no = allowNumeric ? ['false', '0'] : ['false'];
  // dockerd checks "false" first for prune and "true" first for list.
  if (allowNumeric) {
    if (values.some((v) => no.includes(v))) return false;
    if (values.some((v) => yes.includes(v))) return true;
  } else {
    if (values.some((v) => yes.includes(v))) return true;
    if (values.some((v) => no.includes(v))) return false;
  }
  throw invalid(`Invalid filter 'dangling=[${values.join(' ')}]'`);
}

// MatchKVList: every "key" or "key=value" in the filter must hold for the labels.
export function matchKVList(filters: Filters, key: string, labels: Record<string, string> | null | undefined): boolean {
  const wanted = filterValues(filters, key);
  if (wanted.length === 0) return true;
  if (!labels || Object.keys(labels).length === 0) return false;
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    const k = eq < 0 ? w : w.slice(0, eq);
    if (!(k in labels)) return false;
    return eq < 0 || labels[k] === w.slice(eq + 1);
  });
}

// label=… must all match and, if given, label!=… must not all match (moby's matchLabels).
export function matchLabels(filters: Filters, labels: Record<string, string> | null | undefined): boolean {
  if (!matchKVList(filters, 'label', labels)) return false;
  if (hasFilter(filters, 'label!') && matchKVList(filters, 'label!', labels)) return false;
  return true;
}
