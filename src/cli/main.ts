import { runCli } from './cli.js';

// The `berth` binary. Output to pipes, files and terminals is synchronous on
// Linux, so exiting right after the command returns loses nothing; it also drops
// keep-alive sockets and stdin readers that would hold the process open.

// A reader that went away (`berth logs x | head -1`): Go's docker dies of SIGPIPE
// there, quietly; Node ignores SIGPIPE and would throw EPIPE instead.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

runCli(process.argv.slice(2), {
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
