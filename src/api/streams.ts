import type { ServerResponse } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { streamHeaders } from './server.js';

// Docker's stdcopy framing for non-TTY streams: [stream, 0, 0, 0, size(uint32 BE)] + data.
export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export function frame(stream: number, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

// Start a streaming answer: headers go out at once (clients wait on them), body follows.
export function startStream(res: ServerResponse, contentType: string, status = 200): ServerResponse {
  res.writeHead(status, streamHeaders(contentType));
  res.flushHeaders();
  return res;
}

// A JSON-message stream (pull/import/load progress): one object per line.
export class JsonMessageStream {
  constructor(private readonly out: Writable) {}
  status(status: string, extra: Record<string, unknown> = {}): void {
    this.out.write(JSON.stringify({ status, ...extra }) + '\r\n');
  }
  stream(text: string): void {
    this.out.write(JSON.stringify({ stream: text }) + '\r\n');
  }
  aux(value: unknown): void {
    this.out.write(JSON.stringify({ aux: value }) + '\r\n');
  }
  error(message: string): void {
    this.out.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\r\n');
  }
}

// The raw answer to a hijacked request (attach): status line and headers written straight
// to the socket, after which the connection carries the container's streams both ways.
export function hijack(socket: Duplex, upgraded: boolean, contentType: string): void {
  const head = upgraded
    ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n\r\n`;
  socket.write(head);
}

// Resolves once a session's output stream has ended (or was destroyed): what is still
// buffered in it must reach the client before the hijacked stream is closed.
export function streamEnded(s: Readable): Promise<void> {
  return new Promise((r) => {
    if (s.readableEnded || s.destroyed) return r();
    s.once('end', r);
    s.once('close', r);
  });
}
