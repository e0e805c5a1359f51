import { errorKind, invalid } from '../util/errors.js';
import { convertToHostname, INDEX_NAME, type AuthConfig } from './auth-config.js';
import type { RegistryService } from './registry-service.js';

// POST /auth (moby's registry.Service.Auth): the credentials are tried against the
// registry's /v2/ on each of its endpoints (never a mirror), stopping at the first that
// accepts them or rejects them as unauthorized.

export interface AuthenticateOKBody {
  IdentityToken: string;
  Status: string;
}

export async function login(registry: RegistryService, auth: AuthConfig): Promise<AuthenticateOKBody> {
  let host = 'index.docker.io';
  if (auth.serveraddress) {
    host = convertToHostname(auth.serveraddress);
    if (!host) throw invalid(`unable to parse server address: ${auth.serveraddress}`);
  }
  const endpoints = await registry.config.endpoints(host === 'index.docker.io' ? INDEX_NAME : host, false);
  let lastErr: unknown = new Error(`no endpoints found for ${host}`);
  for (const endpoint of endpoints) {
    try {
      await registry.client(endpoint, '', auth, []).login();
      return { IdentityToken: '', Status: 'Login Succeeded' };
    } catch (err) {
      // Refused credentials are final; a failure to talk lets the next endpoint try.
      if (errorKind(err) === 'Unauthorized') throw err;
      lastErr = err;
    }
  }
  throw lastErr;
}
