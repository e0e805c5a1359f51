import { lstatSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Where a user's CLI server listens; src/launcher/berth-launcher.c computes the same
// (and passes it to the server it starts in BERTH_CLI_SOCKET).

export function defaultSocketPath(env: NodeJS.ProcessEnv, uid: number): string {
  if (env.BERTH_CLI_SOCKET) return env.BERTH_CLI_SOCKET;
  if (uid === 0) return '/run/berth/cli-0.sock';
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/') && privateDir(xdg, uid)) return join(xdg, 'berth-cli.sock');
  return `/tmp/berth-cli-${uid}/cli.sock`;
}

function privateDir(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

// The socket's directory, made if missing: 0700, or 0755 for root (/run/berth is also
// berthd's exec root, which users of its socket must be able to enter). Refuses a directory that another user owns or can write to: whoever
// controls it could replace the socket and receive the callers' environments.
export function prepareSocketDir(socketPath: string, uid: number): void {
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: uid === 0 ? 0o755 : 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if ((st.uid !== uid && st.uid !== 0) || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} must belong to uid ${uid} (or root) and not be writable by others`);
  }
}
