import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';

export const exportCommand: CommandSpec = {
  name: 'export',
  use: 'export [OPTIONS] CONTAINER',
  short: "Export a container's filesystem as a tar archive",
  aliasText: 'docker container export, docker export',
  flags: [{ name: 'output', short: 'o', kind: 'string', usage: 'Write to a file, instead of STDOUT' }],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const output = flags.string('output');
    if (output === '' && ctx.io.stdout.isTTY) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    const { streamToOutput } = await import('../output-file.js');
    await streamToOutput(ctx, output, 'failed to export container', () => ctx.client().containerExport(args[0]));
  },
};
