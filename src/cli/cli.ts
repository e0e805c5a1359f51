import { homedir } from 'node:os';
import { isatty } from 'node:tty';
import path from 'node:path';
import { CLIENT_VERSION } from '../client/engine-client.js';
import { BIN, StatusError, type CliIO, type CommandSpec } from './command.js';
import { Context } from './context.js';
import { FlagError, parseFlags, type FlagSpec } from './flags.js';
import { checkArgs, flagErrorMessage, renderHelp, type CommandNode } from './help.js';
import { rootCommands } from './commands/index.js';

// The entry the `berth` binary and the tests share: global flags, then the
// command (or group and subcommand), then its flags and arguments, with docker's
// messages and exit codes at every step.

const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', kind: 'bool', usage: 'Print usage', hidden: true, shortDeprecated: 'use --help' };

function globalFlags(env: NodeJS.ProcessEnv): FlagSpec[] {
  const configDir = env.DOCKER_CONFIG || path.join(homedir(), '.docker');
  return [
    { name: 'config', kind: 'string', default: configDir, usage: 'Location of client config files' },
    {
      name: 'context',
      short: 'c',
      kind: 'string',
      usage: `Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and default context set with "${BIN} context use")`,
    },
    { name: 'debug', short: 'D', kind: 'bool', usage: 'Enable debug mode' },
    { name: 'host', short: 'H', kind: 'list', usage: 'Daemon socket to connect to' },
    { name: 'log-level', short: 'l', kind: 'string', default: 'info', usage: 'Set the logging level ("debug", "info", "warn", "error", "fatal")' },
    { name: 'tls', kind: 'bool', usage: 'Use TLS; implied by --tlsverify' },
    { name: 'tlscacert', kind: 'string', default: path.join(configDir, 'ca.pem'), usage: 'Trust certs signed only by this CA' },
    { name: 'tlscert', kind: 'string', default: path.join(configDir, 'cert.pem'), usage: 'Path to TLS certificate file' },
    { name: 'tlskey', kind: 'string', default: path.join(configDir, 'key.pem'), usage: 'Path to TLS key file' },
    { name: 'tlsverify', kind: 'bool', usage: 'Use TLS and verify the remote' },
    { name: 'version', short: 'v', kind: 'bool', usage: 'Print version information and quit' },
    HELP_FLAG,
  ];
}

export const rootCommand: CommandSpec = {
  name: BIN,
  use: `${BIN} [OPTIONS] COMMAND [ARG...]`,
  short: 'A self-sufficient runtime for containers',
  subcommands: rootCommands,
};

// docker wraps help at the width of the terminal on fd 0, else 80 columns. We
// ask stdout for the width (stdin streams have none) and avoid building
// process.stdin just for this.
function columns(io: CliIO): number {
  const c = isatty(io.stdinFd ?? 0) && io.stdout.isTTY ? io.stdout.columns : undefined;
  return c && c > 0 ? c : 80;
}

