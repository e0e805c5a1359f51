import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { displayJsonMessages } from '../jsonmessage.js';
import { discard } from '../container-create.js';

// berth's own: build a base image without a registry — busybox from Debian's
// busybox-static, Debian through debootstrap, or the registry image (berth's registry
// server on the host's node) — streamed like a pull.

const KINDS = ['busybox', 'debian', 'registry'];

export const bootstrapCommand: CommandSpec = {
  name: 'bootstrap',
  use: 'bootstrap [OPTIONS] busybox|debian|registry',
  short: 'Create a base image (busybox, debian or registry) without a registry',
  flags: [
    { name: 'tag', short: 't', kind: 'string', usage: 'Name and optionally a tag for the image (default "busybox:latest", "debian:<suite>" or "registry:latest" and "registry:2")' },
    { name: 'suite', kind: 'string', usage: 'Debian suite to bootstrap (default "bookworm")' },
    { name: 'include', kind: 'list', usage: 'Extra Debian packages to install (comma-separated, repeatable)' },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the progress output' },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const kind = args[0];
    if (!KINDS.includes(kind)) throw new Error(`unknown image kind ${JSON.stringify(kind)}: must be one of "busybox", "debian", "registry"`);
    const include = flags.list('include').flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    const res = await ctx.client().imageBootstrap({
      kind,
      tag: flags.string('tag') || undefined,
      suite: flags.string('suite') || undefined,
      include: include.length > 0 ? include.join(',') : undefined,
    });
    let id: string | undefined;
    const quiet = flags.bool('quiet');
    await displayJsonMessages(res, quiet ? discard() : ctx.io.stdout, {
      isTerminal: !quiet && ctx.io.stdout.isTTY === true,
      onAux: (aux) => {
        const v = (aux as { ID?: unknown }).ID;
        if (typeof v === 'string') id = v;
      },
    });
    // The daemon reports the new image in its own status lines; -q prints just the ID.
    if (quiet && id) ctx.out(`${id}\n`);
  },
};
