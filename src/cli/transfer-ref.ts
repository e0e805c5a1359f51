import { isNameOnly, parseNormalizedNamed, tagNameOnly, type NamedRef } from '../image/reference.js';
import type { CliContext } from './command.js';

// pull and push read their NAME[:TAG] alike (docker/cli's image pull/push): -a takes a
// name only; without it a bare name gets "latest", said unless -q.
export function transferRef(ctx: CliContext, arg: string, all: boolean, quiet: boolean): NamedRef {
  const ref = parseNormalizedNamed(arg);
  if (all && !isNameOnly(ref)) throw new Error("tag can't be used with --all-tags/-a");
  if (all || !isNameOnly(ref)) return ref;
  const tagged = tagNameOnly(ref);
  if (!quiet) ctx.out(`Using default tag: ${tagged.tag}\n`);
  return tagged;
}
