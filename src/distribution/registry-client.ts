import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { sha256Digest } from '../image/digest.js';
import type { AuthConfig } from './auth-config.js';
import type { Endpoint } from './endpoints.js';
import { goMethod, readBody, request, transportError } from './http.js';
import { MANIFEST_ACCEPT } from './manifest.js';
import { Authorizer, repositoryScope, type TokenCache } from './registry-auth.js';
import { errorFromResponse, RegistryResponseError, statusLine, TransportError } from './registry-errors.js';

// One repository on one registry endpoint, spoken to as the OCI distribution spec and
// docker/distribution's client do: GET /v2/ first (its challenges decide the auth), then
// manifests, blobs, uploads and tags under /v2/<name>/.

export interface RegistryClientOptions {
  endpoint: Endpoint;
  repo: string; // path within the registry: "library/busybox" ("" for registry-wide calls)
  auth: AuthConfig;
  actions: string[]; // ["pull"] or ["push", "pull"]
  tokens: TokenCache;
  userAgent: string;
}

export interface ManifestRef {
  digest: string;
  mediaType: string;
  size: number;
}

export interface FetchedManifest {
  bytes: Buffer;
  contentType: string;
  digest: string;
}

export type UploadStart = { mounted: true; digest: string; size: number } | { mounted: false; location: URL; minChunk: number };

export class RegistryClient {
  readonly endpoint: Endpoint;
  readonly repo: string;
  private readonly authz: Authorizer;
  private pinged = false;

  constructor(private readonly opts: RegistryClientOptions) {
    this.endpoint = opts.endpoint;
    this.repo = opts.repo;
    this.authz = new Authorizer(opts.auth, opts.tokens, opts.endpoint.insecureTls, opts.userAgent);
  }

  // PingV2Registry: any answer but a failure to connect tells the challenges.
  async ping(): Promise<void> {
    const url = this.url('/v2/');
    const res = await request({ method: 'GET', url, headers: { 'user-agent': this.opts.userAgent }, insecureTls: this.endpoint.insecureTls });
    res.resume();
    this.authz.learn(res);
    this.pinged = true;
  }

  // loginV2: GET /v2/ with the credentials; only a 200 means they were accepted.
  async login(): Promise<void> {
    const url = this.url('/v2/');
    const res = await this.send('GET', url);
    res.resume();
    if (res.statusCode !== 200) {
      throw new RegistryResponseError(`login attempt to ${url.toString()} failed with status: ${statusLine(res.statusCode ?? 0)}`, res.statusCode ?? 0, [], false);
    }
  }

  url(path: string): URL {
    const base = this.endpoint.url;
    const prefix = base.pathname.replace(/\/+$/, '');
    return new URL(`${base.protocol}//${base.host}${prefix}${path}`);
  }

  private repoUrl(suffix: string): URL {
    return this.url(`/v2/${this.repo}/${suffix}`);
  }

  // An authorised request; extraScopes for cross-repository mounts.
  async send(
    method: string,
    url: URL,
    opts: { headers?: OutgoingHttpHeaders; body?: Buffer | Readable; extraScopes?: string[]; followRedirects?: boolean } = {},
  ): Promise<IncomingMessage> {
    if (!this.pinged) await this.ping();
    const headers: OutgoingHttpHeaders = { 'user-agent': this.opts.userAgent, ...opts.headers };
    try {
      const scopes = this.repo ? [repositoryScope(this.repo, this.opts.actions)] : [];
      const auth = await this.authz.header([...scopes, ...(opts.extraScopes ?? [])]);
      if (auth) headers.authorization = auth;
    } catch (err) {
      throw wrap(method, url, err);
    }
    return request({ method, url, headers, body: opts.body, insecureTls: this.endpoint.insecureTls, followRedirects: opts.followRedirects });
  }

  // tags.Get: HEAD for the digest; on anything but a success with a digest, GET for the
  // registry's own error.
  async resolveTag(tag: string): Promise<ManifestRef> {
    const url = this.repoUrl(`manifests/${tag}`);
    const headers = { accept: MANIFEST_ACCEPT.join(', ') };
    const head = await this.send('HEAD', url, { headers });
    head.resume();
    const digest = header(head, 'docker-content-digest');
    const status = head.statusCode ?? 0;
    if (status >= 200 && status < 400 && digest) {
      return { digest, mediaType: header(head, 'content-type') ?? '', size: Number(header(head, 'content-length') ?? -1) };
    }
    const res = await this.send('GET', url, { headers });
    const body = await readBody(res, 8 << 20);
    if (!ok(res)) throw errorFromResponse(res.statusCode ?? 0, res.headers, body);
    return { digest: header(res, 'docker-content-digest') ?? sha256Digest(body), mediaType: header(res, 'content-type') ?? '', size: body.length };
  }

