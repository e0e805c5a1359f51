import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { renderList } from '../formatter.js';
import { HISTORY_HEADERS, historyFormat, historyRow } from '../image-rows.js';
import { formatFlag } from '../opts/filters.js';

export const historyCommand: CommandSpec = {
  name: 'history',
  use: 'history [OPTIONS] IMAGE',
  short: 'Show the history of an image',
  aliasText: 'docker image history, docker history',
  flags: [
    { name: 'human', short: 'H', kind: 'bool', default: true, usage: 'Print sizes and dates in human readable format' },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show image IDs' },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
    formatFlag(),
    {
      name: 'platform',
      kind: 'string',
      hidden: true,
      usage: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const history = await ctx.client().imageHistory(args[0]);
    const human = flags.bool('human');
    const trunc = !flags.bool('no-trunc');
    const now = Date.now();
    ctx.out(
      renderList({
        format: historyFormat(flags.string('format') || 'table', flags.bool('quiet'), human),
        header: HISTORY_HEADERS,
        rows: history.map((h) => historyRow(h, trunc, human, now)),
        goType: '*image.historyContext',
      }),
    );
  },
};
