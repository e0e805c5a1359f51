import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { renderList, type Row } from '../formatter.js';
import { ellipsis } from '../container-rows.js';
import { filterFlag, type FilterMap } from '../opts/filters.js';
import { registryAuthFor } from '../credential-store.js';
import { splitSearchTerm } from '../../distribution/search-term.js';
import type { SearchResult } from '../../client/types.js';

// `berth search`: docker's runSearch and its search formatter.

const DEFAULT_FORMAT = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}';
const HEADER = { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL' };

export const searchCommand: CommandSpec = {
  name: 'search',
  use: 'search [OPTIONS] TERM',
  short: 'Search Docker Hub for images',
  topCategory: 10,
  flags: [
    filterFlag(),
    { name: 'format', kind: 'string', usage: 'Pretty-print search using a Go template' },
    { name: 'limit', kind: 'int', default: 0, usage: 'Max number of search results' },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const term = args[0]!;
    const filters = (flags.get('filter') as FilterMap | undefined) ?? {};
    if (filters['is-automated']) {
      ctx.err('WARNING: the "is-automated" filter is deprecated, and searching for "is-automated=true" will not yield any results in future.\n');
    }
    const [index] = splitSearchTerm(term);
    const results = await ctx.client().imageSearch(term, flags.number('limit'), filters, registryAuthFor(ctx, index));
    const format = flags.string('format');
    ctx.out(renderList({ format: format === '' || format === 'table' ? DEFAULT_FORMAT : format, header: HEADER, rows: searchRows(results, !flags.bool('no-trunc'), format.includes('json')) }));
  },
};

// searchContext: Description on one line, cut to 45 columns; OFFICIAL is "[OK]" in a
// table and "true"/"false" in JSON.
export function searchRows(results: SearchResult[], trunc: boolean, json: boolean): Row[] {
  return results.map((r) => {
    let desc = r.description.replace(/[\n\r]/g, ' ');
    if (trunc) desc = ellipsis(desc, 45);
    const official = json ? String(r.is_official) : r.is_official ? '[OK]' : '';
    // Keys in the order docker's JSON gives them (sorted).
    return { Description: desc, IsOfficial: official, Name: r.name, StarCount: String(r.star_count) };
  });
}
