import type { Duplex, Readable } from 'node:stream';
import type { Route, ApiContext } from '../router.js';
import { Handled, boolParam } from '../router.js';
import { frame, hijack, streamEnded, STDERR, STDOUT } from '../streams.js';
import { DetachScanner, parseDetachKeys } from '../detach-keys.js';
import { compareVersions } from '../server.js';
import { AttachEnded, type ContainerService } from '../../container/container-service.js';
import type { ContainerRecord } from '../../container/types.js';
import { containerEventAttrs } from '../../container/event-attrs.js';
import type { EventBus } from '../../daemon/events.js';
import type { AttachSession } from '../../runtime/types.js';
import { readLog } from '../../runtime/log-reader.js';
import { conflict, errorMessage } from '../../util/errors.js';

export interface AttachRouteDeps {
  containers: ContainerService;
  events: EventBus;
}

// POST /containers/{id}/attach: the hijacked connection of `docker attach`, `run` and
// `start -a`, and of docker-py/compose (which ask for logs=1 to replay the output first).
export function attachRoutes(d: AttachRouteDeps): Route[] {
  return [{ method: 'POST', path: '/containers/{id}/attach', handler: (c) => attach(d, c) }];
}

interface AttachRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  logs: boolean;
  stream: boolean;
  keys: number[];
}

// Everything that can fail with a status is checked before the connection is hijacked.
function decode(c: ApiContext, rec: ContainerRecord, ref: string): AttachRequest {
  const q = c.query;
  const keys = parseDetachKeys(q.get('detachKeys'));
  if (rec.State.Paused) throw conflict(`container ${ref} is paused, unpause the container before attach`);
  if (rec.State.Restarting) throw conflict(`container ${ref} is restarting, wait until the container is running`);
  return {
    // moby drops stdin for a container created without OpenStdin: nothing would read it.
    stdin: boolParam(q, 'stdin') && rec.Config.OpenStdin,
    stdout: boolParam(q, 'stdout'),
    stderr: boolParam(q, 'stderr'),
    logs: boolParam(q, 'logs'),
    stream: boolParam(q, 'stream'),
    keys,
  };
}

// moby labels the multiplexed answer as such from API 1.42 on; older clients and a
// request without Upgrade get raw-stream whatever the framing.
function contentType(c: ApiContext, multiplexed: boolean): string {
  const upgraded = c.res === null;
  return multiplexed && upgraded && compareVersions(c.apiVersion, '1.42') >= 0
    ? 'application/vnd.docker.multiplexed-stream'
    : 'application/vnd.docker.raw-stream';
}

async function attach(d: AttachRouteDeps, c: ApiContext): Promise<unknown> {
  const svc = d.containers;
  const ref = c.params.id!;
  const rec0 = svc.store.resolve(ref);
  const req = decode(c, rec0, ref);
  // Asked for before the log replay (moby's order), so no output falls between the replay
  // and the stream; output written at that very moment may come in both.
  const pending = req.stream ? await svc.attach(rec0.Id, { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr }) : null;
  // It may fail while the log replays; that is reported in the stream below, never as an
  // unhandled rejection.
  pending?.session.catch(() => {});
  const rec = pending?.rec ?? rec0;
  const tty = rec.Config.Tty;
  const socket = c.socket;
  const out = new ClientWriter(socket, !tty);
  hijack(socket, c.res === null, contentType(c, !tty));

  let session: AttachSession | null = null;
  let gone = false;
  // A client that vanishes mid-write (EPIPE, ECONNRESET) is a detach, never a daemon error.
  socket.on('error', () => {});
  socket.once('close', () => {
    gone = true;
    session?.close();
    pending?.session.then((s) => s.close(), () => {});
  });

  try {
    if (req.logs) await replayLogs(svc.logPath(rec.Id), req, out, () => gone);
    // As moby: the event once the replay is done, whether a stream follows or not.
    d.events.emit('container', 'attach', rec.Id, containerEventAttrs(rec));
    if (!pending || gone) return Handled;
    try {
      session = await pending.session;
    } catch (err) {
      if (err instanceof AttachEnded) return Handled;
      // moby reports a failed attach inside the stream: the hijack has answered already.
      out.write(STDOUT, Buffer.from(`Error attaching: ${errorMessage(err)}\n`));
      return Handled;
    }
    if (gone) {
      session.close();
      return Handled;
    }
    await streamSession(d, rec, req, session, socket, out, c.head);
  } finally {
    if (!socket.destroyed) socket.end();
  }
  return Handled;
}

