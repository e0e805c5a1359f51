import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { familiarName, refString } from '../../image/reference.js';
import { displayJsonMessages } from '../jsonmessage.js';
import { discard } from '../container-create.js';
import { registryAuthFor } from '../credential-store.js';
import { transferRef } from '../transfer-ref.js';

// `berth push`: docker's runPush, progress from the daemon's JSON stream.

export const pushCommand: CommandSpec = {
  name: 'push',
  use: 'push [OPTIONS] NAME[:TAG]',
  short: 'Upload an image to a registry',
  aliasText: 'docker image push, docker push',
  topCategory: 6,
  flags: [
    { name: 'all-tags', short: 'a', kind: 'bool', usage: 'Push all tags of an image to the repository' },
    { name: 'disable-content-trust', kind: 'bool', default: true, usage: 'Skip image signing' },
    {
      name: 'platform',
      kind: 'string',
      usage:
        "Push a platform-specific manifest as a single-platform image to the registry.\nImage index won't be pushed, meaning that other manifests, including attestations won't be preserved.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
    },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress verbose output' },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const all = flags.bool('all-tags');
    const quiet = flags.bool('quiet');
    const ref = transferRef(ctx, args[0]!, all, quiet);
    if (ref.digest !== undefined) throw new Error('cannot push a digest reference');
    // berth's images are single-platform: --platform has nothing to choose among.
    const res = await ctx.client().imagePush(familiarName(ref), all ? undefined : ref.tag, registryAuthFor(ctx, ref.domain));
    const out = quiet ? discard() : ctx.io.stdout;
    await displayJsonMessages(res, out, { isTerminal: out.isTTY === true });
    if (quiet) ctx.out(`${refString(ref)}\n`);
  },
};

export const imagePushCommand: CommandSpec = { ...pushCommand, topCategory: undefined };
