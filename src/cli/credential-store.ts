import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { authConfigKey, convertToHostname, encodeAuthConfig, type AuthConfig } from '../distribution/auth-config.js';

// Registry credentials in the docker CLI's config.json format:
//   {"auths": {"127.0.0.1:5000": {"auth": "<base64 user:password>"}}, ...other keys kept}
// --config, BERTH_CONFIG or DOCKER_CONFIG name the one directory used. Otherwise berth
// writes ~/.berth/config.json and reads it first, then ~/.docker/config.json, so logins
// made with docker work with berth too.

interface StoredAuth {
  auth?: string;
  username?: string;
  password?: string;
  email?: string;
  identitytoken?: string;
  registrytoken?: string;
}

type ConfigJson = Record<string, unknown> & { auths?: Record<string, StoredAuth> };

export interface CredentialFiles {
  write: string; // config.json path login writes
  read: string[]; // config.json paths looked in, in order
}

export function credentialFiles(env: NodeJS.ProcessEnv, explicitDir?: string): CredentialFiles {
  const dir = explicitDir || env.BERTH_CONFIG || env.DOCKER_CONFIG;
  if (dir) {
    const file = path.join(dir, 'config.json');
    return { write: file, read: [file] };
  }
  const home = env.HOME || homedir();
  const berth = path.join(home, '.berth', 'config.json');
  return { write: berth, read: [berth, path.join(home, '.docker', 'config.json')] };
}

function load(file: string): ConfigJson {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as ConfigJson) : {};
  } catch {
    return {};
  }
}

// configfile's decodeAuth: "auth" carries "user:password" in base64.
function toAuthConfig(s: StoredAuth, serverAddress: string): AuthConfig {
  const out: AuthConfig = { serveraddress: serverAddress };
  if (s.auth) {
    const decoded = Buffer.from(s.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i >= 0) {
      out.username = decoded.slice(0, i);
      out.password = decoded.slice(i + 1).replace(/\x00+$/, '');
    }
  } else {
    if (s.username) out.username = s.username;
    if (s.password) out.password = s.password;
  }
  if (s.email) out.email = s.email;
  if (s.identitytoken) out.identitytoken = s.identitytoken;
  if (s.registrytoken) out.registrytoken = s.registrytoken;
  return out;
}

export class CredentialStore {
  constructor(readonly files: CredentialFiles) {}

  // fileStore.Get: the exact key, else a legacy key ("https://host/v1/") naming the host.
  get(serverAddress: string): AuthConfig {
    for (const file of this.files.read) {
      const auths = load(file).auths ?? {};
      if (auths[serverAddress]) return toAuthConfig(auths[serverAddress]!, serverAddress);
      for (const [k, v] of Object.entries(auths)) {
        if (convertToHostname(k) === serverAddress) return toAuthConfig(v, serverAddress);
      }
    }
    return {};
  }

  // configfile.Save: only "auth" (and a token) is written; mode 0600.
  async store(a: AuthConfig): Promise<void> {
    const file = this.files.write;
    const cfg = load(file);
    const auths = { ...(cfg.auths ?? {}) };
    const entry: StoredAuth = {};
    if (a.username || a.password) entry.auth = Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`).toString('base64');
    if (a.identitytoken) entry.identitytoken = a.identitytoken;
    auths[a.serveraddress ?? ''] = entry;
    await this.save(file, { ...cfg, auths });
  }

  // Erase from the file login writes; returns whether anything was removed.
  async erase(serverAddress: string): Promise<boolean> {
    const file = this.files.write;
    const cfg = load(file);
    if (!cfg.auths || !(serverAddress in cfg.auths)) return false;
    const auths = { ...cfg.auths };
    delete auths[serverAddress];
    await this.save(file, { ...cfg, auths });
    return true;
  }

  // Other files (docker's own) that still hold credentials for the address.
  elsewhere(serverAddress: string): string[] {
    return this.files.read.filter((f) => f !== this.files.write && load(f).auths?.[serverAddress] !== undefined);
  }

  private async save(file: string, cfg: ConfigJson): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, JSON.stringify(cfg, null, '\t'), 0o600);
  }
}

export function credentialStoreFor(ctx: { io: { env: NodeJS.ProcessEnv }; explicitConfigDir(): string | undefined }): CredentialStore {
  return new CredentialStore(credentialFiles(ctx.io.env, ctx.explicitConfigDir()));
}

// RetrieveAuthTokenFromImage: the X-Registry-Auth value for the registry a reference names.
export function registryAuthFor(ctx: { io: { env: NodeJS.ProcessEnv }; explicitConfigDir(): string | undefined }, domain: string): string {
  return encodeAuthConfig(credentialStoreFor(ctx).get(authConfigKey(domain)));
}
