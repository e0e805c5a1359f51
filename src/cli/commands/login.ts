import { maxArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { EngineError } from '../../client/engine-client.js';
import { convertToHostname, INDEX_SERVER, type AuthConfig } from '../../distribution/auth-config.js';
import { credentialStoreFor, type CredentialStore } from '../credential-store.js';
import { readInput } from '../prompt.js';

// `berth login`: docker's runLogin. The daemon checks the credentials against the
// registry (POST /auth); the CLI keeps them in config.json for later pulls and pushes.

const UNENCRYPTED_WARNING = (file: string): string =>
  `\nWARNING! Your credentials are stored unencrypted in '${file}'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n`;

export const loginCommand: CommandSpec = {
  name: 'login',
  use: 'login [OPTIONS] [SERVER]',
  short: 'Authenticate to a registry',
  long: 'Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.',
  topCategory: 8,
  flags: [
    { name: 'password', short: 'p', kind: 'string', usage: 'Password or Personal Access Token (PAT)' },
    { name: 'password-stdin', kind: 'bool', usage: 'Take the Password or Personal Access Token (PAT) from stdin' },
    { name: 'username', short: 'u', kind: 'string', usage: 'Username' },
  ],
  args: maxArgs(1),
  run: runLogin,
};

async function runLogin(ctx: CliContext, flags: ParsedFlags, args: string[]): Promise<void> {
  let user = flags.string('username');
  let password = flags.string('password');
  if (flags.changed('password-stdin')) {
    if (flags.changed('password')) throw new Error('conflicting options: cannot specify both --password and --password-stdin');
    if (!flags.changed('username')) throw new Error('the --password-stdin option requires --username to be set');
  }
  if (flags.changed('username') && user === '') throw new Error('username is empty');
  if (flags.changed('password') && password === '') throw new Error('password is empty');
  if (password !== '') ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (flags.bool('password-stdin')) {
    let contents = '';
    for await (const chunk of ctx.io.stdin) contents += (chunk as Buffer).toString();
    password = contents.replace(/\n$/, '').replace(/\r$/, '');
  }

  const arg = args[0] ?? '';
  const isDefault = arg === '' || arg === 'docker.io';
  const serverAddress = isDefault ? INDEX_SERVER : convertToHostname(arg);
  const store = credentialStoreFor(ctx);

  // The stored credentials are tried first when none were given.
  if (user === '' && password === '') {
    const stored = store.get(serverAddress);
    if (stored.username && stored.password) {
      ctx.err(`Authenticating with existing credentials... [Username: ${stored.username}]\n`);
      ctx.err(`\n Info -> To login with a different account, run 'berth logout' followed by 'berth login'\n\n\n`);
      try {
        const status = await loginAndStore(ctx, store, { ...stored, serveraddress: serverAddress });
        ctx.out(`${status}\n`);
        return;
      } catch (err) {
        if (err instanceof EngineError && err.statusCode === 401) ctx.err('Stored credentials invalid or expired\n');
        else ctx.err(`Login did not succeed, error: ${(err as Error).message}\n`);
      }
      user = '';
    }
  }
  if ((user === '' || password === '') && !ctx.io.stdin.isTTY) {
    throw new Error('Error: Cannot perform an interactive login from a non TTY device');
  }
  const defaultUser = store.get(serverAddress).username ?? '';
  if (user === '') {
    user = await readInput(ctx, defaultUser ? `Username (${defaultUser}): ` : 'Username: ');
    if (user === '') user = defaultUser;
    if (user === '') throw new Error('Error: Non-null Username Required');
  }
  if (password === '') {
    password = await readInput(ctx, 'Password: ', { silent: true });
    ctx.out('\n');
    if (password === '') throw new Error('Error: Password Required');
  }
  const status = await loginAndStore(ctx, store, { username: user.trim(), password, serveraddress: serverAddress });
  ctx.out(`${status}\n`);
}

async function loginAndStore(ctx: CliContext, store: CredentialStore, auth: AuthConfig): Promise<string> {
  const body: Record<string, string> = {};
  for (const [k, v] of Object.entries(auth)) if (v) body[k] = v;
  const res = await ctx.client().registryLogin(body);
  const saved: AuthConfig = { ...auth };
  if (res.IdentityToken) {
    saved.password = '';
    saved.identitytoken = res.IdentityToken;
  }
  const before = store.get(auth.serveraddress ?? '');
  try {
    await store.store(saved);
  } catch (err) {
    throw new Error(`Error saving credentials: ${(err as Error).message}`);
  }
  if (saved.password && (before.username !== saved.username || before.password !== saved.password)) {
    ctx.err(UNENCRYPTED_WARNING(store.files.write));
  }
  return res.Status;
}
