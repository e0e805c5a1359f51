import { accessSync, constants } from 'node:fs';
import { invalid } from '../util/errors.js';

// `run --init`: a small init (tini, as Docker's docker-init is) bind-mounted read-only at
// /sbin/docker-init and run as PID 1, so signals are forwarded and zombies reaped. The
// static build works in any image, whatever libc it has.
const CANDIDATES = ['/usr/bin/tini-static', '/usr/libexec/docker/docker-init', '/usr/bin/docker-init'];

export const INIT_PATH_IN_CONTAINER = '/sbin/docker-init';

let found: string | null | undefined;

export function initBinary(configured?: string): string {
  if (configured) return configured;
  if (found === undefined) found = CANDIDATES.find((p) => isExecutable(p)) ?? null;
  if (!found) throw invalid('docker-init binary not found: install Debian\'s tini package (scripts/install-deps.sh does)');
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
