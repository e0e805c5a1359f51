import { Readable, Writable } from 'node:stream';
import type { AttachSession } from './types.js';
import { SeqpacketSocket } from './seqpacket.js';

// conmon's attach protocol: every packet it sends is one read of the container's output,
// prefixed by one byte naming the pipe (conmon's stdpipe_t); what we send is written raw
// to the container's stdin (or its tty). Our EOF (shutdown SHUT_WR) makes conmon close the
// container's stdin unless it runs with --leave-stdin-open.
const STDOUT_PIPE = 2;
const STDERR_PIPE = 3;

// conmon reads each packet into a 32 KiB buffer (CONN_SOCK_BUF_SIZE) and a longer
// SEQPACKET message would be cut, so stdin goes out in smaller pieces.
const STDIN_PACKET = 16 * 1024;

export interface AttachStreams { stdin: boolean; stdout: boolean; stderr: boolean }

export async function openAttachSession(socketPath: string, streams: AttachStreams): Promise<AttachSession> {
  let sock: SeqpacketSocket | null = null;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => { resolveClosed = r; });
  const resume = (): void => sock?.resume();
  const stdout = new Readable({ read: resume });
  const stderr = new Readable({ read: resume });
  let done = false;

  const finish = (): void => {
    if (done) return;
    done = true;
    stdout.push(null);
    stderr.push(null);
    sock?.close();
    resolveClosed();
  };

  sock = await SeqpacketSocket.connect(socketPath, {
    message(packet) {
      if (packet.length < 1) return true;
      const payload = packet.subarray(1);
      // Packets for a stream nobody asked for are still read, or conmon would block on us.
      // So are packets for a stream its consumer destroyed without closing the session.
      if (packet[0] === STDOUT_PIPE && streams.stdout && !stdout.destroyed) return stdout.push(payload);
      if (packet[0] === STDERR_PIPE && streams.stderr && !stderr.destroyed) return stderr.push(payload);
      return true;
    },
    end() {
      queueMicrotask(finish);
    },
  });
  const socket = sock;
  stdout.on('close', resume);
  stderr.on('close', resume);

  // Input after the container is gone is dropped, as Docker does, rather than failing the
  // client's stream.
  const stdin = streams.stdin
    ? new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (done) return cb();
          let off = 0;
          const next = (err?: Error | null): void => {
            if (err || off >= chunk.length) return cb();
            const piece = chunk.subarray(off, off + STDIN_PACKET);
            off += piece.length;
            socket.send(piece, next);
          };
          next();
        },
        final(cb) {
          if (!done) socket.end();
          cb();
        },
      })
    : null;

  return { stdout, stderr, stdin, closed, close: finish };
}
