import { registryServeCommand, serveRegistry } from '../../cli/commands/registry.js';
import { StatusError } from '../../cli/command.js';
import { FlagError, parseFlags, type FlagSpec } from '../../cli/flags.js';
import { flagErrorMessage, renderHelp, type CommandNode } from '../../cli/help.js';

// The entry of dist/registry.mjs, the bundle the `registry` image runs: `berth
// registry serve` and nothing else, so the image needs neither the CLI nor koffi.

const HELP: FlagSpec = { name: 'help', short: 'h', kind: 'bool', usage: 'Print usage' };
const node: CommandNode = {
  spec: registryServeCommand,
  parentPath: 'registry',
  flags: [...(registryServeCommand.flags ?? []), HELP],
};

async function main(argv: string[]): Promise<number> {
  const args = argv[0] === 'serve' ? argv.slice(1) : argv;
  let flags;
  try {
    flags = parseFlags(node.flags, args, { interspersed: true });
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`${flagErrorMessage(err, node)}\n`);
      return 125;
    }
    throw err;
  }
  if (flags.bool('help')) {
    process.stdout.write(renderHelp(node, 80));
    return 0;
  }
  if (flags.args.length > 0) {
    process.stderr.write(`registry serve: unexpected argument ${JSON.stringify(flags.args[0])}\n`);
    return 125;
  }
  return serveRegistry(flags, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof StatusError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.status);
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
