import type { AuthConfig } from './auth-config.js';
import { RegistryConfig, type Endpoint } from './endpoints.js';
import { TokenCache } from './registry-auth.js';
import { RegistryClient } from './registry-client.js';
import { TransportError, worthFallback } from './registry-errors.js';

// What every registry operation of the daemon shares: the endpoint policy from
// daemon.json, the token cache, the User-Agent; and moby's endpoint loop (pullEndpoints
// / Push): try each endpoint in turn, moving on only after failures another endpoint
// could cure, and never falling back to plain http for a host that has shown it speaks TLS.

export class RegistryService {
  readonly tokens = new TokenCache();

  constructor(
    readonly config: RegistryConfig,
    readonly userAgent: string,
  ) {}

  client(endpoint: Endpoint, repo: string, auth: AuthConfig, actions: string[]): RegistryClient {
    return new RegistryClient({ endpoint, repo, auth, actions, tokens: this.tokens, userAgent: this.userAgent });
  }

  async withEndpoints<T>(domain: string, includeMirrors: boolean, fn: (endpoint: Endpoint) => Promise<T>): Promise<T> {
    const endpoints = await this.config.endpoints(domain, includeMirrors);
    const confirmedTls = new Set<string>();
    let lastErr: unknown = new Error(`no endpoints found for ${domain}`);
    for (const [i, endpoint] of endpoints.entries()) {
      if (endpoint.url.protocol !== 'https:' && confirmedTls.has(endpoint.url.host)) continue;
      try {
        return await fn(endpoint);
      } catch (err) {
        lastErr = err;
        const last = i === endpoints.length - 1;
        if (last || !worthFallback(err, endpoint.mirror)) throw err;
        // An answer in HTTP over TLS proves TLS works there: plain http is not tried.
        if (!(err instanceof TransportError) && endpoint.url.protocol === 'https:') confirmedTls.add(endpoint.url.host);
      }
    }
    throw lastErr;
  }
}
