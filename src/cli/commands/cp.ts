import { BIN, exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';

// `berth cp`: the flows live in ../copy.js, loaded on use.

export const cpCommand: CommandSpec = {
  name: 'cp',
  use: `cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\t${BIN} cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH`,
  short: 'Copy files/folders between a container and the local filesystem',
  long:
    "Copy files/folders between a container and the local filesystem\n\nUse '-' as the source to read a tar archive from stdin\nand extract it to a directory destination in a container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source to stdout.",
  aliasText: 'docker container cp, docker cp',
  flags: [
    { name: 'follow-link', short: 'L', kind: 'bool', usage: 'Always follow symbol link in SRC_PATH' },
    { name: 'archive', short: 'a', kind: 'bool', usage: 'Archive mode (copy all uid/gid information)' },
    {
      name: 'quiet',
      short: 'q',
      kind: 'bool',
      usage: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached',
    },
  ],
  args: exactArgs(2),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    if (args[0] === '') throw new Error('source can not be empty');
    if (args[1] === '') throw new Error('destination can not be empty');
    const quiet = flags.changed('quiet') ? flags.bool('quiet') : !ctx.io.stdout.isTTY;
    const { splitCpArg, copyFromContainer, copyToContainer } = await import('../copy.js');
    const [srcContainer, srcPath] = splitCpArg(args[0]);
    const [dstContainer, dstPath] = splitCpArg(args[1]);
    if (srcContainer && dstContainer) throw new Error('copying between containers is not supported');
    if (srcContainer) return copyFromContainer(ctx, srcContainer, srcPath, dstPath, flags.bool('follow-link'), quiet);
    if (dstContainer) return copyToContainer(ctx, dstContainer, srcPath, dstPath, flags.bool('follow-link'), flags.bool('archive'), quiet);
    throw new Error('must specify at least one container source');
  },
};
