import { minArgs, type CliContext, type CommandSpec } from '../command.js';
import { alignTabs } from '../../util/go-template.js';

export const topCommand: CommandSpec = {
  name: 'top',
  use: 'top CONTAINER [ps OPTIONS]',
  short: 'Display the running processes of a container',
  aliasText: 'docker container top, docker top',
  interspersed: false,
  args: minArgs(1),
  run: async (ctx: CliContext, _flags, args: string[]) => {
    const top = await ctx.client().containerTop(args[0], args.slice(1).join(' '));
    const lines = [top.Titles.join('\t'), ...(top.Processes ?? []).map((p) => p.join('\t'))];
    // docker's tabwriter here: minwidth 20, padding 3.
    ctx.out(alignTabs(lines.map((l) => `${l}\n`).join(''), { minwidth: 20, padding: 3 }));
  },
};
