import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/cli.js';

// A few Engine API endpoints on a temporary unix socket, answering from a route
// table, recording every call; and a way to run the CLI in-process against it.

export interface Call {
  method: string;
  path: string; // without the /v1.xx prefix
  query: URLSearchParams;
  body: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, call: Call) => void | Promise<void>;
export type UpgradeHandler = (socket: Socket, call: Call) => void;

export interface Route {
  method: string;
  path: RegExp;
  handler?: Handler;
  upgrade?: UpgradeHandler;
}

export class FakeDaemon {
  readonly calls: Call[] = [];
  readonly routes: Route[] = [];
  private server?: http.Server;
  private dir?: string;
  private sockets = new Set<Socket>();
  socketPath = '';

  on(method: string, path: RegExp, handler: Handler): this {
    this.routes.push({ method, path, handler });
    return this;
  }

  onUpgrade(path: RegExp, upgrade: UpgradeHandler): this {
    this.routes.push({ method: 'POST', path, upgrade });
    return this;
  }

  private find(method: string, p: string, upgrade: boolean): Route | undefined {
    return this.routes.find((r) => r.method === method && r.path.test(p) && (upgrade ? r.upgrade : r.handler));
  }

  async start(): Promise<this> {
    this.dir = await mkdtemp(path.join(tmpdir(), 'berth-cli-test-'));
    this.socketPath = path.join(this.dir, 'd.sock');
    const server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      const call = toCall(req, '');
      this.calls.push(call);
      const route = this.find(req.method ?? '', call.path, true);
      if (!route?.upgrade) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{"message":"no route"}');
        return;
      }
      socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      route.upgrade(socket, call);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const call = toCall(req, Buffer.concat(chunks).toString('utf8'));
    this.calls.push(call);
    const route = this.find(req.method ?? '', call.path, false);
    if (!route?.handler) {
      json(res, 404, { message: `page not found: ${call.method} ${call.path}` });
      return;
    }
    await route.handler(req, res, call);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  paths(): string[] {
    return this.calls.map((c) => `${c.method} ${c.path}`);
  }
}

function toCall(req: IncomingMessage, body: string): Call {
  const url = new URL(req.url ?? '/', 'http://x');
  return { method: req.method ?? '', path: url.pathname.replace(/^\/v\d+\.\d+/, ''), query: url.searchParams, body };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: PassThrough;
  env?: NodeJS.ProcessEnv;
}

export async function runBerth(daemon: FakeDaemon | undefined, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdin = opts.stdin ?? new PassThrough();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DOCKER_CONFIG: '/nonexistent-berth-test-config',
    ...(daemon ? { BERTH_HOST: `unix://${daemon.socketPath}` } : {}),
    ...opts.env,
  };
  const code = await runCli(args, { stdin, stdout, stderr, env });
  return { code, stdout: out, stderr: err };
}
