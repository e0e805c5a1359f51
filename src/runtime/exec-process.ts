import type { OciProcess } from './oci-spec.js';
import { buildEnv, ociUser } from './oci-spec.js';
import { effectiveCaps } from './capabilities.js';
import type { ResolvedUser } from './user.js';

// The process of an exec: the container's own process (from its bundle's config.json) with
// what `docker exec` may change replaced, as moby's ContainerExecStart does with the
// container's spec.Process. Pure: the user and the host's capabilities come in resolved.

export interface ExecProcessInput {
  args: string[];
  // The container's Config.Env with the exec's -e over it; PATH, HOSTNAME, TERM and HOME
  // defaults are added here as for the container itself.
  env: string[];
  hostname: string;
  cwd: string;
  tty: boolean;
  privileged: boolean;
  consoleSize: ConsoleSize | null;
}

export interface ConsoleSize { height: number; width: number }

// runc reads process.consoleSize (runtime-spec 1.0) and sizes the pty before the exec,
// so a full-screen program sees the client's size from its first byte.
export interface ExecOciProcess extends OciProcess {
  consoleSize?: ConsoleSize;
}

export function buildExecProcess(base: OciProcess, input: ExecProcessInput, user: ResolvedUser, boundingCaps: string[]): ExecOciProcess {
  const proc: ExecOciProcess = {
    ...base,
    terminal: input.tty,
    user: ociUser(user),
    args: [...input.args],
    env: buildEnv({ env: input.env, hostname: input.hostname, tty: input.tty }, user.home),
    cwd: input.cwd || '/',
  };
  // --privileged: every capability the host has (moby grants all of them, which fails
  // on hosts whose bounding set lacks one; see capabilities.ts).
  if (input.privileged) {
    const all = effectiveCaps({ privileged: true, capAdd: [], capDrop: [], bounding: boundingCaps });
    proc.capabilities = { ...base.capabilities, bounding: all, effective: all, permitted: [...all] };
  }
  delete proc.consoleSize;
  if (input.tty && input.consoleSize && input.consoleSize.height > 0 && input.consoleSize.width > 0) {
    proc.consoleSize = { height: input.consoleSize.height, width: input.consoleSize.width };
  }
  return proc;
}

// moby's setExitCodeFromError: what an exec that never ran reports as its exit code.
export function execStartExitCode(message: string): number {
  const m = message.toLowerCase();
  if (m.includes('permission denied') || m.includes('is a directory')) return 126;
  if (m.includes('not a directory')) return 127;
  if (['executable file not found', 'no such file or directory', 'system cannot find the file specified', 'failed to run runc create/exec call'].some((s) => m.includes(s))) {
    return 127;
  }
  return 128;
}

// containerd's wording for a failed `runc exec`, which the docker CLI prints as it is.
export function ociExecErrorMessage(runcMessage: string): string {
  return `OCI runtime exec failed: ${runcMessage.trim()}: unknown`;
}
