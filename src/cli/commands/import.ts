import { createReadStream, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { parseNormalizedNamed } from '../../image/reference.js';
import { displayJsonMessages } from '../jsonmessage.js';
import { goFileError } from '../opts/kvfile.js';

// `berth import file|URL|- [REPOSITORY[:TAG]]`: the tarball goes up as the body of
// POST /images/create?fromSrc=-, or the daemon fetches the URL itself.

export const importCommand: CommandSpec = {
  name: 'import',
  use: 'import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  short: 'Import the contents from a tarball to create a filesystem image',
  aliasText: 'docker image import, docker import',
  flags: [
    { name: 'change', short: 'c', kind: 'list', usage: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', kind: 'string', usage: 'Set commit message for imported image' },
    { name: 'platform', kind: 'string', default: process.env.DOCKER_DEFAULT_PLATFORM ?? '', usage: 'Set platform if server is multi-platform capable' },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const [source, ref = ''] = args;
    let body: Readable | undefined;
    let fromSrc: string;
    if (source === '-') {
      body = ctx.io.stdin;
      fromSrc = '-';
    } else if (source.startsWith('https://') || source.startsWith('http://')) {
      fromSrc = source;
    } else {
      // Open first so a missing file fails before anything is sent.
      try {
        const fd = openSync(source, 'r');
        body = createReadStream('', { fd });
      } catch (err) {
        throw goFileError('open', source, err);
      }
      fromSrc = '-';
    }
    if (ref !== '') parseNormalizedNamed(ref);
    const platform = flags.string('platform');
    const res = await ctx.client().imageImport(
      {
        fromSrc,
        repo: ref || undefined,
        message: flags.string('message') || undefined,
        platform: platform ? platform.toLowerCase() : undefined,
        changes: flags.list('change'),
      },
      body,
    );
    await displayJsonMessages(res, ctx.io.stdout, { isTerminal: ctx.io.stdout.isTTY === true });
  },
};
