import { encodeFilters } from '../../client/engine-client.js';
import { maxArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { renderList } from '../formatter.js';
import { IMAGE_HEADERS, imageFormat, imageRows } from '../image-rows.js';
import { BIN } from '../command.js';
import { filterFlag, formatFlag, type FilterMap } from '../opts/filters.js';

// `berth images` / `berth image ls`.

const AMBIGUOUS = new Set(['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag']);

function imagesCommandFor(name: string, use: string, aliases: string[] | undefined, topCategory: number | undefined): CommandSpec {
  return {
    name,
    use,
    short: 'List images',
    aliasText: 'docker image ls, docker image list, docker images',
    aliases,
    topCategory,
    flags: [
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show image IDs' },
      { name: 'all', short: 'a', kind: 'bool', usage: 'Show all images (default hides intermediate images)' },
      { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
      { name: 'digests', kind: 'bool', usage: 'Show digests' },
      formatFlag(),
      filterFlag(),
      // Experimental and API 1.47+: hidden, as docker hides it here.
      { name: 'tree', kind: 'bool', hidden: true, usage: 'List multi-platform images as a tree (EXPERIMENTAL)' },
    ],
    args: maxArgs(1),
    run: (ctx, flags, args) => runImages(ctx, flags, args, name),
  };
}

export const imagesCommand = imagesCommandFor('images', 'images [OPTIONS] [REPOSITORY[:TAG]]', undefined, 7);
export const imageLsCommand = imagesCommandFor('ls', 'ls [OPTIONS] [REPOSITORY[:TAG]]', ['list'], undefined);

async function runImages(ctx: CliContext, flags: ParsedFlags, args: string[], calledAs: string): Promise<void> {
  const filters: FilterMap = { ...((flags.get('filter') as FilterMap | undefined) ?? {}) };
  const match = args[0] ?? '';
  if (match !== '') filters.reference = [...(filters.reference ?? []), match];
  if (flags.bool('tree')) throw new Error('--tree is not supported');
  const images = await ctx.client().imageList({
    all: flags.bool('all') ? '1' : undefined,
    filters: encodeFilters(filters),
  });
  const quiet = flags.bool('quiet');
  let format = flags.string('format');
  if (format === '') {
    const fromConfig = ctx.configFile().imagesFormat;
    format = fromConfig && !quiet ? fromConfig : 'table';
  }
  const digest = flags.bool('digests');
  const finalFmt = imageFormat(format, quiet, digest);
  ctx.out(
    renderList({
      format: finalFmt,
      header: IMAGE_HEADERS,
      rows: imageRows(images, { trunc: !flags.bool('no-trunc'), digest, needDigest: digest || finalFmt.includes('{{.Digest}}') }),
      goType: '*formatter.imageContext',
    }),
  );
  if (match !== '' && images.length === 0 && calledAs === 'images' && AMBIGUOUS.has(match)) {
    ctx.err(`\nNo images found matching ${JSON.stringify(match)}: did you mean "${BIN} image ${match}"?\n`);
  }
}
