import { connect, Socket, type OnReadOpts, type SocketConstructorOpts, type TcpNetConnectOpts } from 'node:net';

// The byte copying of the userland proxy. `a.pipe(b)` cost 4.5–6.5 CPU seconds per GB
// here, five times docker-proxy's (bench/port-throughput.ts): every read allocates a fresh
// 64 KiB buffer and copies the bytes again into one of the size read, and pipe() pauses and
// resumes the source whenever the destination's 16 KiB high-water mark is passed.
// docker-proxy (Go's io.Copy) splice()s in the kernel instead. Here each direction reads
// into a buffer of its own (net's `onread`) and hands that same memory to the other
// socket's write(): no allocation and no copy per chunk, about 1 s per GB, docker-proxy's
// figure. While a write is queued its bytes still live in the buffer, so reading stops
// until the destination drains.

// Most connections carry a request and an answer of a few KiB: they get a small buffer cut
// from Node's shared pool (under 4 KiB, so no allocation of its own). A read that fills it
// means bulk data; from then on the direction reads 256 KiB at a time, which halved the
// syscalls per GB against 64 KiB.
const FIRST_BUFFER = 4 * 1024 - 1;
const BULK_BUFFER = 256 * 1024;

function copyInto(to: () => Socket, from: () => Socket): OnReadOpts {
  let buffer = Buffer.allocUnsafe(FIRST_BUFFER);
  const resume = (): void => {
    from().resume(); // net's resume() restarts reading of an onread socket
  };
  return {
    // Called again after every read: the buffer the next read goes into.
    buffer: () => buffer,
    callback: (bytes, buf) => {
      if (bytes === buf.length && buf.length < BULK_BUFFER) buffer = Buffer.allocUnsafe(BULK_BUFFER);
      const dest = to();
      // The high-water mark is one byte: write() says false whenever anything is queued.
      if (dest.write(buf.subarray(0, bytes))) return true;
      dest.once('drain', resume);
      return false;
    },
  };
}

// net.Server cannot give an accepted socket an `onread` buffer; a socket built on the
// accepted one's handle can. `_handle` is not public API: when it is absent (a future Node),
// the caller falls back to the accepted socket as it is.
function takeHandle(accepted: Socket): object | null {
  const raw = accepted as unknown as { _handle?: unknown };
  const handle = raw._handle;
  if (!handle || typeof handle !== 'object') return null;
  raw._handle = null;
  accepted.destroy(); // releases the server's count of it; the handle lives on elsewhere
  return handle;
}

export interface Relay {
  client: Socket;
  upstream: Socket;
}

// Options net's typings leave out: a Socket is a Duplex and takes the stream's, and its
// constructor takes `onread` as connect() does.
interface StreamOptions {
  writableHighWaterMark: number;
  handle?: object;
  onread?: OnReadOpts;
}

/**
 * Connects to the target and copies bytes both ways until both sides have ended; a
 * half-close is passed on. `accepted` must come from a server made with pauseOnConnect,
 * so that nothing is read from it before the relay owns it.
 */
export function relayTcp(accepted: Socket, target: { host: string; port: number }): Relay {
  let client = accepted;
  const upstreamOptions: TcpNetConnectOpts & StreamOptions = {
    host: target.host,
    port: target.port,
    allowHalfOpen: true,
    noDelay: true,
    writableHighWaterMark: 1,
    onread: copyInto(() => client, () => upstream),
  };
  const upstream: Socket = connect(upstreamOptions);
  const handle = takeHandle(accepted);
  if (handle) {
    const options: SocketConstructorOpts & StreamOptions = {
      handle,
      allowHalfOpen: true,
      writableHighWaterMark: 1,
      onread: copyInto(() => upstream, () => client),
    };
    client = new Socket(options);
  } else {
    client.pipe(upstream);
  }
  client.setNoDelay(true);
  const drop = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', drop);
  upstream.on('error', drop);
  client.on('end', () => upstream.end());
  upstream.on('end', () => client.end());
  return { client, upstream };
}
