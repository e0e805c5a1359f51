import http from 'node:http';
import type { IncomingMessage, ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { DaemonAddress } from './host.js';

// HTTP over the daemon's socket, with the docker client's error semantics:
// any status >= 400 becomes an EngineError carrying the daemon's message, and a
// refused/missing socket becomes a ConnectionError with docker's wording.

export type QueryValue = string | number | boolean | undefined | null | readonly string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  // Encoded as JSON.
  json?: unknown;
  // Sent as-is (a tar stream, for instance).
  raw?: Readable | Buffer;
  headers?: Record<string, string>;
}

export class EngineError extends Error {
  constructor(
    readonly statusCode: number,
    readonly daemonMessage: string,
    // Whether the message came from the daemon (docker prefixes those only).
    fromDaemon = true,
  ) {
    super(fromDaemon ? `Error response from daemon: ${daemonMessage}` : daemonMessage);
    this.name = 'EngineError';
  }

  get isNotFound(): boolean {
    return this.statusCode === 404;
  }
}

export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

export interface HijackedConnection {
  // The raw stream after the 101 answer (stdout/stderr, framed or not).
  readonly reader: Readable;
  write(data: Buffer | string): void;
  // Half-closes our side: tells the daemon stdin reached EOF.
  closeWrite(): void;
  close(): void;
  readonly contentType: string | undefined;
}

const STATUS_TEXT = http.STATUS_CODES;

export class Transport {
  private readonly agent: http.Agent;

  constructor(
    readonly address: DaemonAddress,
    private readonly basePath: string,
    private readonly userAgent: string,
  ) {
    // Keep-alive lets create → start → wait share connections within one CLI run.
    this.agent = new http.Agent({ keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  url(path: string, query?: Query): string {
    return this.basePath + path + encodeQuery(query);
  }

  // Sends a request and resolves when the response headers are in; the body is
  // left unread for the caller. Status >= 400 rejects with EngineError.
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const fullPath = this.url(path, opts.query);
    const req = this.newRequest(method, fullPath, opts, this.agent);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', (err) => reject(this.connectionError(err, fullPath)));
      writeBody(req, opts);
    });
    if (res.statusCode !== undefined && res.statusCode >= 400) {
      throw await responseError(res, fullPath);
    }
    return res;
  }

  async buffer(method: string, path: string, opts: RequestOptions = {}): Promise<Buffer> {
    const res = await this.send(method, path, opts);
    return readAll(res);
  }

  // POST with Connection: Upgrade; resolves with the raw bidirectional stream.
  // `json` is the request body (exec start sends one).
  async hijack(path: string, query: Query, json?: unknown): Promise<HijackedConnection> {
    const fullPath = this.url(path, query);
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp' };
    if (json === undefined) headers['Content-Type'] = 'text/plain';
    // A dedicated connection: after the upgrade it never goes back to the pool.
    const req = this.newRequest('POST', fullPath, { headers, json }, false);
    return new Promise<HijackedConnection>((resolve, reject) => {
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        resolve(socketConnection(socket, res.headers['content-type']));
      });
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== undefined && res.statusCode >= 400) {
          responseError(res, fullPath).then(reject, reject);
          return;
        }
        // A daemon that answers 200 instead of 101 still streams the output in the body.
        resolve(responseConnection(res, req));
      });
      req.on('error', (err) => reject(this.connectionError(err, fullPath)));
      req.end(json === undefined ? undefined : JSON.stringify(json));
    });
  }

  private newRequest(method: string, fullPath: string, opts: RequestOptions, agent: http.Agent | false): ClientRequest {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...opts.headers };
    if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
    // An empty servername skips the agent's TLS server-name guess, whose first
    // isIP() call costs ~10 ms of regexp compilation at start-up.
    const base = { method, path: fullPath, headers, agent, servername: '' };
    if (this.address.kind === 'unix') {
      return http.request({ ...base, socketPath: this.address.path });
    }
    return http.request({ ...base, host: this.address.host, port: this.address.port });
  }

  private connectionError(err: NodeJS.ErrnoException, fullPath: string): Error {
    const host = this.address.url;
    switch (err.code) {
      case 'ECONNREFUSED':
      case 'ENOENT':
      case 'ENOTSOCK':
        return new ConnectionError(`Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`);
      case 'EACCES': {
        const target = this.address.kind === 'unix' ? `dial unix ${this.address.path}` : `dial tcp ${host}`;
        return new ConnectionError(
          `permission denied while trying to connect to the berth daemon socket at ${host}: ` +
            `Post "http://%2F${fullPath}": ${target}: connect: permission denied`,
        );
      }
      default:
        return new ConnectionError(`error during connect: ${err.message}`);
    }
  }
}

function writeBody(req: ClientRequest, opts: RequestOptions): void {
  if (opts.json !== undefined) {
    req.end(JSON.stringify(opts.json));
  } else if (opts.raw instanceof Readable) {
    opts.raw.on('error', (err) => req.destroy(err));
    opts.raw.pipe(req);
  } else if (opts.raw) {
    req.end(opts.raw);
  } else {
    req.end();
  }
}

export function encodeQuery(query?: Query): string {
  if (!query) return '';
  const params = new URLSearchParams();
  // Go's url.Values.Encode sorts by key; keep the same order for predictable URLs.
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(key, item);
    else params.append(key, String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

// Mirrors the docker client's checkResponseErr.
async function responseError(res: IncomingMessage, fullPath: string): Promise<EngineError> {
  const status = res.statusCode ?? 500;
  const statusMsg = `${status} ${STATUS_TEXT[status] ?? ''}`.trim();
  const body = (await readAll(res)).toString('utf8');
  if (body.length === 0) {
    return new EngineError(
      status,
      `request returned ${statusMsg} for API route and version ${fullPath}, check if the server supports the requested API version`,
      false,
    );
  }
  const ctype = String(res.headers['content-type'] ?? '');
  if (ctype.startsWith('application/json')) {
    let message: unknown;
    try {
      message = (JSON.parse(body) as { message?: unknown }).message;
    } catch (err) {
      return new EngineError(status, `Error reading JSON: ${(err as Error).message}`, false);
    }
    if (typeof message !== 'string' || message === '') {
      return new EngineError(status, `API returned a ${status} (${STATUS_TEXT[status] ?? ''}) but provided no error-message`);
    }
    return new EngineError(status, message.trim());
  }
  return new EngineError(status, body.trim());
}

function socketConnection(socket: Socket, contentType: string | undefined): HijackedConnection {
  return {
    reader: socket,
    contentType,
    write: (data) => {
      if (!socket.destroyed && socket.writable) socket.write(data);
    },
    closeWrite: () => {
      if (!socket.destroyed && socket.writable) socket.end();
    },
    close: () => socket.destroy(),
  };
}

function responseConnection(res: IncomingMessage, req: ClientRequest): HijackedConnection {
  const socket = res.socket;
  return {
    reader: res,
    contentType: res.headers['content-type'],
    write: (data) => {
      if (socket && !socket.destroyed && socket.writable) socket.write(data);
    },
    closeWrite: () => {
      /* no stdin channel without an upgrade */
    },
    close: () => {
      res.destroy();
      req.destroy();
    },
  };
}
