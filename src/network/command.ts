import { spawn } from 'node:child_process';

// Runs one of the host's network tools (ip, nsenter, iptables-restore) with an optional
// script on stdin. Fails with the tool's own complaint, which is what a user needs to see.
export function runTool(cmd: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) return resolve(Buffer.concat(out).toString('utf8'));
      const msg = Buffer.concat(err).toString('utf8').trim() || `${cmd} exited with ${code}`;
      reject(new ToolError(cmd, msg));
    });
    // EPIPE when the tool quits before reading its script: the close handler reports why.
    p.stdin.on('error', () => {});
    p.stdin.end(input ?? '');
  });
}

export class ToolError extends Error {
  constructor(readonly tool: string, message: string) {
    super(message);
    this.name = 'ToolError';
  }
}
