import { createReadStream, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { displayJsonMessages } from '../jsonmessage.js';
import { goFileError } from '../opts/kvfile.js';

export const loadCommand: CommandSpec = {
  name: 'load',
  use: 'load [OPTIONS]',
  short: 'Load an image from a tar archive or STDIN',
  aliasText: 'docker image load, docker load',
  flags: [
    { name: 'input', short: 'i', kind: 'string', usage: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the load output' },
    { name: 'platform', kind: 'string', hidden: true, usage: 'Load only the given platform variant. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")' },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const inputPath = flags.string('input');
    let input: Readable;
    if (inputPath === '') {
      if (ctx.io.stdin.isTTY) throw new Error('requested load from stdin, but stdin is empty');
      input = ctx.io.stdin;
    } else {
      try {
        const fd = openSync(inputPath, 'r');
        input = createReadStream('', { fd });
      } catch (err) {
        throw goFileError('open', inputPath, err);
      }
    }
    const quiet = flags.bool('quiet') || !ctx.io.stdout.isTTY;
    const res = await ctx.client().imageLoad(input, quiet);
    if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
      await displayJsonMessages(res, ctx.io.stdout, { isTerminal: ctx.io.stdout.isTTY === true });
    } else {
      for await (const chunk of res) ctx.io.stdout.write(chunk as Buffer);
    }
  },
};
