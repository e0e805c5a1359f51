import { posixSpawn, readAll } from '../runtime/posix-spawn.js';

// Runs one of the host's network tools (ip, nsenter, iptables-restore) with an optional
// script on stdin. Fails with the tool's own complaint, which is what a user needs to see.
// posix_spawn rather than child_process: a fork of the whole daemon blocked the event
// loop for tens of milliseconds per call, several calls per container start.
export async function runTool(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const child = posixSpawn(cmd, [...args], { env: process.env, stdio: ['pipe', 'pipe', 'pipe'], searchPath: true });
  // EPIPE when the tool quits before reading its script: the exit status reports why.
  child.stdin?.on('error', () => {});
  child.stdin?.end(input ?? '');
  const [out, err, exit] = await Promise.all([readAll(child.pipes[1]), readAll(child.pipes[2]), child.exited]);
  if (exit.code === 0) return out;
  const how = exit.signal !== null ? `signal ${exit.signal}` : `exited with ${exit.code}`;
  throw new ToolError(cmd, err.trim() || `${cmd} ${how}`);
}

export class ToolError extends Error {
  constructor(readonly tool: string, message: string) {
    super(message);
    this.name = 'ToolError';
  }
}
