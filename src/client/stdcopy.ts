// Demultiplexer for the Engine API's framed stdio stream (attach, logs and exec
// without a TTY): each frame is an 8-byte header [stream, 0, 0, 0, size uint32 BE]
// followed by `size` bytes of payload. Stream 0 is stdin (echoed), 1 stdout,
// 2 stderr, 3 the "systemerr" stream moby uses to report a failure mid-stream.

export type StdStream = 0 | 1 | 2 | 3;

export interface DemuxSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export class StreamFramingError extends Error {}

const HEADER_LEN = 8;

export class StdDemuxer {
  private pending: Buffer = Buffer.alloc(0);
  // Payload bytes still expected for the current frame, and its stream.
  private remaining = 0;
  private current: StdStream = 1;
  private sysErr: Buffer[] = [];

  constructor(private readonly sink: DemuxSink) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, buf.length);
        this.emit(buf.subarray(0, n));
        this.remaining -= n;
        buf = buf.subarray(n);
        continue;
      }
      if (buf.length < HEADER_LEN) {
        this.pending = Buffer.from(buf);
        return;
      }
      const kind = buf[0];
      if (kind > 3) throw new StreamFramingError(`Unrecognized input header: ${kind}`);
      this.current = kind as StdStream;
      this.remaining = buf.readUInt32BE(4);
      buf = buf.subarray(HEADER_LEN);
    }
  }

  // Returns the text moby sent on the systemerr stream, if any, once input ended.
  end(): string | undefined {
    return this.sysErr.length > 0 ? Buffer.concat(this.sysErr).toString() : undefined;
  }

  private emit(payload: Buffer): void {
    switch (this.current) {
      case 0:
      case 1:
        this.sink.stdout(payload);
        break;
      case 2:
        this.sink.stderr(payload);
        break;
      case 3:
        this.sysErr.push(Buffer.from(payload));
        break;
    }
  }
}

// Builds one frame; used by tests and fake daemons.
export function frame(stream: StdStream, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER_LEN);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
