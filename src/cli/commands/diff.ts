import { exactArgs, type CliContext, type CommandSpec } from '../command.js';

const KINDS = ['C', 'A', 'D'];

export const diffCommand: CommandSpec = {
  name: 'diff',
  use: 'diff CONTAINER',
  short: "Inspect changes to files or directories on a container's filesystem",
  aliasText: 'docker container diff, docker diff',
  args: exactArgs(1),
  run: async (ctx: CliContext, _flags, args: string[]) => {
    if (args[0] === '') throw new Error('Container name cannot be empty');
    const changes = (await ctx.client().containerChanges(args[0])) ?? [];
    ctx.out(changes.map((c) => `${KINDS[c.Kind] ?? String(c.Kind)} ${c.Path}\n`).join(''));
  },
};
