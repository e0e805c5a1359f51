import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Router, Reply, Handled, type ApiContext, type Route } from './router.js';
import { httpStatusFor, errorBody } from './http-errors.js';
import { invalid, notFound, errorMessage } from '../util/errors.js';
import { API_VERSION, MIN_API_VERSION, ENGINE_VERSION } from '../daemon/version.js';

const versionPrefix = /^\/v(\d+\.\d+)(\/.*)$/;

// Headers Docker puts on every answer; the CLI negotiates its API version from them.
const commonHeaders: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: `Docker/${ENGINE_VERSION} (linux)`,
};

export interface ApiServerOptions {
  routes: Route[];
  debug?: boolean;
}

export class ApiServer {
  private readonly router = new Router();
  readonly server: Server;
  // Hijacked connections leave the http server's books: close() must end them itself.
  private readonly hijacked = new Set<Duplex>();

  constructor(private readonly opts: ApiServerOptions) {
    this.router.add(opts.routes);
    this.server = createServer({ keepAlive: true }, (req, res) => void this.dispatch(req, res, res.socket!, Buffer.alloc(0)));
    // docker's attach/exec hijack the connection with "Connection: Upgrade".
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.hijacked.add(socket);
      socket.once('close', () => this.hijacked.delete(socket));
      void this.dispatch(req, null, socket, head);
    });
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 0;
    this.server.requestTimeout = 0;
  }

  async listenUnix(path: string, mode = 0o660): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await unlink(path).catch(() => {});
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    await chmod(path, mode);
  }

  async listenTcp(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const s of this.hijacked) s.destroy();
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse | null, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    // Docker's router cleans the path (gorilla/mux answers a redirect): `containers.get('/name')`
    // asks for /containers//name/json.
    let path = url.pathname.replace(/\/{2,}/g, '/');
    let apiVersion = API_VERSION;
    const m = versionPrefix.exec(path);
    if (m) {
      apiVersion = m[1]!;
      path = m[2]!;
    }
    const method = req.method ?? 'GET';
    let bodyCache: Promise<Buffer> | null = null;
    const ctx: ApiContext = {
      req,
      res,
      socket,
      head,
      params: {},
      query: url.searchParams,
      apiVersion,
      body: () => (bodyCache ??= readBody(req)),
      json: async <T>() => {
        const buf = await ctx.body();
        if (buf.length === 0) return {} as T;
        try {
          return JSON.parse(buf.toString('utf8')) as T;
        } catch (err) {
          throw invalid(`invalid JSON: ${errorMessage(err)}`);
        }
      },
    };
    if (this.opts.debug) process.stderr.write(`${method} ${req.url}\n`);
    try {
      if (m && compareVersions(apiVersion, MIN_API_VERSION) < 0) {
        throw invalid(`client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      const found = this.router.match(method, path);
      if (found === null) throw notFound(`page not found`);
      if (found === 'method') throw notFound(`page not found`);
      ctx.params = found.params;
      const result = await found.route.handler(ctx);
      if (result === Handled) return;
      if (!res) return;
      if (result instanceof Reply) send(res, result.status, result.body, method);
      else send(res, 200, result, method);
    } catch (err) {
      const status = httpStatusFor(err);
      if (status >= 500 || this.opts.debug) process.stderr.write(`berthd: ${method} ${path}: ${errorMessage(err)}\n`);
      if (res && !res.headersSent) send(res, status, status === 304 ? undefined : errorBody(err), method);
      else if (res) res.destroy();
      else if (!socket.destroyed) {
        const body = JSON.stringify(errorBody(err));
        socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown, method: string): void {
  if (status === 204 || status === 304 || body === undefined) {
    res.writeHead(status, commonHeaders);
    res.end();
    return;
  }
  const isText = typeof body === 'string';
  const data = isText ? body : JSON.stringify(body) + '\n';
  res.writeHead(status, {
    ...commonHeaders,
    'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json',
    'Content-Length': Buffer.byteLength(data),
  });
  res.end(method === 'HEAD' ? undefined : data);
}

export function streamHeaders(contentType: string): Record<string, string> {
  return { ...commonHeaders, 'Content-Type': contentType };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}
