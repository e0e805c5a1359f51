import { joinErrors, minArgs, type CliContext, type CommandSpec } from '../command.js';

export const waitCommand: CommandSpec = {
  name: 'wait',
  use: 'wait CONTAINER [CONTAINER...]',
  short: 'Block until one or more containers stop, then print their exit codes',
  aliasText: 'docker container wait, docker wait',
  args: minArgs(1),
  run: async (ctx: CliContext, _flags, args: string[]) => {
    const errors: Error[] = [];
    for (const name of args) {
      try {
        const result = await ctx.client().containerWait(name);
        const r = await result();
        ctx.out(`${r.StatusCode}\n`);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
