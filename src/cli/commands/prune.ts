import { noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { confirm } from '../prompt.js';
import { humanSize } from '../../util/units.js';
import type { FilterMap } from '../opts/filters.js';
import { addFilter } from '../opts/filters.js';
import type { FlagSpec } from '../flags.js';

// `container prune` and `image prune`: confirm unless -f, then print what went and
// "Total reclaimed space". Answering no ends quietly with status 0, as docker's
// cancelled errors do.

const pruneFilterFlag: FlagSpec = {
  name: 'filter',
  kind: 'value',
  typeName: 'filter',
  usage: 'Provide filter values (e.g. "until=<timestamp>")',
  parse: (raw, prev) => addFilter(prev, raw),
};

function report(ctx: CliContext, output: string, reclaimed: number): void {
  if (output !== '') ctx.out(`${output}\n`);
  ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
}

export const containerPruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove all stopped containers',
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' }, pruneFilterFlag],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const filters = (flags.get('filter') as FilterMap | undefined) ?? {};
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) {
      return 0;
    }
    const r = await ctx.client().containerPrune(filters);
    let output = '';
    if ((r.ContainersDeleted ?? []).length > 0) output = `Deleted Containers:\n${(r.ContainersDeleted ?? []).map((id) => `${id}\n`).join('')}`;
    report(ctx, output, output !== '' ? (r.SpaceReclaimed ?? 0) : 0);
    return 0;
  },
};

export const imagePruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove unused images',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused images, not just dangling ones' },
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    pruneFilterFlag,
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const all = flags.bool('all');
    const filters = addFilter(flags.get('filter'), `dangling=${!all}`);
    const warning = all
      ? 'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?'
      : 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const r = await ctx.client().imagePrune(filters);
    let output = '';
    const deleted = r.ImagesDeleted ?? [];
    if (deleted.length > 0) {
      output = 'Deleted Images:\n' + deleted.map((d) => (d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`)).join('');
    }
    report(ctx, output, output !== '' ? (r.SpaceReclaimed ?? 0) : 0);
    return 0;
  },
};
