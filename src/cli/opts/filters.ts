import type { FlagSpec } from '../flags.js';

// docker's FilterOpt: repeated -f name=value, name lower-cased and both sides trimmed.

export type FilterMap = Record<string, string[]>;

export function addFilter(prev: unknown, value: string): FilterMap {
  const out: FilterMap = { ...((prev as FilterMap | undefined) ?? {}) };
  if (value === '') return out;
  const i = value.indexOf('=');
  if (i < 0) throw new Error('bad format of filter (expected name=value)');
  const name = value.slice(0, i).trim().toLowerCase();
  const val = value.slice(i + 1).trim();
  out[name] = [...(out[name] ?? []), val].filter((v, j, a) => a.indexOf(v) === j);
  return out;
}

export function filterFlag(usage = 'Filter output based on conditions provided'): FlagSpec {
  return { name: 'filter', short: 'f', kind: 'value', typeName: 'filter', usage, parse: (raw, prev) => addFilter(prev, raw) };
}

export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

export const INSPECT_FORMAT_HELP = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

export function formatFlag(usage = FORMAT_HELP, short?: string): FlagSpec {
  return { name: 'format', short, kind: 'string', usage };
}
