import { noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { addFilter, type FilterMap } from '../opts/filters.js';
import { confirm } from '../prompt.js';
import { humanSize, ramInBytes } from '../../util/units.js';

// `berth builder prune` (docker cli/command/builder/prune.go): the build cache — for
// berth's legacy builder, the untagged images builds made — after a confirmation unless
// -f, then the IDs that went and "Total reclaimed space: ...".

const normalWarning = 'WARNING! This will remove all dangling build cache. Are you sure you want to continue?';
const allCacheWarning = 'WARNING! This will remove all build cache. Are you sure you want to continue?';

export const builderPruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune',
  short: 'Remove build cache',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused build cache, not just dangling ones' },
    {
      name: 'filter',
      kind: 'value',
      typeName: 'filter',
      usage: 'Provide filter values (e.g. "until=24h")',
      parse: (raw, prev) => addFilter(prev, raw),
    },
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    // Accepted for docker's command line; the legacy cache has no size target.
    { name: 'keep-storage', kind: 'value', typeName: 'bytes', default: 0, usage: 'Amount of disk space to keep for cache', parse: (raw) => ramInBytes(raw) },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const all = flags.bool('all');
    if (!flags.bool('force') && !(await confirm(ctx, all ? allCacheWarning : normalWarning))) return 0;
    const filters = (flags.get('filter') as FilterMap | undefined) ?? {};
    const r = await ctx.client().prune('build', filters, { all: all ? '1' : undefined });
    const deleted = r.CachesDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted build cache objects:\n${deleted.map((id) => `${id}\n`).join('')}\n`);
    ctx.out(`Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
};

export const builderCommand: CommandSpec = {
  name: 'builder',
  use: 'builder',
  short: 'Manage builds',
  args: noArgs,
  subcommands: [builderPruneCommand],
};
