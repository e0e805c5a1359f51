// Runs one CLI call and measures its whole wall time, as a user at a shell would see it.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
}

/** `input`, when given, is written to the command's stdin, which is then closed. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: string | Buffer,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env });
    // A command that exits without reading all of its stdin makes the write fail with EPIPE:
    // its exit status says what happened, not the write.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // Piped above: never null (the typings lose that once stdin's mode is not a literal).
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        ms: performance.now() - started,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

export function describeFailure(what: string, r: CommandResult): string {
  const why = r.signal ? `signal ${r.signal}` : `exit ${r.code}`;
  const text = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
  return `${what} failed (${why})${text ? `: ${text}` : ''}`;
}
