import { StatusError, exactArgs, exitNow, type CliContext, type CommandSpec } from '../command.js';
import type { ContainerInspect } from '../../client/types.js';
import type { ParsedFlags } from '../flags.js';
import { streamHijacked, type HijackSession } from '../hijack.js';
import { handleSignals } from '../signal-proxy.js';
import { monitorTtySize } from '../tty.js';

async function inspectRunning(ctx: CliContext, id: string): Promise<ContainerInspect> {
  const { value: c } = await ctx.client().containerInspect(id);
  if (!c.State.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
  return c;
}

export const attachCommand: CommandSpec = {
  name: 'attach',
  use: 'attach [OPTIONS] CONTAINER',
  short: 'Attach local standard input, output, and error streams to a running container',
  aliasText: 'docker container attach, docker attach',
  flags: [
    { name: 'no-stdin', kind: 'bool', usage: 'Do not attach STDIN' },
    { name: 'sig-proxy', kind: 'bool', default: true, usage: 'Proxy all received signals to the process' },
    { name: 'detach-keys', kind: 'string', usage: 'Override the key sequence for detaching a container' },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    const id = args[0];
    const wait = await client.containerWait(id);
    const c = await inspectRunning(ctx, id);
    const noStdin = flags.bool('no-stdin');
    if (!noStdin && c.Config.Tty && !ctx.io.stdin.isTTY) throw new Error('the input device is not a TTY');
    const detachKeys = flags.string('detach-keys') || ctx.configFile().detachKeys || '';
    const stdin = !noStdin && c.Config.OpenStdin;
    let session: HijackSession | undefined;
    // docker proxies only without a TTY: with one, ctrl-c is a byte for the container's tty.
    const stopSignals = handleSignals(client, id, flags.bool('sig-proxy') && !c.Config.Tty, {
      onForceExit: () => {
        session?.close();
        ctx.err('\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n');
        exitNow(ctx.io, 1);
      },
    });
    let stopResize = (): void => undefined;
    try {
      const conn = await client.containerAttach(id, { stream: true, stdin, stdout: true, stderr: true, detachKeys });
      await inspectRunning(ctx, id);
      session = streamHijacked({
        conn,
        stdin: stdin ? ctx.io.stdin : undefined,
        stdout: ctx.io.stdout,
        stderr: ctx.io.stderr,
        tty: c.Config.Tty,
        detachKeys,
        warn: (l) => ctx.err(`${l}\n`),
      });
      if (c.Config.Tty && ctx.io.stdout.isTTY) {
        stopResize = monitorTtySize({ client, id, isExec: false }, ctx.io.stdout, (l) => ctx.err(`${l}\n`), { redraw: true });
      }
      // Detaching rejects with "read escape sequence", which docker attach reports as is.
      await session.done;
      const r = await wait();
      if (r.Error && r.Error.Message) throw new Error(r.Error.Message);
      if (r.StatusCode !== 0) throw new StatusError('', r.StatusCode);
    } finally {
      stopResize();
      stopSignals();
      session?.close();
    }
  },
};
