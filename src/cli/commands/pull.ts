import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { refName, refString } from '../../image/reference.js';
import { displayJsonMessages } from '../jsonmessage.js';
import { discard } from '../container-create.js';
import { registryAuthFor } from '../credential-store.js';
import { transferRef } from '../transfer-ref.js';

export const pullCommand: CommandSpec = {
  name: 'pull',
  use: 'pull [OPTIONS] NAME[:TAG|@DIGEST]',
  short: 'Download an image from a registry',
  aliasText: 'docker image pull, docker pull',
  topCategory: 5,
  flags: [
    { name: 'all-tags', short: 'a', kind: 'bool', usage: 'Download all tagged images in the repository' },
    { name: 'disable-content-trust', kind: 'bool', default: true, usage: 'Skip image verification' },
    { name: 'platform', kind: 'string', default: process.env.DOCKER_DEFAULT_PLATFORM ?? '', usage: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress verbose output' },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const all = flags.bool('all-tags');
    const quiet = flags.bool('quiet');
    const ref = transferRef(ctx, args[0]!, all, quiet);
    const tag = all ? undefined : (ref.digest ?? ref.tag);
    const res = await ctx.client().imagePull(refName(ref), tag, flags.string('platform'), registryAuthFor(ctx, ref.domain));
    const out = quiet ? discard() : ctx.io.stdout;
    await displayJsonMessages(res, out, { isTerminal: out.isTTY === true });
    ctx.out(`${refString(ref)}\n`);
  },
};

export const imagePullCommand: CommandSpec = { ...pullCommand, topCategory: undefined };
