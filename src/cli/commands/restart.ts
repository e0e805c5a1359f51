import { joinErrors, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { stopFlags, stopOptions } from './stop.js';

export const restartCommand: CommandSpec = {
  name: 'restart',
  use: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Restart one or more containers',
  aliasText: 'docker container restart, docker restart',
  flags: stopFlags,
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const opts = stopOptions(flags);
    const errors: Error[] = [];
    // docker restarts one after the other.
    for (const name of args) {
      try {
        await ctx.client().containerRestart(name, opts);
        ctx.out(`${name}\n`);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