  async getManifest(reference: string): Promise<FetchedManifest> {
    const res = await this.send('GET', this.repoUrl(`manifests/${reference}`), { headers: { accept: MANIFEST_ACCEPT.join(', ') } });
    const body = await readBody(res, 8 << 20);
    if (!ok(res)) throw errorFromResponse(res.statusCode ?? 0, res.headers, body);
    return { bytes: body, contentType: header(res, 'content-type') ?? '', digest: sha256Digest(body) };
  }

  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const res = await this.send('PUT', this.repoUrl(`manifests/${reference}`), { headers: { 'content-type': mediaType }, body: bytes });
    const body = await readBody(res, 1 << 20);
    if (!ok(res)) throw errorFromResponse(res.statusCode ?? 0, res.headers, body);
    return header(res, 'docker-content-digest') ?? sha256Digest(bytes);
  }

  // The blob's body, its length known from Content-Length when the registry sends one.
  async getBlob(digest: string): Promise<IncomingMessage> {
    const res = await this.send('GET', this.repoUrl(`blobs/${digest}`));
    if (!ok(res)) throw errorFromResponse(res.statusCode ?? 0, res.headers, await readBody(res, 1 << 20));
    return res;
  }

  async readBlob(digest: string, limit: number): Promise<Buffer> {
    return readBody(await this.getBlob(digest), limit);
  }

  // Stat: the blob's size, or null when the registry does not have it.
  async statBlob(digest: string): Promise<number | null> {
    const res = await this.send('HEAD', this.repoUrl(`blobs/${digest}`));
    res.resume();
    if (res.statusCode === 404) return null;
    if (!ok(res)) throw errorFromResponse(res.statusCode ?? 0, res.headers, Buffer.alloc(0));
    return Number(header(res, 'content-length') ?? 0);
  }

  // POST …/blobs/uploads/, with ?mount=&from= to ask for a cross-repository mount.
  async startUpload(mount?: { digest: string; from: string }): Promise<UploadStart> {
    const url = this.repoUrl('blobs/uploads/');
    if (mount) {
      url.searchParams.set('mount', mount.digest);
      url.searchParams.set('from', mount.from);
    }
    const extraScopes = mount ? [repositoryScope(mount.from, ['pull'])] : [];
    const res = await this.send('POST', url, { extraScopes });
    const body = await readBody(res, 1 << 20);
    if (res.statusCode === 201 && mount) return { mounted: true, digest: mount.digest, size: Number(header(res, 'content-length') ?? -1) };
    if (res.statusCode !== 202) throw errorFromResponse(res.statusCode ?? 0, res.headers, body);
    return { mounted: false, location: this.location(res, url), minChunk: Number(header(res, 'oci-chunk-min-length') ?? 0) || 0 };
  }

  // A chunk at offset; returns where the upload continues.
  async patchUpload(location: URL, chunk: Buffer, offset: number): Promise<URL> {
    const res = await this.send('PATCH', location, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk,
    });
    const body = await readBody(res, 1 << 20);
    if (res.statusCode !== 202) throw errorFromResponse(res.statusCode ?? 0, res.headers, body);
    return this.location(res, location);
  }

  // Completes an upload (with its last bytes, or all of them for a monolithic one).
  async finishUpload(location: URL, digest: string, body?: Buffer): Promise<void> {
    const url = new URL(location.toString());
    url.searchParams.set('digest', digest);
    const res = await this.send('PUT', url, { headers: { 'content-type': 'application/octet-stream' }, body: body ?? Buffer.alloc(0) });
    const resBody = await readBody(res, 1 << 20);
    if (res.statusCode !== 201 && res.statusCode !== 204 && res.statusCode !== 200) {
      throw errorFromResponse(res.statusCode ?? 0, res.headers, resBody);
    }
  }

  async cancelUpload(location: URL): Promise<void> {
    try {
      (await this.send('DELETE', location)).resume();
    } catch {
      // best effort: the registry expires abandoned uploads itself
    }
  }

  // tags.All, following Link: <…>; rel="next" pages.
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let url: URL | null = this.repoUrl('tags/list');
    while (url) {
      const res = await this.send('GET', url);
      const body = await readBody(res, 16 << 20);
      if (!ok(res)) throw errorFromResponse(res.statusCode ?? 0, res.headers, body);
      const parsed = JSON.parse(body.toString('utf8')) as { tags?: string[] | null };
      out.push(...(parsed.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '');
      url = link ? new URL(link[1]!, url) : null;
    }
    return out;
  }

  private location(res: IncomingMessage, base: URL): URL {
    const loc = header(res, 'location');
    if (!loc) throw new RegistryResponseError('registry did not return a Location for the upload', res.statusCode ?? 0, [], true);
    return new URL(loc, base);
  }
}

function ok(res: IncomingMessage): boolean {
  const s = res.statusCode ?? 0;
  return s >= 200 && s < 400;
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// An auth handler's failure as url.Error words it: `Head "<url>": no basic auth credentials`.
function wrap(method: string, url: URL, err: unknown): Error {
  if (err instanceof RegistryResponseError) {
    // Wrapped, the registry's codes no longer decide the message (translatePullError only
    // looks at bare errcode errors), but a 401 still makes it an Unauthorized failure.
    return new RegistryResponseError(`${goMethod(method)} "${url.toString()}": ${err.message}`, err.status, [], err.unexpected);
  }
  if (err instanceof TransportError) return new TransportError(`${goMethod(method)} "${url.toString()}": ${err.message}`, err.cause);
  return transportError(method, url, err);
}
