import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import tar from 'tar-stream';
import { startRegistryServer, type RegistryServer } from '../../src/distribution/server/server.js';
import { bcryptHash } from '../../src/distribution/bcrypt.js';

// Registries on loopback for the registry client's tests: berth's own registry server
// (optionally behind htpasswd), and a proxy in front of one that can demand bearer tokens
// from a token server of its own, count requests, corrupt or hold back blobs.

export interface TestRegistry {
  host: string; // "127.0.0.1:<port>"
  root: string;
  close(): Promise<void>;
}

export async function startRegistry(opts: { user?: string; password?: string } = {}): Promise<TestRegistry> {
  const root = await mkdtemp(join(tmpdir(), 'berth-dist-reg-'));
  let htpasswd: string | undefined;
  if (opts.user) {
    htpasswd = join(root, 'htpasswd');
    await writeFile(htpasswd, `${opts.user}:${bcryptHash(opts.password ?? '', 4)}\n`);
  }
  let server: RegistryServer;
  try {
    server = await startRegistryServer({ address: '127.0.0.1:0', root: join(root, 'data'), htpasswd });
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    host: `127.0.0.1:${server.port}`,
    root,
    close: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface ProxyOptions {
  // Bearer tokens from <proxy>/token for these users (anonymous pulls are allowed).
  tokenUsers?: Record<string, string>;
  // Sees every registry request first: returns true when it answered it itself.
  intercept?: (url: URL, req: IncomingMessage, res: ServerResponse, forward: () => Promise<IncomingMessage>) => boolean | Promise<boolean>;
}

export interface TestProxy {
  host: string;
  tokenRequests: string[]; // the scope of every token asked for
  blobGets: Map<string, number>;
  close(): Promise<void>;
}

interface Grant {
  user: string;
  scopes: Set<string>; // "repo:action"
}

export async function startProxy(backend: string, opts: ProxyOptions = {}): Promise<TestProxy> {
  const tokens = new Map<string, Grant>();
  const tokenRequests: string[] = [];
  const blobGets = new Map<string, number>();
  const sockets = new Set<Socket>();
  let port = 0;

  const forward = (req: IncomingMessage, body: Buffer): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: backend };
      delete headers.authorization;
      const up = http.request({ host: backend.split(':')[0], port: Number(backend.split(':')[1]), method: req.method, path: req.url, headers }, resolve);
      up.on('error', reject);
      up.end(body);
    });

  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);

      if (url.pathname === '/token') {
        const scopes = url.searchParams.getAll('scope');
        tokenRequests.push(scopes.join(' '));
        let user = '';
        const auth = req.headers.authorization;
        if (auth?.startsWith('Basic ')) {
          const [u, p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
          if (opts.tokenUsers?.[u!] !== p) {
            res.writeHead(401, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ details: 'incorrect username or password' }));
            return;
          }
          user = u!;
        }
        const grant: Grant = { user, scopes: new Set() };
        for (const s of scopes) {
          const [kind, repo, actions] = s.split(':');
          if (kind !== 'repository') continue;
          for (const a of actions!.split(',')) if (a === 'pull' || user) grant.scopes.add(`${repo}:${a}`);
        }
        const token = `tok-${Math.random().toString(36).slice(2)}`;
        tokens.set(token, grant);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, expires_in: 300 }));
        return;
      }

      if (opts.tokenUsers && url.pathname.startsWith('/v2/')) {
        const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname);
        const repo = m?.[1] ?? '';
        const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
        const grant = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
        const allowed = grant && (repo === '' || grant.scopes.has(`${repo}:${action}`));
        if (!allowed) {
          const scope = repo ? `,scope="repository:${repo}:${action}"` : '';
          res.writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="berth-test"${scope}`,
          });
          res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required', detail: null }] }));
          return;
        }
      }

      const blob = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
      if (blob && req.method === 'GET') blobGets.set(blob[1]!, (blobGets.get(blob[1]!) ?? 0) + 1);
      if (opts.intercept && (await opts.intercept(url, req, res, () => forward(req, body)))) return;
      const up = await forward(req, body);
      const headers = { ...up.headers };
      // Locations point at the backend: send the client back through the proxy.
      if (typeof headers.location === 'string') headers.location = headers.location.replace(`http://${backend}`, `http://127.0.0.1:${port}`);
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    host: `127.0.0.1:${port}`,
    tokenRequests,
    blobGets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// The digest printed by push: "<tag>: digest: sha256:… size: N".
export function pushedDigest(out: string, tag = 'latest'): string {
  const m = new RegExp(`^${tag}: digest: (sha256:[a-f0-9]{64}) size: \\d+$`, 'm').exec(out);
  if (!m) throw new Error(`no digest for ${tag} in:\n${out}`);
  return m[1]!;
}

export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

// Straight to a registry: a blob (monolithic upload) and a manifest.
export async function putBlob(host: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const r = await fetch(`http://${host}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: new Uint8Array(bytes) });
  if (r.status !== 201) throw new Error(`blob upload: ${r.status} ${await r.text()}`);
  return digest;
}

export async function putManifest(host: string, repo: string, ref: string, manifest: unknown, mediaType: string): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const r = await fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': mediaType } });
  if (r.status !== 201) throw new Error(`manifest put: ${r.status} ${await r.text()}`);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

// A one-file layer, gzipped (or zstd-compressed), with its diff ID.
export async function gzipLayer(name: string, content: string, compression: 'gzip' | 'zstd' = 'gzip'): Promise<{ blob: Buffer; diffId: string }> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  const plain = await readStream(pack as unknown as AsyncIterable<Buffer>);
  const blob = compression === 'gzip' ? gzipSync(plain) : execFileSync('zstd', ['-q', '-c'], { input: plain });
  return { blob, diffId: `sha256:${createHash('sha256').update(plain).digest('hex')}` };
}

async function readStream(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c);
  return Buffer.concat(chunks);
}
