import { EngineError } from '../../client/engine-client.js';
import { minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { inspectRefs, type Lookup } from '../inspect-output.js';
import { INSPECT_FORMAT_HELP } from '../opts/filters.js';

// `berth inspect`: any object by name or ID, trying each kind in docker's order
// (container, image, network, volume) unless --type narrows it.

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

function skippable(err: unknown): boolean {
  if (err instanceof EngineError && err.isNotFound) return true;
  const msg = err instanceof Error ? err.message : '';
  return msg.includes('not supported') || msg.includes('invalid reference format');
}

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  short: 'Return low-level information on Docker objects',
  flags: [
    { name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'type', kind: 'string', usage: 'Only inspect objects of the given type' },
    { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes if the type is container' },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const type = flags.string('type');
    if (flags.changed('type') && type === '') throw new Error(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`);
    if (type !== '' && !ALL_TYPES.includes(type)) throw new Error(`unknown type: ${JSON.stringify(type)}: must be one of "${ALL_TYPES.join('", "')}"`);
    const client = ctx.client();
    const size = flags.bool('size');
    const kinds: Array<{ type: string; sized: boolean; get: Lookup }> = [
      { type: 'container', sized: true, get: (ref) => client.containerInspect(ref, size) },
      { type: 'image', sized: false, get: (ref) => client.imageInspect(ref) },
      { type: 'network', sized: false, get: (ref) => client.objectInspect('networks', ref) },
      { type: 'volume', sized: false, get: (ref) => client.objectInspect('volumes', ref) },
    ];
    const lookup: Lookup = async (ref) => {
      for (const k of kinds) {
        if (type !== '' && k.type !== type) continue;
        try {
          const found = await k.get(ref);
          if (size && !k.sized) ctx.err(`WARNING: --size ignored for ${k.type}\n`);
          return found;
        } catch (err) {
          if (type === '' && skippable(err)) continue;
          throw err;
        }
      }
      throw new Error(`Error: No such object: ${ref}`);
    };
    await inspectRefs(ctx, args, flags.string('format'), lookup);
  },
};

export const containerInspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Display detailed information on one or more containers',
  flags: [
    { name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP },
    { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    await inspectRefs(ctx, args, flags.string('format'), (ref) => client.containerInspect(ref, flags.bool('size')));
  },
};

export const imageInspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] IMAGE [IMAGE...]',
  short: 'Display detailed information on one or more images',
  flags: [
    { name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP },
    {
      name: 'platform',
      kind: 'string',
      usage:
        "Inspect a specific platform of the multi-platform image.\nIf the image or the server is not multi-platform capable, the command will error out if the platform does not match.\n'os[/arch[/variant]]': Explicit platform (eg. linux/amd64)",
    },
  ],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    await inspectRefs(ctx, args, flags.string('format'), (ref) => client.imageInspect(ref));
  },
};
