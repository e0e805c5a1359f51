import { readFileSync, readdirSync } from 'node:fs';
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { TransportError } from './registry-errors.js';

// HTTP to registries: pooled keep-alive connections per scheme, host and TLS policy;
// bounded waits (a registry that cannot be reached fails in seconds, never hangs);
// redirects followed for reads (blob stores answer with one); and failures worded as Go's
// net/http words them, since that is what `docker pull` prints:
//   Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: OutgoingHttpHeaders;
  body?: Buffer | Readable;
  insecureTls?: boolean;
  // Redirects are followed for GET and HEAD unless this is false.
  followRedirects?: boolean;
}

const CONNECT_TIMEOUT_MS = 30_000; // Docker's dial timeout
const IDLE_TIMEOUT_MS = 60_000; // no byte either way for this long: the peer is gone
const MAX_REDIRECTS = 10;

// Where a registry's own CA certificates live: berth's directory, then Docker's.
export const CERTS_DIRS = ['/etc/berth/certs.d', '/etc/docker/certs.d'];

const agents = new Map<string, http.Agent>();
const caCache = new Map<string, string[] | null>();

function extraCas(host: string): string[] | null {
  if (caCache.has(host)) return caCache.get(host)!;
  let found: string[] | null = null;
  for (const dir of CERTS_DIRS) {
    try {
      const d = join(dir, host);
      const certs = readdirSync(d)
        .filter((f) => f.endsWith('.crt'))
        .map((f) => readFileSync(join(d, f), 'utf8'));
      if (certs.length) {
        found = certs;
        break;
      }
    } catch {
      // no directory for this registry
    }
  }
  caCache.set(host, found);
  return found;
}

function agentFor(url: URL, insecureTls: boolean): http.Agent {
  const https_ = url.protocol === 'https:';
  const cas = https_ && !insecureTls ? extraCas(url.host) : null;
  const key = `${url.protocol}|${insecureTls}|${cas ? url.host : ''}`;
  let a = agents.get(key);
  if (!a) {
    const opts = { keepAlive: true, maxSockets: 32, maxFreeSockets: 8, scheduling: 'lifo' as const };
    a = https_
      ? new https.Agent({ ...opts, rejectUnauthorized: !insecureTls, ...(cas ? { ca: [...rootCertificates, ...cas] } : {}) })
      : new http.Agent(opts);
    agents.set(key, a);
  }
  return a;
}

// Go's http.Method names in url.Error: "Get", "Head", "Post"...
export function goMethod(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}

function describe(err: NodeJS.ErrnoException & { hostname?: string; address?: string; port?: number; reason?: string }, url: URL): string {
  const target = `${err.address ?? url.hostname.replace(/^\[|\]$/g, '')}:${err.port ?? (url.port || (url.protocol === 'https:' ? 443 : 80))}`;
  switch (err.code) {
    case 'ENOTFOUND':
      return `dial tcp: lookup ${err.hostname ?? url.hostname}: no such host`;
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${err.hostname ?? url.hostname}: Temporary failure in name resolution`;
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${target}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${target}: connect: network is unreachable`;
    case 'ETIMEDOUT':
    case 'BERTH_CONNECT_TIMEOUT':
      return `dial tcp ${target}: i/o timeout`;
    case 'BERTH_IDLE_TIMEOUT':
      return `read tcp ${target}: i/o timeout`;
    case 'ECONNRESET':
      return `read tcp ${target}: read: connection reset by peer`;
    case 'EPIPE':
      return `write tcp ${target}: write: broken pipe`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${err.reason ?? err.message}`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  }
  // A TLS hello answered in plain HTTP: Go recognises the "HTTP/" record.
  if (/wrong version number|packet length too long|http request/i.test(err.message)) {
    return 'http: server gave HTTP response to HTTPS client';
  }
  return err.message;
}

export function transportError(method: string, url: URL, err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  return new TransportError(`${goMethod(method)} "${url.toString()}": ${describe(err as NodeJS.ErrnoException, url)}`, err);
}

// A kept-alive connection the registry closed while it sat in the pool fails the next
// request on it at once (ECONNRESET, EPIPE): such a request is sent again once on a new
// connection when its body can be, as Go's http.Transport does for dockerd.
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function once(req: HttpRequest, url: URL, retryStale = true): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const body = req.body;
    const headers: OutgoingHttpHeaders = { ...req.headers };
    if (Buffer.isBuffer(body)) headers['content-length'] = body.length;
    else if (!body && ['POST', 'PUT', 'PATCH'].includes(req.method)) headers['content-length'] = 0;
    const mod = url.protocol === 'https:' ? https : http;
    const r = mod.request(url, { method: req.method, headers, agent: agentFor(url, req.insecureTls ?? false) });
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      reject(transportError(req.method, url, err));
    };
    const connectTimer = setTimeout(() => {
      r.destroy(Object.assign(new Error('connect timeout'), { code: 'BERTH_CONNECT_TIMEOUT' }));
    }, CONNECT_TIMEOUT_MS);
    r.on('socket', (s) => {
      const connected = (): void => clearTimeout(connectTimer);
      if (!s.connecting) connected();
      else s.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', connected);
    });
    r.setTimeout(IDLE_TIMEOUT_MS, () => r.destroy(Object.assign(new Error('idle timeout'), { code: 'BERTH_IDLE_TIMEOUT' })));
    r.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (!settled && retryStale && r.reusedSocket && STALE_SOCKET.has(err.code ?? '') && !(body instanceof Readable)) {
        settled = true;
        resolve(once(req, url, false));
        return;
      }
      fail(err);
    });
    r.on('response', (res) => {
      clearTimeout(connectTimer);
      settled = true;
      // The body's own failures surface to whoever reads it, worded the same way.
      res.on('error', () => {});
      resolve(res);
    });
    if (body instanceof Readable) {
      body.on('error', (err) => r.destroy(err));
      body.pipe(r);
    } else {
      r.end(body);
    }
  });
}

export async function request(req: HttpRequest): Promise<IncomingMessage> {
  let url = req.url;
  const follow = req.followRedirects ?? (req.method === 'GET' || req.method === 'HEAD');
  for (let hops = 0; ; hops++) {
    const res = await once({ ...req, url }, url);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!follow || ![301, 302, 303, 307, 308].includes(status) || !location) return res;
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new TransportError(`${goMethod(req.method)} "${url.toString()}": stopped after 10 redirects`);
    const next = new URL(location, url);
    // Credentials are for the registry, not for the storage it redirects to.
    if (next.host !== url.host && req.headers) {
      const { authorization: _drop, ...rest } = req.headers;
      req = { ...req, headers: rest };
    }
    url = next;
  }
}

// Reads a whole (small) body: manifests, configs, tokens, error documents.
export async function readBody(res: IncomingMessage, limit = 64 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of res) {
      const b = c as Buffer;
      n += b.length;
      if (n > limit) {
        res.destroy();
        throw new TransportError(`response body too large (more than ${limit} bytes)`);
      }
      chunks.push(b);
    }
  } catch (err) {
    if (err instanceof TransportError) throw err;
    const url = new URL(`http://${res.socket?.remoteAddress ?? 'registry'}`);
    throw new TransportError(describe(err as NodeJS.ErrnoException, url), err);
  }
  return Buffer.concat(chunks);
}
