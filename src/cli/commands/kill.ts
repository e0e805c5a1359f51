import { joinErrors, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { parallelOperation } from '../parallel.js';

export const killCommand: CommandSpec = {
  name: 'kill',
  use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Kill one or more running containers',
  aliasText: 'docker container kill, docker kill',
  flags: [{ name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' }],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    const results = await parallelOperation(args, (id) => client.containerKill(id, flags.string('signal')));
    const errors: Error[] = [];
    for (const r of results) {
      if (r.ok) ctx.out(`${r.item}\n`);
      else errors.push(r.error);
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