function findSub(parent: CommandSpec, name: string): CommandSpec | undefined {
  return parent.subcommands?.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

// The flags a command parses: its own plus docker's hidden -h/--help, unless it
// declares a visible --help itself (run and create, where -h is the hostname).
function commandFlags(spec: CommandSpec): FlagSpec[] {
  const own = spec.flags ?? [];
  if (own.some((f) => f.name === 'help')) return own;
  const shortTaken = own.some((f) => f.short === 'h');
  return [...own, shortTaken ? { ...HELP_FLAG, short: undefined, shortDeprecated: undefined } : HELP_FLAG];
}

export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const write = (s: string): void => void io.stderr.write(s);
  const rootFlags = globalFlags(io.env);
  const rootNode: CommandNode = { spec: rootCommand, parentPath: '', flags: rootFlags, isRoot: true };

  let globals;
  try {
    globals = parseFlags(rootFlags, argv, { interspersed: false, warn: (l) => void io.stdout.write(l + '\n') });
  } catch (err) {
    if (err instanceof FlagError) {
      write(flagErrorMessage(err, rootNode) + '\n');
      return 125;
    }
    throw err;
  }
  if (globals.bool('version')) {
    io.stdout.write(`${BIN} version ${CLIENT_VERSION}, build unknown\n`);
    return 0;
  }
  const ctxFor = (commandPath: string): Context =>
    new Context(io, commandPath, {
      hosts: globals.list('host'),
      configDir: globals.changed('config') ? globals.string('config') : undefined,
      debug: globals.bool('debug'),
    });

  const args = globals.args;
  if (args.length === 0) {
    // `berth` alone prints help on stderr; `berth --help` on stdout.
    (globals.bool('help') ? io.stdout : io.stderr).write(renderHelp(rootNode, columns(io)));
    return 0;
  }
  if (globals.bool('help')) {
    return showHelpFor(args, io, rootNode);
  }
  if (args[0] === 'help') return showHelpFor(args.slice(1), io, rootNode);

  const top = findSub(rootCommand, args[0]);
  if (!top) {
    write(`${BIN}: unknown command: ${BIN} ${args[0]}\n\nRun '${BIN} --help' for more information\n`);
    return 1;
  }
  let spec = top;
  let parentPath = BIN;
  let rest = args.slice(1);
  let siblings = rootCommand.subcommands;
  // Management commands: the next word names the subcommand.
  while (spec.subcommands && spec.subcommands.length > 0) {
    const node: CommandNode = { spec, parentPath, siblings, flags: commandFlags(spec) };
    const path = `${parentPath} ${spec.name}`;
    if (rest.length === 0) {
      io.stderr.write(renderHelp(node, columns(io)));
      return 0;
    }
    if (rest[0].startsWith('-')) {
      try {
        const parsed = parseFlags(node.flags, rest, { interspersed: true });
        if (parsed.bool('help') || parsed.args.length === 0) {
          io.stdout.write(renderHelp(node, columns(io)));
          return 0;
        }
        rest = parsed.args;
      } catch (err) {
        if (err instanceof FlagError) {
          write(flagErrorMessage(err, node) + '\n');
          return 125;
        }
        throw err;
      }
    }
    const sub = findSub(spec, rest[0]);
    if (!sub) {
      write(`${checkArgs({ kind: 'none' }, node, rest)}\n`);
      return 1;
    }
    parentPath = path;
    siblings = spec.subcommands;
    spec = sub;
    rest = rest.slice(1);
  }

  const node: CommandNode = { spec, parentPath, siblings, flags: commandFlags(spec) };
  const ctx = ctxFor(`${parentPath} ${spec.name}`);
  try {
    let flags;
    try {
      flags = parseFlags(node.flags, rest, { interspersed: spec.interspersed ?? true, warn: (l) => void io.stdout.write(l + '\n') });
    } catch (err) {
      if (err instanceof FlagError) throw new StatusError(flagErrorMessage(err, node), 125);
      throw err;
    }
    if (flags.bool('help')) {
      io.stdout.write(renderHelp(node, columns(io)));
      return 0;
    }
    const argErr = checkArgs(spec.args ?? { kind: 'any' }, node, flags.args);
    if (argErr) throw new Error(argErr);
    if (!spec.run) {
      io.stderr.write(renderHelp(node, columns(io)));
      return 0;
    }
    const code = await spec.run(ctx, flags, flags.args);
    return code ?? 0;
  } catch (err) {
    return reportError(err, io);
  } finally {
    ctx.close();
  }
}

function showHelpFor(words: readonly string[], io: CliIO, rootNode: CommandNode): number {
  let spec: CommandSpec = rootCommand;
  let parentPath = '';
  let siblings: CommandSpec[] | undefined;
  let node: CommandNode = rootNode;
  for (const w of words) {
    if (w.startsWith('-')) continue;
    const sub = findSub(spec, w);
    if (!sub) {
      if (spec === rootCommand) {
        io.stderr.write(`unknown help topic: ${words.join(' ')}\n`);
        return 1;
      }
      break;
    }
    parentPath = node.isRoot ? BIN : `${parentPath} ${spec.name}`;
    siblings = spec.subcommands;
    spec = sub;
    node = { spec, parentPath, siblings, flags: commandFlags(spec) };
  }
  io.stdout.write(renderHelp(node, columns(io)));
  return 0;
}

// One place maps failures to output and exit codes: a StatusError carries its own,
// everything else prints its message and exits 1 as docker's main does.
export function reportError(err: unknown, io: CliIO): number {
  if (err instanceof StatusError) {
    if (err.message !== '') io.stderr.write(err.message + '\n');
    return err.status;
  }
  // EngineError ("Error response from daemon: ..."), ConnectionError, HostError and
  // the rest print as they are.
  if (err instanceof Error) {
    if (err.message !== '') io.stderr.write(err.message + '\n');
    return 1;
  }
  io.stderr.write(String(err) + '\n');
  return 1;
}
