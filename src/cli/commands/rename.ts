import { exactArgs, type CliContext, type CommandSpec } from '../command.js';

export const renameCommand: CommandSpec = {
  name: 'rename',
  use: 'rename CONTAINER NEW_NAME',
  short: 'Rename a container',
  aliasText: 'docker container rename, docker rename',
  args: exactArgs(2),
  run: async (ctx: CliContext, _flags, args: string[]) => {
    const oldName = args[0].trim();
    const newName = args[1].trim();
    if (oldName === '' || newName === '') throw new Error('Error: Neither old nor new names may be empty');
    try {
      await ctx.client().containerRename(oldName, newName);
    } catch (err) {
      ctx.err(`${(err as Error).message}\n`);
      throw new Error(`Error: failed to rename container named ${oldName}`);
    }
  },
};
