import { StatusError, exitNow, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { DetachedError, streamHijacked, type HijackSession } from '../hijack.js';
import { handleSignals } from '../signal-proxy.js';
import { monitorTtySize } from '../tty.js';
import { waitExitOrRemoved } from '../wait-exit.js';

// `berth start`: plain starts print each name; -a/-i attach to a single
// container first and exit with its status, as docker's RunStart does.

export const startCommand: CommandSpec = {
  name: 'start',
  use: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Start one or more stopped containers',
  aliasText: 'docker container start, docker start',
  flags: [
    { name: 'attach', short: 'a', kind: 'bool', usage: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', kind: 'bool', usage: "Attach container's STDIN" },
    { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
    // Experimental (checkpoint/restore) flags: hidden against a non-experimental daemon.
    { name: 'checkpoint', kind: 'string', hidden: true, usage: 'Restore from this checkpoint' },
    { name: 'checkpoint-dir', kind: 'string', hidden: true, usage: 'Use a custom checkpoint storage directory' },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    if (flags.bool('attach') || flags.bool('interactive')) return startAttached(ctx, flags, args);
    if (flags.string('checkpoint') !== '') {
      if (args.length > 1) throw new Error('you cannot restore multiple containers at once');
      await ctx.client().containerStart(args[0]);
      return 0;
    }
    const failed: string[] = [];
    for (const name of args) {
      try {
        await ctx.client().containerStart(name);
        ctx.out(`${name}\n`);
      } catch (err) {
        ctx.err(`${(err as Error).message}\n`);
        failed.push(name);
      }
    }
    if (failed.length > 0) throw new Error(`Error: failed to start containers: ${failed.join(', ')}`);
    return 0;
  },
};

async function startAttached(ctx: CliContext, flags: ParsedFlags, args: string[]): Promise<number> {
  if (args.length > 1) throw new Error('you cannot start and attach multiple containers at once');
  const client = ctx.client();
  const { value: c } = await client.containerInspect(args[0]);
  let session: HijackSession | undefined;
  const stopSignals = handleSignals(client, c.Id, !c.Config.Tty, {
    onForceExit: () => {
      session?.close();
      ctx.err('\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n');
      exitNow(ctx.io, 1);
    },
  });
  let stopResize = (): void => undefined;
  try {
    const detachKeys = flags.string('detach-keys') || ctx.configFile().detachKeys || '';
    const stdin = flags.bool('interactive') && c.Config.OpenStdin;
    const conn = await client.containerAttach(c.Id, { stream: true, stdin, stdout: true, stderr: true, detachKeys });
    session = streamHijacked({
      conn,
      stdin: stdin ? ctx.io.stdin : undefined,
      stdout: ctx.io.stdout,
      stderr: ctx.io.stderr,
      tty: c.Config.Tty,
      detachKeys,
      warn: (l) => ctx.err(`${l}\n`),
    });
    const waiter = await waitExitOrRemoved(ctx, c.Id, c.HostConfig.AutoRemove === true);
    try {
      await client.containerStart(c.Id);
    } catch (err) {
      session.close();
      if (c.HostConfig.AutoRemove) await waiter.status;
      throw err;
    }
    if (c.Config.Tty && ctx.io.stdout.isTTY) {
      stopResize = monitorTtySize({ client, id: c.Id, isExec: false }, ctx.io.stdout, (l) => ctx.err(`${l}\n`));
    }
    try {
      await session.done;
    } catch (err) {
      if (err instanceof DetachedError) return 0;
      throw err;
    }
    const status = await waiter.status;
    if (status !== 0) throw new StatusError('', status);
    return 0;
  } finally {
    stopResize();
    stopSignals();
    session?.close();
  }
}
