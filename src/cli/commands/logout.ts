import { maxArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { convertToHostname, INDEX_SERVER } from '../../distribution/auth-config.js';
import { credentialStoreFor } from '../credential-store.js';

// `berth logout`: docker's runLogout; the credentials leave config.json under any of the
// keys older CLIs stored them by.

export const logoutCommand: CommandSpec = {
  name: 'logout',
  use: 'logout [SERVER]',
  short: 'Log out from a registry',
  long: 'Log out from a registry.\nIf no server is specified, the default is defined by the daemon.',
  topCategory: 9,
  args: maxArgs(1),
  run: async (ctx: CliContext, _flags: ParsedFlags, args: string[]) => {
    const given = args[0] ?? '';
    const isDefault = given === '';
    const server = isDefault ? INDEX_SERVER : given;
    const host = isDefault ? server : convertToHostname(server);
    const keys = isDefault ? [server] : [...new Set([server, host, `http://${host}`, `https://${host}`])];
    ctx.out(`Removing login credentials for ${host}\n`);
    const store = credentialStoreFor(ctx);
    const failures: string[] = [];
    for (const k of keys) {
      try {
        await store.erase(k);
      } catch (err) {
        failures.push(`${k}: ${(err as Error).message}`);
      }
    }
    if (failures.length === keys.length) ctx.err(`WARNING: could not erase credentials:\n${failures.join('\n')}\n`);
    for (const file of keys.flatMap((k) => store.elsewhere(k)).filter((f, i, a) => a.indexOf(f) === i)) {
      ctx.err(`WARNING: credentials for ${host} remain in ${file} (docker's own; remove them with 'docker logout')\n`);
    }
  },
};
