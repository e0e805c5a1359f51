import type { Duplex, Readable } from 'node:stream';
import type { Route, ApiContext } from '../router.js';
import { Reply, Handled, intParam } from '../router.js';
import { frame, hijack, streamEnded, STDERR, STDOUT } from '../streams.js';
import { compareVersions } from '../server.js';
import { DetachScanner, parseDetachKeys } from '../detach-keys.js';
import type { ExecCreateBody, ExecService } from '../../container/exec-service.js';
import type { ContainerTop } from '../../container/top.js';
import { errorMessage, invalid } from '../../util/errors.js';

export interface ExecRouteDeps {
  execs: ExecService;
  top: ContainerTop;
}

interface ExecStartBody {
  Detach?: boolean;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
}

// The processes of a running container: exec (moby's router/container/exec.go) and top.
export function execRoutes(d: ExecRouteDeps): Route[] {
  return [
    { method: 'POST', path: '/containers/{id}/exec', handler: (c) => create(d, c) },
    { method: 'POST', path: '/exec/{id}/start', handler: (c) => start(d, c) },
    {
      method: 'POST',
      path: '/exec/{id}/resize',
      handler: async (c) => {
        await d.execs.resize(c.params.id!, sizeParam(c, 'h'), sizeParam(c, 'w'));
        return new Reply(200, '');
      },
    },
    { method: 'GET', path: '/exec/{id}/json', handler: async (c) => d.execs.inspect(c.params.id!) },
    { method: 'GET', path: '/containers/{id}/top', handler: (c) => d.top.top(c.params.id!, c.query.get('ps_args') ?? '') },
  ];
}

function sizeParam(c: ApiContext, name: 'h' | 'w'): number {
  const raw = c.query.get(name) ?? '';
  const n = intParam(c.query, name);
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw invalid(`invalid resize ${name === 'h' ? 'height' : 'width'} "${raw}"`);
  }
  return n;
}

async function create(d: ExecRouteDeps, c: ApiContext): Promise<unknown> {
  const body = await c.json<ExecCreateBody>();
  let keys: number[] | null = null;
  if (body.DetachKeys) {
    try {
      keys = parseDetachKeys(body.DetachKeys);
    } catch {
      throw invalid(`Invalid escape keys (${body.DetachKeys}) provided`);
    }
  }
  // ConsoleSize came with API 1.42.
  if (compareVersions(c.apiVersion, '1.42') < 0) body.ConsoleSize = null;
  return new Reply(201, await d.execs.create(c.params.id!, body, keys));
}

async function start(d: ExecRouteDeps, c: ApiContext): Promise<unknown> {
  const id = c.params.id!;
  const upgraded = c.res === null;
  const { body, rest } = upgraded ? await upgradedBody(c) : { body: await c.body(), rest: Buffer.alloc(0) };
  const opts = parseJson<ExecStartBody>(body);
  // Errors up to here are answered as plain HTTP errors, before the hijack.
  d.execs.check(id);
  const consoleSize = opts.Tty && compareVersions(c.apiVersion, '1.42') >= 0 ? opts.ConsoleSize ?? null : null;
  if (opts.Detach) {
    await d.execs.start(id, { attach: false, consoleSize });
    if (!upgraded) return new Reply(200, '');
    c.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    return Handled;
  }
  return attached(d, c, id, opts, consoleSize, upgraded, rest);
}

async function attached(
  d: ExecRouteDeps, c: ApiContext, id: string, opts: ExecStartBody, consoleSize: [number, number] | null, upgraded: boolean, rest: Buffer,
): Promise<unknown> {
  const socket = c.socket;
  const tty = !!opts.Tty;
  // Before 1.42 Docker labelled even the multiplexed stream raw; a plain (not upgraded)
  // request always gets the raw label.
  const multiplexed = !tty && upgraded && compareVersions(c.apiVersion, '1.42') >= 0;
  hijack(socket, upgraded, multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream');
  let gone = false;
  socket.on('close', () => { gone = true; });
  socket.on('error', () => { gone = true; });

  let started;
  try {
    started = await d.execs.start(id, { attach: true, consoleSize });
  } catch (err) {
    // As moby: the error goes to the client's stdout, the exit code to exec inspect.
    const msg = Buffer.from(`${errorMessage(err)}\r\n`);
    if (!socket.destroyed) socket.end(tty ? msg : frame(STDOUT, msg));
    return Handled;
  }
  const { session } = started;
  if (!session) {
    socket.end();
    return Handled;
  }
  if (gone) {
    session.close();
    return Handled;
  }
  socket.on('close', () => session.close());

  const pump = (src: Readable, stream: number): void => {
    src.on('data', (chunk: Buffer) => {
      if (socket.destroyed) return;
      if (!socket.write(tty ? chunk : frame(stream, chunk))) {
        src.pause();
        socket.once('drain', () => src.resume());
      }
    });
  };
  pump(session.stdout, STDOUT);
  if (tty) session.stderr.resume();
  else pump(session.stderr, STDERR);

  const stdin = session.stdin;
  if (stdin) {
    // Detach keys only mean something on a tty (moby's CopyStreams): piped binary input
    // may hold the same bytes.
    const scanner = tty ? new DetachScanner(started.detachKeys ?? parseDetachKeys(null)) : null;
    const feed = (chunk: Buffer): void => {
      const { data, detached } = scanner ? scanner.scan(chunk) : { data: chunk, detached: false };
      if (data.length) stdin.write(data);
      if (detached) {
        d.execs.detached(id);
        session.close();
        socket.end();
      }
    };
    if (rest.length) feed(rest);
    socket.on('data', feed);
    // The client closed its stdin: so does the exec's (moby's CloseStdin).
    socket.on('end', () => stdin.end());
  } else {
    socket.on('data', () => {});
  }
  socket.resume();

  await session.closed;
  // The session's streams may still hold the last output when it closes: the stream to the
  // client ends only after they have, or the tail of a short command's output is lost.
  const clientGone = new Promise<void>((r) => (gone || socket.destroyed ? r() : socket.once('close', () => r())));
  await Promise.race([Promise.all([streamEnded(session.stdout), streamEnded(session.stderr)]), clientGone]);
  // The CLI asks for the exit code as soon as the stream ends: it must be there by then.
  if (!gone) await Promise.race([started.exitCode, clientGone]);
  if (!socket.destroyed) socket.end();
  return Handled;
}

function parseJson<T>(buf: Buffer): T {
  if (buf.length === 0) return {} as T;
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (err) {
    throw invalid(`invalid JSON: ${errorMessage(err)}`);
  }
}

// An upgraded request's body is not parsed by node's http server: it is whatever followed
// the headers (`head`) and maybe more on the socket. Bytes past Content-Length are already
// the client's stdin. The socket is left paused.
function upgradedBody(c: ApiContext): Promise<{ body: Buffer; rest: Buffer }> {
  const length = Number(c.req.headers['content-length'] ?? 0) || 0;
  const socket: Duplex = c.socket;
  const split = (buf: Buffer): { body: Buffer; rest: Buffer } => ({ body: buf.subarray(0, length), rest: buf.subarray(length) });
  socket.pause();
  if (c.head.length >= length) return Promise.resolve(split(c.head));
  return new Promise((resolve, reject) => {
    const chunks = [c.head];
    let have = c.head.length;
    const done = (err?: Error): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', done);
      socket.pause();
      if (err) reject(err);
      else resolve(split(Buffer.concat(chunks)));
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= length) done();
    };
    const onEnd = (): void => done(invalid('request body ended early'));
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', done);
    socket.resume();
  });
}
