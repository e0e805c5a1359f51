import { EngineError } from '../../client/engine-client.js';
import { joinErrors, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { parallelOperation } from '../parallel.js';

// `berth rm`: every failure is reported, the exit status is 1 if any failed —
// except that with -f a missing container is only a message.

export const rmCommand: CommandSpec = {
  name: 'rm',
  use: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Remove one or more containers',
  aliasText: 'docker container rm, docker container remove, docker rm',
  flags: [
    { name: 'volumes', short: 'v', kind: 'bool', usage: 'Remove anonymous volumes associated with the container' },
    { name: 'link', short: 'l', kind: 'bool', usage: 'Remove the specified link' },
    { name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of a running container (uses SIGKILL)' },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    const force = flags.bool('force');
    const results = await parallelOperation(args, async (name) => {
      const id = name.replace(/^\/+|\/+$/g, '');
      if (id === '') throw new Error('container name cannot be empty');
      await client.containerRemove(id, { volumes: flags.bool('volumes'), link: flags.bool('link'), force });
    });
    const errors: Error[] = [];
    for (const r of results) {
      if (r.ok) {
        ctx.out(`${r.item}\n`);
      } else if (force && r.error instanceof EngineError && r.error.isNotFound) {
        ctx.err(`${r.error.message}\n`);
      } else {
        errors.push(r.error);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};
