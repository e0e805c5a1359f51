import { ConnectionError } from '../../client/engine-client.js';
import { StatusError, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { streamHijacked } from '../hijack.js';
import { parseKeyValueFile, defaultReadFile } from '../opts/kvfile.js';
import { validateEnv } from '../opts/validators.js';
import { monitorTtySize, ttySize } from '../tty.js';

// `berth exec`: create the exec, then either start it detached or attach through
// the hijacked /exec/{id}/start and exit with its exit code.

export const execCommand: CommandSpec = {
  name: 'exec',
  use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  short: 'Execute a command in a running container',
  aliasText: 'docker container exec, docker exec',
  topCategory: 2,
  interspersed: false,
  flags: [
    { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', kind: 'bool', usage: 'Keep STDIN open even if not attached' },
    { name: 'tty', short: 't', kind: 'bool', usage: 'Allocate a pseudo-TTY' },
    { name: 'detach', short: 'd', kind: 'bool', usage: 'Detached mode: run command in the background' },
    { name: 'user', short: 'u', kind: 'string', usage: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { name: 'privileged', kind: 'bool', usage: 'Give extended privileges to the command' },
    {
      name: 'env',
      short: 'e',
      kind: 'list',
      usage: 'Set environment variables',
      parse: (raw, prev) => [...((prev as string[]) ?? []), validateEnv(raw, process.env)],
    },
    { name: 'env-file', kind: 'list', usage: 'Read in a file of environment variables' },
    { name: 'workdir', short: 'w', kind: 'string', usage: 'Working directory inside the container' },
  ],
  args: minArgs(2),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const [container, ...cmd] = args;
    const detach = flags.bool('detach');
    const tty = flags.bool('tty');
    const env: string[] = [];
    for (const f of flags.list('env-file')) env.push(...parseKeyValueFile(f, defaultReadFile, (k) => ctx.io.env[k]));
    env.push(...flags.list('env'));
    const attachStdin = !detach && flags.bool('interactive');
    const body = {
      User: flags.string('user'),
      Privileged: flags.bool('privileged'),
      Tty: tty,
      AttachStdin: attachStdin,
      AttachStderr: !detach,
      AttachStdout: !detach,
      DetachKeys: flags.string('detach-keys') || ctx.configFile().detachKeys || '',
      Env: env.length > 0 ? env : null,
      WorkingDir: flags.string('workdir'),
      Cmd: cmd,
      Detach: false,
      // As docker 28: the size goes with create and start, so the pty has it from the start.
      ConsoleSize: tty ? ttySize(ctx.io.stdout) : undefined,
    };
    const client = ctx.client();
    await client.containerInspect(container);
    if (!detach && tty && attachStdin && !ctx.io.stdin.isTTY) throw new Error('the input device is not a TTY');
    const { Id: execId } = await client.execCreate(container, body);
    if (!execId) throw new Error('exec ID empty');
    if (detach) {
      await client.execStartDetached(execId, { Detach: true, Tty: tty, ConsoleSize: body.ConsoleSize });
      return 0;
    }
    const conn = await client.execStartAttached(execId, { Detach: false, Tty: tty, ConsoleSize: body.ConsoleSize });
    const session = streamHijacked({
      conn,
      stdin: attachStdin ? ctx.io.stdin : undefined,
      stdout: ctx.io.stdout,
      stderr: tty ? ctx.io.stdout : ctx.io.stderr,
      tty,
      detachKeys: body.DetachKeys,
      warn: (l) => ctx.err(`${l}\n`),
    });
    const stopResize =
      tty && ctx.io.stdin.isTTY ? monitorTtySize({ client, id: execId, isExec: true }, ctx.io.stdout, (l) => ctx.err(`${l}\n`)) : () => undefined;
    try {
      await session.done;
    } finally {
      stopResize();
      session.close();
    }
    let status: number;
    try {
      const r = await client.execInspect(execId);
      status = r.ExitCode ?? 0;
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      status = -1;
    }
    if (status !== 0) throw new StatusError('', status < 0 ? 255 : status);
    return 0;
  },
};
