import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { basicCredentials, type AuthConfig } from './auth-config.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { readBody, request } from './http.js';
import { errorFromResponse, TransportError } from './registry-errors.js';

// Authentication against a registry, as distribution's auth package does it: the
// challenges of an unauthenticated GET /v2/ say what the registry wants; "basic" gets the
// credentials on every request; "bearer" gets a token from the realm for the scopes the
// operation needs (repository:<name>:pull,push), cached until it expires. Without a
// challenge nothing is sent, so credentials never leave for a registry that did not ask.

// distribution's minimumTokenLifetimeSeconds.
const MIN_TOKEN_LIFETIME_S = 60;
// Docker identifies itself to token servers as this client.
const CLIENT_ID = 'docker';

interface CachedToken {
  token: string;
  expires: number; // ms since epoch
}

// Tokens by realm, service, scopes and account: shared by every operation of the daemon.
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  async get(key: string, fetch: () => Promise<CachedToken>): Promise<string> {
    const hit = this.tokens.get(key);
    if (hit && hit.expires > Date.now() + 1000) return hit.token;
    let p = this.inflight.get(key);
    if (!p) {
      p = fetch();
      this.inflight.set(key, p);
      p.then(
        (t) => this.tokens.set(key, t),
        () => {},
      ).finally(() => this.inflight.delete(key));
    }
    return (await p).token;
  }
}

export class Authorizer {
  private challenges: Challenge[] = [];

  constructor(
    private readonly creds: AuthConfig,
    private readonly tokens: TokenCache,
    private readonly insecureTls: boolean,
    private readonly userAgent: string,
  ) {}

  // The answer to the unauthenticated ping.
  learn(res: IncomingMessage): void {
    this.challenges = res.statusCode === 401 ? parseChallenges(res.headers['www-authenticate']) : [];
  }

  get needsAuth(): boolean {
    return this.challenges.length > 0;
  }

  // The Authorization header for a request needing these scopes ("" when none is due).
  // Failures are the handler's errors, for the caller to wrap with its own URL.
  async header(scopes: string[]): Promise<string> {
    if (this.creds.registrytoken) return `Bearer ${this.creds.registrytoken}`;
    for (const c of this.challenges) {
      if (c.scheme === 'bearer') return `Bearer ${await this.bearer(c.params, scopes)}`;
      if (c.scheme === 'basic') {
        const b = basicCredentials(this.creds);
        if (!b) throw new TransportError('no basic auth credentials');
        return `Basic ${Buffer.from(`${b.username}:${b.password}`).toString('base64')}`;
      }
    }
    return '';
  }

  private async bearer(params: Record<string, string>, scopes: string[]): Promise<string> {
    const realm = params.realm;
    if (!realm) throw new TransportError('no realm specified for token auth challenge');
    let url: URL;
    try {
      url = new URL(realm);
    } catch (err) {
      throw new TransportError(`invalid token auth challenge realm: ${(err as Error).message}`);
    }
    const b = basicCredentials(this.creds);
    // The secret is part of the key: a token is only ever handed to whoever proved it.
    const secret = createHash('sha256').update(`${b?.password ?? ''}\0${this.creds.identitytoken ?? ''}`).digest('hex');
    const key = JSON.stringify([realm, params.service ?? '', scopes, b?.username ?? '', secret]);
    return this.tokens.get(key, () => this.fetchToken(url, params.service ?? '', scopes, b));
  }

  // fetchTokenWithBasicAuth (or the OAuth refresh-token grant when logged in with one).
  private async fetchToken(realm: URL, service: string, scopes: string[], b: { username: string; password: string } | null): Promise<CachedToken> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    let res: IncomingMessage;
    if (this.creds.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.creds.identitytoken, client_id: CLIENT_ID });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      headers['content-type'] = 'application/x-www-form-urlencoded; charset=utf-8';
      res = await request({ method: 'POST', url: realm, headers, body: Buffer.from(form.toString()), insecureTls: this.insecureTls });
    } else {
      const url = new URL(realm.toString());
      if (service) url.searchParams.append('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (b) {
        url.searchParams.append('offline_token', 'true');
        url.searchParams.append('client_id', CLIENT_ID);
        url.searchParams.append('account', b.username);
        headers.authorization = `Basic ${Buffer.from(`${b.username}:${b.password}`).toString('base64')}`;
      }
      res = await request({ method: 'GET', url, headers, insecureTls: this.insecureTls });
    }
    const body = await readBody(res, 1 << 20);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 399) throw errorFromResponse(status, res.headers, body);
    let tr: { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    try {
      tr = JSON.parse(body.toString('utf8')) as typeof tr;
    } catch (err) {
      throw new TransportError(`unable to decode token response: ${(err as Error).message}`);
    }
    const token = tr.access_token || tr.token;
    if (!token) throw new TransportError('authorization server did not include a token in the response');
    const lifetime = Math.max(Number(tr.expires_in) || 0, MIN_TOKEN_LIFETIME_S);
    const issued = tr.issued_at ? Date.parse(tr.issued_at) : NaN;
    return { token, expires: (Number.isFinite(issued) ? issued : Date.now()) + lifetime * 1000 };
  }
}

export const repositoryScope = (repo: string, actions: string[]): string => `repository:${repo}:${actions.join(',')}`;
