import { noArgs, StatusError, type CliIO, type CommandSpec } from '../command.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';

// berth's own: `berth registry serve` runs a container registry (Docker Registry HTTP
// API v2) in the foreground, as the official `registry` image does. The `registry`
// image made by `berth image bootstrap registry` runs exactly this command.

export const registryServeFlags: FlagSpec[] = [
  { name: 'addr', kind: 'string', default: '0.0.0.0:5000', usage: 'Address to listen on (host:port)' },
  { name: 'root', kind: 'string', default: '/var/lib/registry', usage: 'Directory that holds the registry storage' },
  { name: 'htpasswd', kind: 'string', usage: 'htpasswd file (bcrypt entries) that turns on Basic authentication' },
  { name: 'realm', kind: 'string', default: 'Registry Realm', usage: 'Realm named in the authentication challenge' },
  { name: 'tls-cert', kind: 'string', usage: 'TLS certificate file (PEM); serve HTTPS' },
  { name: 'tls-key', kind: 'string', usage: 'TLS private key file (PEM)' },
];

// Runs until SIGINT or SIGTERM, then closes the listener and returns 0.
export async function serveRegistry(flags: ParsedFlags, io: CliIO): Promise<number> {
  const cert = flags.string('tls-cert');
  const key = flags.string('tls-key');
  if (!cert !== !key) throw new StatusError('--tls-cert and --tls-key must be given together', 125);
  // Loaded here, not at the top: every other command would pay for parsing it.
  const { startRegistryServer } = await import('../../distribution/server/server.js');
  const log = (line: string): void => void io.stderr.write(`${line}\n`);
  const server = await startRegistryServer({
    address: flags.string('addr'),
    root: flags.string('root'),
    htpasswd: flags.string('htpasswd') || undefined,
    realm: flags.string('realm'),
    tls: cert ? { cert, key } : undefined,
    log,
  });
  log(`listening on ${flags.string('addr')} (${server.url}), storage ${flags.string('root')}`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log(`${signal}: shutting down`);
  await server.close();
  return 0;
}

export const registryServeCommand: CommandSpec = {
  name: 'serve',
  use: 'serve [OPTIONS]',
  short: 'Run a container registry in the foreground',
  flags: registryServeFlags,
  args: noArgs,
  run: (ctx, flags) => serveRegistry(flags, ctx.io),
};

export const registryCommand: CommandSpec = {
  name: 'registry',
  use: 'registry',
  short: 'Run a container registry',
  args: noArgs,
  subcommands: [registryServeCommand],
};
