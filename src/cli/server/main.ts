import { join } from 'node:path';
import { runCli } from '../cli.js';
import { warmUpForCodeCache } from '../main.js';
import { CliServer } from './server.js';
import { defaultSocketPath } from './socket-path.js';

// bin/berth-cli-server's bundle (dist/berth-cli-server.cjs): the CLI server that
// src/launcher/berth-launcher.c starts in the background when none answers.

const DEFAULT_IDLE_MS = 60_000;

export async function serve(): Promise<void> {
  const env = process.env;
  const socketPath = defaultSocketPath(env, process.getuid?.() ?? 0);
  const idle = Number(env.BERTH_CLI_SERVER_IDLE_MS);
  const log = (line: string): void => void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  // The callers' environments replace ours per call; these are the server's own.
  delete env.BERTH_CLI_SOCKET;
  delete env.BERTH_CLI_SERVER_IDLE_MS;
  // What the cold CLI gets from its code cache: the common commands' code compiled before
  // the first call, not during it. Against a socket that cannot exist, so nothing is sent.
  await warmUpForCodeCache(join(socketPath, 'no-such.sock')).catch(() => undefined);
  // The bundle this runs from (CommonJS: __filename is the bundle); under tsx there is none.
  const codeFiles = typeof __filename === 'string' ? [__filename] : [];
  const server = new CliServer({ socketPath, idleMs: Number.isFinite(idle) && idle > 0 ? idle : DEFAULT_IDLE_MS, runCli, log, codeFiles });
  if (!(await server.listen())) process.exit(0); // another server holds the socket
}
