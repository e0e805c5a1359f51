import { minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { containerFlags } from '../opts/container-opts.js';
import { createContainer } from '../container-create.js';
import { createOnlyFlags, parseContainerArgs } from './run.js';

// `berth create`: the create half of run; prints the new container's ID.

export const createCommand: CommandSpec = {
  name: 'create',
  use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  short: 'Create a new container',
  aliasText: 'docker container create, docker create',
  flags: [
    ...createOnlyFlags().map((f) =>
      f.name === 'pull' ? { ...f, usage: 'Pull image before creating ("always", "|missing", "never")' } : f,
    ),
    ...containerFlags,
  ],
  interspersed: false,
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const { body, warnings } = parseContainerArgs(ctx, flags, args, 'create');
    // Unlike run, create reports engine errors as they are (exit 1).
    const id = await createContainer(ctx, body, warnings, {
      name: flags.string('name'),
      platform: flags.string('platform'),
      pull: flags.string('pull'),
      quiet: flags.bool('quiet'),
    });
    ctx.out(`${id}\n`);
  },
};
