import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import { parseAnyReference, parseNormalizedNamed, refName, tagNameOnly } from '../../image/reference.js';

// `berth tag`: both references are checked client-side as the docker client checks them.

function tagCommandFor(name: string): CommandSpec {
  return {
    name,
    use: 'tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
    short: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
    aliasText: 'docker image tag, docker tag',
    interspersed: false,
    args: exactArgs(2),
    run: async (ctx: CliContext, _flags, args: string[]) => {
      const [source, target] = args;
      try {
        parseAnyReference(source);
      } catch (err) {
        throw new Error(`Error parsing reference: ${JSON.stringify(source)} is not a valid repository/tag: ${(err as Error).message}`);
      }
      let ref;
      try {
        ref = parseNormalizedNamed(target);
      } catch (err) {
        throw new Error(`Error parsing reference: ${JSON.stringify(target)} is not a valid repository/tag: ${(err as Error).message}`);
      }
      if (ref.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
      const tagged = tagNameOnly(ref);
      await ctx.client().imageTag(source, refName(tagged), tagged.tag);
    },
  };
}

export const tagCommand = tagCommandFor('tag');
export const imageTagCommand = tagCommandFor('tag');
