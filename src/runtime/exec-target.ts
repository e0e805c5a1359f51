import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveInRoot } from './user.js';
import { needsLookup, type ExecTarget, type RuntimeKind } from './runtime-errors.js';

// What runtime-errors.ts needs to word a failed create or exec as runc would: the command,
// and, when the runtime's message does not say, whether its path exists in the container's
// rootfs (resolved there, symlinks and all, never on the host).
export async function execTarget(kind: RuntimeKind, message: string, rootfs: string, cwd: string, command: string): Promise<ExecTarget> {
  if (!needsLookup(kind, message) || !command.includes('/')) return { command };
  const path = command.startsWith('/') ? command : join(cwd || '/', command);
  const exists = await resolveInRoot(rootfs, path).then((p) => lstat(p)).then(() => true, () => false);
  return { command, exists };
}
