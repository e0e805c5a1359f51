import { readFile, mkdir } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { RegistryApp, type RequestInfo } from './app.js';
import { BasicAuth } from './auth.js';
import { RegistryStorage } from './storage.js';

// berth's container registry: one Node HTTP(S) server, no framework.

export interface RegistryServerOptions {
  // host:port to listen on; ":5000" and "0.0.0.0:5000" take every interface.
  address: string;
  // Where the registry keeps its files (distribution's layout).
  root: string;
  // An htpasswd file: when set, every /v2/ request needs Basic credentials from it.
  htpasswd?: string;
  realm?: string;
  tls?: { cert: string; key: string };
  // One line per request (combined log format), and failures.
  log?: (line: string) => void;
}

export interface RegistryServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(address.trim()) ?? /^()()(\d+)$/.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(address)}: want host:port`);
  return { host: m[1] ?? m[2] ?? '', port };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Apache's combined log format, as distribution's access log writes it.
export function accessLogLine(req: IncomingMessage, res: ServerResponse, user: string | undefined, when: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const month = MONTHS[when.getUTCMonth()];
  const stamp = `${pad(when.getUTCDate())}/${month}/${when.getUTCFullYear()}:${pad(when.getUTCHours())}:${pad(when.getUTCMinutes())}:${pad(when.getUTCSeconds())} +0000`;
  const length = res.getHeader('content-length');
  const quote = (s: string | undefined): string => JSON.stringify(s ?? '');
  return [
    req.socket.remoteAddress ?? '-',
    '-',
    user ?? '-',
    `[${stamp}]`,
    `"${req.method} ${req.url} HTTP/${req.httpVersion}"`,
    res.statusCode,
    length === undefined || res.req.method === 'HEAD' ? '-' : String(length),
    quote(req.headers.referer),
    quote(req.headers['user-agent']),
  ].join(' ');
}

export async function startRegistryServer(opts: RegistryServerOptions): Promise<RegistryServer> {
  const { host, port } = parseListenAddress(opts.address);
  await mkdir(opts.root, { recursive: true });
  let auth: BasicAuth | null = null;
  if (opts.htpasswd) {
    auth = new BasicAuth(opts.htpasswd, opts.realm ?? 'Registry Realm');
    await auth.init();
  }
  const app = new RegistryApp(new RegistryStorage(opts.root), auth);
  const log = opts.log;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const info: RequestInfo = {};
    if (log) res.once('finish', () => log(accessLogLine(req, res, info.user, new Date())));
    app.handle(req, res, info).catch((err: unknown) => {
      log?.(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      res.destroy();
    });
  };
  let server: Server;
  if (opts.tls) {
    const [cert, key] = await Promise.all([readFile(opts.tls.cert), readFile(opts.tls.key)]);
    server = createHttpsServer({ cert, key }, handler);
  } else {
    server = createHttpServer(handler);
  }
  // Layer uploads stream for as long as they take; Node's default 5-minute request
  // timeout would cut a big push on a slow link.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${shown}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections and uploads in flight would hold close() open.
        for (const s of sockets) s.destroy();
      }),
  };
}
