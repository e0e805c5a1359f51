import { EngineError } from '../../client/engine-client.js';
import { joinErrors, minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';

// `berth rmi` / `berth image rm`: with -f, "no such image" failures are only
// printed; anything else still fails the command.

function rmiCommandFor(name: string, use: string, aliases?: string[]): CommandSpec {
  return {
    name,
    use,
    short: 'Remove one or more images',
    aliasText: 'docker image rm, docker image remove, docker rmi',
    aliases,
    flags: [
      { name: 'force', short: 'f', kind: 'bool', usage: 'Force removal of the image' },
      { name: 'no-prune', kind: 'bool', usage: 'Do not delete untagged parents' },
      {
        name: 'platform',
        kind: 'list',
        typeName: 'strings',
        hidden: true,
        usage: 'Remove only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
      },
    ],
    args: minArgs(1),
    run: runRmi,
  };
}

export const rmiCommand = rmiCommandFor('rmi', 'rmi [OPTIONS] IMAGE [IMAGE...]');
export const imageRmCommand = rmiCommandFor('rm', 'rm [OPTIONS] IMAGE [IMAGE...]', ['rmi', 'remove']);

async function runRmi(ctx: CliContext, flags: ParsedFlags, args: string[]): Promise<void> {
  const force = flags.bool('force');
  let fatal = false;
  const errors: Error[] = [];
  for (const img of args) {
    try {
      const dels = await ctx.client().imageRemove(img, { force, noPrune: flags.bool('no-prune') });
      for (const d of dels ?? []) ctx.out(d.Deleted ? `Deleted: ${d.Deleted}\n` : `Untagged: ${d.Untagged ?? ''}\n`);
    } catch (err) {
      if (!(err instanceof EngineError && err.isNotFound)) fatal = true;
      errors.push(err as Error);
    }
  }
  const err = joinErrors(errors);
  if (!err) return;
  if (!force || fatal) throw err;
  ctx.err(`${err.message}\n`);
}
