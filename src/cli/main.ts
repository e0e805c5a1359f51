import { Readable, Writable } from 'node:stream';
import { runCli } from './cli.js';
import type { CliIO } from './command.js';

// The `berth` binary's entry: bin/berth compiles this bundle (dist/berth.cjs) with V8's
// code cache and calls main(). Output to pipes, files and terminals is synchronous on
// Linux, so exiting right after the command returns loses nothing; it also drops
// keep-alive sockets and stdin readers that would hold the process open.

export function main(argv: readonly string[]): void {
  // A reader that went away (`berth logs x | head -1`): Go's docker dies of SIGPIPE
  // there, quietly; Node ignores SIGPIPE and would throw EPIPE instead.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      throw err;
    });
  }

  runCli(argv, {
    // process.stdin is built on first access; most commands never touch it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

// What scripts/build.mjs runs once, in one process, before it asks V8 for the code
// cache: the code every command needs (flag parsing, help, the create body, the HTTP
// client up to the connect) gets compiled, so the cache holds its bytecode too and not
// only the top level. A socket that does not exist makes each call fail at once.
export async function warmUpForCodeCache(socketPath: string): Promise<void> {
  const sink = (): Writable & { isTTY: boolean } => Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false });
  const host = ['-H', `unix://${socketPath}`];
  const runs: string[][] = [
    ['--help'],
    ['run', '--help'],
    [...host, 'run', '--rm', '-e', 'A=1', '-v', '/tmp:/tmp', '-p', '8080:80', '--name', 'x', 'busybox', 'true'],
    [...host, 'run', '-d', 'busybox', 'sleep', '1'],
    [...host, 'create', 'busybox'],
    [...host, 'start', 'x'],
    [...host, 'ps', '-a'],
    [...host, 'images'],
    [...host, 'rm', '-f', 'x'],
    [...host, 'logs', 'x'],
    [...host, 'exec', 'x', 'true'],
    [...host, 'inspect', 'x'],
    [...host, 'version', '--format', '{{.Client.Version}}'],
  ];
  for (const argv of runs) {
    const io: CliIO = { stdin: Readable.from([]), stdout: sink(), stderr: sink(), env: {} };
    await runCli(argv, io);
  }
}
