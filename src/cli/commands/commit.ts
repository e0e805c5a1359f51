import { rangeArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { parseNormalizedNamed, refName, tagNameOnly } from '../../image/reference.js';

export const commitCommand: CommandSpec = {
  name: 'commit',
  use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  short: "Create a new image from a container's changes",
  aliasText: 'docker container commit, docker commit',
  interspersed: false,
  flags: [
    { name: 'pause', short: 'p', kind: 'bool', default: true, usage: 'Pause container during commit' },
    { name: 'message', short: 'm', kind: 'string', usage: 'Commit message' },
    { name: 'author', short: 'a', kind: 'string', usage: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { name: 'change', short: 'c', kind: 'list', usage: 'Apply Dockerfile instruction to the created image' },
  ],
  args: rangeArgs(1, 2),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const container = args[0].trim();
    if (container === '') throw new Error('invalid container name or ID: value is empty');
    let repo = '';
    let tag = '';
    if (args[1]) {
      const ref = parseNormalizedNamed(args[1]);
      if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
      const tagged = tagNameOnly(ref);
      repo = refName(tagged);
      tag = tagged.tag ?? '';
    }
    const res = await ctx.client().containerCommit(
      {
        container,
        repo,
        tag,
        comment: flags.string('message'),
        author: flags.string('author'),
        changes: flags.list('change'),
        pause: flags.bool('pause') ? undefined : '0',
      },
      undefined,
    );
    ctx.out(`${res.Id}\n`);
  },
};
