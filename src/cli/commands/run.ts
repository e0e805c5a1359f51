import { StatusError, exitNow, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { buildCreateBody, containerFlags } from '../opts/container-opts.js';
import { createContainer, toStatusError, validatePullOpt, withHelp, PULL_MISSING } from '../container-create.js';
import { DetachedError, streamHijacked, type HijackSession } from '../hijack.js';
import { monitorTtySize } from '../tty.js';
import { handleSignals } from '../signal-proxy.js';
import { waitExitOrRemoved } from '../wait-exit.js';

// `berth run`: create, attach before start (unless -d), register the exit
// waiter, start, stream, and exit with the container's status — docker's
// runContainer step for step.

export function createOnlyFlags(): FlagSpec[] {
  return [
    { name: 'name', kind: 'string', usage: 'Assign a name to the container' },
    { name: 'pull', kind: 'string', default: PULL_MISSING, usage: 'Pull image before running ("always", "missing", "never")' },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the pull output' },
    { name: 'use-api-socket', kind: 'bool', usage: 'Bind mount Docker API socket and required auth' },
    // An explicit --help without -h, which is the hostname here.
    { name: 'help', kind: 'bool', usage: 'Print usage' },
    { name: 'platform', kind: 'string', default: process.env.DOCKER_DEFAULT_PLATFORM ?? '', usage: 'Set platform if server is multi-platform capable' },
    { name: 'disable-content-trust', kind: 'bool', default: true, usage: 'Skip image verification' },
  ];
}

const runFlags: FlagSpec[] = [
  { name: 'detach', short: 'd', kind: 'bool', usage: 'Run container in background and print container ID' },
  { name: 'sig-proxy', kind: 'bool', default: true, usage: 'Proxy received signals to the process' },
  { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
  ...createOnlyFlags(),
  ...containerFlags,
];

export const runCommand: CommandSpec = {
  name: 'run',
  use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create and run a new container from an image',
  aliasText: 'docker container run, docker run',
  topCategory: 1,
  flags: runFlags,
  interspersed: false,
  args: minArgs(1),
  run: runRun,
};

export function parseContainerArgs(ctx: CliContext, flags: ParsedFlags, args: string[], command: string) {
  try {
    validatePullOpt(flags.string('pull'));
    return buildCreateBody(flags, args[0], args.slice(1), { env: ctx.io.env, cwd: process.cwd() });
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError(withHelp((err as Error).message, command), 125);
  }
}

async function runRun(ctx: CliContext, flags: ParsedFlags, args: string[]): Promise<number> {
  const { body, warnings } = parseContainerArgs(ctx, flags, args, 'run');
  const detach = flags.bool('detach');
  // docker always sends ArgsEscaped=false for run (omitted as the zero value).
  if (!detach) {
    if (body.Tty && body.AttachStdin && !ctx.io.stdin.isTTY) throw new Error('the input device is not a TTY');
  } else {
    if (flags.list('attach').length > 0) throw new Error('conflicting options: cannot specify both --attach and --detach');
    body.AttachStdin = false;
    body.AttachStdout = false;
    body.AttachStderr = false;
    body.StdinOnce = false;
  }

  let id: string;
  try {
    id = await createContainer(ctx, body, warnings, {
      name: flags.string('name'),
      platform: flags.string('platform'),
      pull: flags.string('pull'),
      quiet: flags.bool('quiet'),
    });
  } catch (err) {
    throw toStatusError(err);
  }
  const client = ctx.client();
  // docker proxies with or without a TTY (a raw TTY turns ctrl-c into a byte anyway).
  const stopSignals = handleSignals(client, id, flags.bool('sig-proxy'), {
    onForceExit: () => {
      session?.close();
      ctx.err('\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n');
      exitNow(ctx.io, 1);
    },
  });

  const attach = body.AttachStdin || body.AttachStdout || body.AttachStderr;
  let session: HijackSession | undefined;
  let stopResize = (): void => undefined;
  try {
    if (!attach) {
      ctx.out(`${id}\n`);
    } else {
      const detachKeys = flags.string('detach-keys') || ctx.configFile().detachKeys || '';
      const conn = await client.containerAttach(id, {
        stream: true,
        stdin: body.AttachStdin,
        stdout: body.AttachStdout,
        stderr: body.AttachStderr,
        detachKeys,
      });
      session = streamHijacked({
        conn,
        stdin: body.AttachStdin ? ctx.io.stdin : undefined,
        stdout: body.AttachStdout ? ctx.io.stdout : undefined,
        // With a TTY stderr is merged into the TTY's output.
        stderr: body.AttachStderr ? (body.Tty ? ctx.io.stdout : ctx.io.stderr) : undefined,
        tty: body.Tty,
        detachKeys,
        warn: (l) => ctx.err(`${l}\n`),
      });
    }

    // docker registers the waiter even with -d, but only reads it when attached or
    // when a failed start must wait for --rm's removal; we skip the idle request.
    const waiter = session || body.HostConfig.AutoRemove ? await waitExitOrRemoved(ctx, id, body.HostConfig.AutoRemove) : undefined;
    try {
      await client.containerStart(id);
    } catch (err) {
      session?.close();
      if (waiter && body.HostConfig.AutoRemove) await waiter.status;
      throw toStatusError(err);
    }
    if (!session || !waiter) return 0;

    if (body.Tty && ctx.io.stdout.isTTY) {
      stopResize = monitorTtySize({ client, id, isExec: false }, ctx.io.stdout, (l) => ctx.err(`${l}\n`));
    }

    const attached = session.done.then(
      () => ({ kind: 'attach' as const, err: undefined as unknown }),
      (err: unknown) => ({ kind: 'attach' as const, err }),
    );
    const first = await Promise.race([attached, waiter.status.then((code) => ({ kind: 'status' as const, code }))]);
    let status: number;
    if (first.kind === 'attach') {
      if (first.err instanceof DetachedError) return 0;
      if (first.err) throw first.err;
      status = await waiter.status;
    } else {
      // Output may still be in flight: keep streaming until the daemon ends it,
      // unless no output was attached.
      if (!body.AttachStdout && !body.AttachStderr) session.close();
      const rest = await attached;
      if (rest.err instanceof DetachedError) return 0;
      status = first.code;
    }
    if (status !== 0) throw new StatusError('', status);
    return 0;
  } finally {
    stopResize();
    stopSignals();
    session?.close();
  }
}
