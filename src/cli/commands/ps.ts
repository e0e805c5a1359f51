import { encodeFilters } from '../../client/engine-client.js';
import { noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { preflightFormat, renderList } from '../formatter.js';
import { CONTAINER_GO_TYPE, CONTAINER_HEADERS, containerFormat, containerRow } from '../container-rows.js';
import { filterFlag, formatFlag, type FilterMap } from '../opts/filters.js';

// `berth ps` / `berth container ls`.

export const psCommand: CommandSpec = {
  name: 'ps',
  use: 'ps [OPTIONS]',
  short: 'List containers',
  aliasText: 'docker container ls, docker container list, docker container ps, docker ps',
  topCategory: 3,
  flags: [
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' },
    { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
    { name: 'latest', short: 'l', kind: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'last', short: 'n', kind: 'int', default: -1, usage: 'Show n last created containers (includes all states)' },
    formatFlag(),
    filterFlag(),
  ],
  args: noArgs,
  run: runPs,
};

export const containerLsCommand: CommandSpec = { ...psCommand, name: 'ls', use: 'ls [OPTIONS]', aliases: ['ps', 'list'], topCategory: undefined };

async function runPs(ctx: CliContext, flags: ParsedFlags): Promise<void> {
  let format = flags.string('format');
  const quiet = flags.bool('quiet');
  if (format === '') format = ctx.configFile().psFormat ?? '';
  else if (quiet) ctx.err('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');

  if (format !== '') preflightFormat(format, Object.keys(CONTAINER_HEADERS), CONTAINER_GO_TYPE);
  let size = flags.bool('size');
  let limit = flags.number('last');
  if (flags.bool('latest') && limit === -1) limit = 1;
  // A custom format that shows .Size needs the daemon to compute sizes.
  if (format !== '' && !quiet && !size && !flags.changed('size') && /\.Size\b/.test(format) && format !== 'table' && format !== 'raw') {
    size = true;
  }
  const containers = await ctx.client().containerList({
    all: flags.bool('all') ? '1' : undefined,
    limit: limit > 0 ? limit : undefined,
    size: size ? '1' : undefined,
    filters: encodeFilters(flags.get('filter') as FilterMap | undefined),
  });
  const trunc = !flags.bool('no-trunc');
  const now = Date.now();
  ctx.out(
    renderList({
      format: containerFormat(format, quiet, size),
      header: CONTAINER_HEADERS,
      rows: containers.map((c) => containerRow(c, trunc, now)),
      labels: containers.map((c) => c.Labels),
      goType: CONTAINER_GO_TYPE,
    }),
  );
}