// Writes to the hijacked socket, framed when there is no TTY; reports backpressure.
class ClientWriter {
  private readonly waiting = new Set<Readable>();

  constructor(private readonly socket: Duplex, private readonly multiplexed: boolean) {
    socket.on('drain', () => {
      for (const s of this.waiting) s.resume();
      this.waiting.clear();
    });
  }

  get closed(): boolean {
    return this.socket.destroyed || !this.socket.writable;
  }

  write(stream: number, data: Buffer): boolean {
    if (this.closed || data.length === 0) return true;
    return this.socket.write(this.multiplexed ? frame(stream, data) : data);
  }

  drained(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        r();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  // Pipes one of the container's streams to the client, pausing it while the socket is full.
  pipe(src: Readable, stream: number): void {
    src.on('data', (chunk: Buffer) => {
      if (!this.write(stream, chunk)) {
        src.pause();
        this.waiting.add(src);
      }
    });
  }
}

// logs=1: the whole log so far, then (with stream=1) the live output. The log has both
// streams in order; only the requested ones are sent.
async function replayLogs(path: string, req: AttachRequest, out: ClientWriter, gone: () => boolean): Promise<void> {
  if (!req.stdout && !req.stderr) return;
  try {
    for await (const entry of readLog(path)) {
      if (gone()) return;
      if (entry.stream === 'stdout' ? !req.stdout : !req.stderr) continue;
      if (!out.write(entry.stream === 'stdout' ? STDOUT : STDERR, entry.data)) await out.drained();
    }
  } catch (err) {
    if (!gone()) process.stderr.write(`berthd: attach: reading ${path}: ${errorMessage(err)}\n`);
  }
}

// Resolves when the session is over: the container's output ended (it exited), the client
// typed the detach keys, or the client is gone or done with its input.
async function streamSession(
  d: AttachRouteDeps,
  rec: ContainerRecord,
  req: AttachRequest,
  session: AttachSession,
  socket: Duplex,
  out: ClientWriter,
  head: Buffer,
): Promise<void> {
  const tty = rec.Config.Tty;
  const outputDone = Promise.all([streamEnded(session.stdout), streamEnded(session.stderr)]);
  if (req.stdout) out.pipe(session.stdout, STDOUT);
  else session.stdout.resume();
  // With a TTY conmon sends everything as stdout; stderr stays empty.
  if (req.stderr && !tty) out.pipe(session.stderr, STDERR);
  else session.stderr.resume();

  const stdin = session.stdin;
  if (!stdin) {
    // Nothing to feed: what the client sends is dropped (the docker CLI half-closes at once).
    socket.on('data', () => {});
  } else {
    // Detach keys work only with a TTY, as in moby's CopyStreams.
    const scanner = tty ? new DetachScanner(req.keys) : null;
    stdin.on('drain', () => socket.resume());
    stdin.on('error', () => {});
    const feed = (chunk: Buffer): void => {
      let data = chunk;
      if (scanner) {
        const r = scanner.scan(chunk);
        data = r.data;
        if (r.detached) {
          if (data.length) stdin.write(data);
          d.events.emit('container', 'detach', rec.Id, containerEventAttrs(rec));
          session.close();
          return;
        }
      }
      if (data.length && !stdin.write(data)) socket.pause();
    };
    if (head.length) feed(head);
    socket.on('data', feed);
    socket.on('end', () => {
      // moby: the end of a StdinOnce client's input closes the container's stdin (conmon
      // does it when we half-close, having no --leave-stdin-open then) and the output goes
      // on until the container exits; any other client's end of input ends its attach.
      if (rec.Config.StdinOnce && !tty) stdin.end();
      else session.close();
    });
  }
  await Promise.race([session.closed.then(() => outputDone), outputDone]);
}
