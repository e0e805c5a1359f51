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
