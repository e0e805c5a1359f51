import { BerthError, invalid } from '../util/errors.js';
import { ramInBytes } from '../util/units.js';

// Log drivers berthd accepts. conmon writes every container's log in one format, read back
// by `logs`; the driver name is what clients see, and they act on it: docker-py and
// compose read logs only for json-file/journald/local, as dockerd's default is json-file.
const OPTS: Record<string, ReadonlySet<string>> = {
  'json-file': new Set(['max-file', 'max-size', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size']),
  local: new Set(['max-file', 'max-size', 'compress', 'mode', 'max-buffer-size']),
  none: new Set(),
};

export const DEFAULT_LOG_DRIVER = 'json-file';

// dockerd's logger.ValidateLogOpts, at create.
export function validateLogConfig(cfg: { Type?: string; Config?: Record<string, string> | null } | null | undefined): void {
  const type = cfg?.Type || DEFAULT_LOG_DRIVER;
  const allowed = OPTS[type];
  if (!allowed) throw invalid(`logger: no log driver named '${type}' is registered`);
  for (const key of Object.keys(cfg?.Config ?? {})) {
    if (!allowed.has(key)) throw invalid(`unknown log opt '${key}' for ${type} log driver`);
  }
  const size = cfg?.Config?.['max-size'];
  if (size) {
    try {
      ramInBytes(size);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  }
}

// --log-opt max-size in bytes (Docker's units: 10m = 10 MiB); undefined when unset.
export function logSizeMax(cfg: { Config?: Record<string, string> | null } | null | undefined): number | undefined {
  const raw = cfg?.Config?.['max-size'];
  if (!raw) return undefined;
  const n = ramInBytes(raw);
  return n > 0 ? n : undefined;
}

// `logs` on a container whose driver keeps nothing (moby's ErrReadLogsNotSupported).
export function assertLogsReadable(type: string): void {
  if (type === 'none') throw new BerthError('NotImplemented', 'configured logging driver does not support reading');
}

// What `logs --details` puts before each line (moby's logger.Info.ExtraAttributes, then the
// API's attrsByteSlice): the labels and env variables the log options name, sorted by key,
// query-escaped as "k=v,k2=v2", and a space, which is there even when nothing is named.
export function logDetailsPrefix(
  cfg: { Config?: Record<string, string> | null } | null | undefined,
  labels: Record<string, string> | null | undefined,
  env: readonly string[] | null | undefined,
): string {
  const opts = cfg?.Config ?? {};
  const extra = new Map<string, string>();
  const named = (key: string): string[] => (opts[key] ?? '').split(',').filter(Boolean);
  const matching = (key: string, entries: Array<[string, string]>): Array<[string, string]> => {
    if (!opts[key]) return [];
    try {
      const re = new RegExp(opts[key]);
      return entries.filter(([k]) => re.test(k));
    } catch {
      return []; // moby refuses such a pattern when the container starts
    }
  };
  const labelMap = new Map(Object.entries(labels ?? {}));
  for (const k of named('labels')) if (labelMap.has(k)) extra.set(k, labelMap.get(k)!);
  for (const [k, v] of matching('labels-regex', [...labelMap])) extra.set(k, v);
  const envMap = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i >= 0) envMap.set(e.slice(0, i), e.slice(i + 1));
  }
  for (const k of named('env')) if (envMap.has(k)) extra.set(k, envMap.get(k)!);
  for (const [k, v] of matching('env-regex', [...envMap])) extra.set(k, v);
  const sorted = [...extra].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(',') + ' ';
}

// Go's url.QueryEscape: only letters, digits and -_.~ stay; a space becomes '+'.
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}
