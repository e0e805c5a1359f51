import { joinErrors, minArgs, type CliContext, type CommandSpec } from '../command.js';
import { parallelOperation } from '../parallel.js';

function pauseLike(name: 'pause' | 'unpause', short: string): CommandSpec {
  return {
    name,
    use: `${name} CONTAINER [CONTAINER...]`,
    short,
    aliasText: `docker container ${name}, docker ${name}`,
    args: minArgs(1),
    run: async (ctx: CliContext, _flags, args: string[]) => {
      const client = ctx.client();
      const results = await parallelOperation(args, (id) => (name === 'pause' ? client.containerPause(id) : client.containerUnpause(id)));
      const errors: Error[] = [];
      for (const r of results) {
        if (r.ok) ctx.out(`${r.item}\n`);
        else errors.push(r.error);
      }
      const err = joinErrors(errors);
      if (err) throw err;
    },
  };
}

export const pauseCommand = pauseLike('pause', 'Pause all processes within one or more containers');
export const unpauseCommand = pauseLike('unpause', 'Unpause all processes within one or more containers');
