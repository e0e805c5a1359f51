import { joinErrors, minArgs, type CommandSpec } from '../command.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import type { CliContext } from '../command.js';
import { parallelOperation } from '../parallel.js';

// `berth stop` and `berth restart` share their flags: -s/--signal and -t/--timeout
// (with the deprecated --time).

export const stopFlags: FlagSpec[] = [
  { name: 'signal', short: 's', kind: 'string', usage: 'Signal to send to the container' },
  { name: 'timeout', short: 't', kind: 'int', usage: 'Seconds to wait before killing the container' },
  { name: 'time', kind: 'int', dest: 'timeout', deprecated: 'use --timeout instead', usage: 'Seconds to wait before killing the container (deprecated: use --timeout)' },
];

export function stopOptions(flags: ParsedFlags): { timeout?: number; signal?: string } {
  if (flags.changed('time') && flags.changed('timeout')) throw new Error('conflicting options: cannot specify both --timeout and --time');
  const changed = flags.changed('timeout') || flags.changed('time');
  return { timeout: changed ? flags.number('timeout') : undefined, signal: flags.string('signal') || undefined };
}

export const stopCommand: CommandSpec = {
  name: 'stop',
  use: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Stop one or more running containers',
  aliasText: 'docker container stop, docker stop',
  flags: stopFlags,
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const opts = stopOptions(flags);
    const client = ctx.client();
    const results = await parallelOperation(args, (id) => client.containerStop(id, opts));
    const errors: Error[] = [];
    for (const r of results) {
      if (r.ok) ctx.out(`${r.item}\n`);
      else errors.push(r.error);
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
