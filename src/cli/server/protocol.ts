// The CLI server's wire format, shared with src/launcher/berth-launcher.c: frames of a u32
// little-endian payload length, a u8 type, then the payload. The request travels with the
// caller's fds 0, 1 and 2 attached (SCM_RIGHTS) to its first byte.

export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 5;
// Arguments plus environment: Linux's ARG_MAX is 2 MiB by default.
export const MAX_REQUEST_BYTES = 4 << 20;

export const MessageType = {
  request: 1,
  signal: 2,
  accepted: 16,
  busy: 17,
  exit: 18,
  killed: 19,
  stop: 20,
} as const;

export interface Frame {
  type: number;
  payload: Buffer;
}

export interface CliRequest {
  umask: number;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
}

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeFrame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt8(type, 4);
  return Buffer.concat([head, payload]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

export const encodeExit = (code: number): Buffer => encodeFrame(MessageType.exit, u32(code & 0xff));
export const encodeKilled = (signo: number): Buffer => encodeFrame(MessageType.killed, u32(signo));
export const encodeStop = (signo: number): Buffer => encodeFrame(MessageType.stop, u32(signo));
export const encodeSignal = (signo: number): Buffer => encodeFrame(MessageType.signal, u32(signo));
export const encodeAccepted = (): Buffer => encodeFrame(MessageType.accepted);
export const encodeBusy = (reason: string): Buffer => encodeFrame(MessageType.busy, Buffer.from(reason, 'utf8'));

export function encodeRequest(req: CliRequest): Buffer {
  const strings = [req.cwd, ...req.argv, ...Object.entries(req.env).map(([k, v]) => `${k}=${v}`)];
  for (const s of strings) if (s.includes('\0')) throw new ProtocolError('a string holds a NUL byte');
  const envc = strings.length - 1 - req.argv.length;
  const payload = Buffer.concat([
    u32(PROTOCOL_VERSION),
    u32(req.umask),
    u32(req.argv.length),
    u32(envc),
    ...strings.map((s) => Buffer.from(`${s}\0`, 'utf8')),
  ]);
  return encodeFrame(MessageType.request, payload);
}

// Splits a byte stream into frames; rejects a frame longer than `max` before buffering it.
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly max = MAX_REQUEST_BYTES) {}

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= HEADER_BYTES) {
      const len = this.buf.readUInt32LE(0);
      if (len > this.max) throw new ProtocolError(`frame of ${len} bytes exceeds ${this.max}`);
      if (this.buf.length < HEADER_BYTES + len) break;
      frames.push({ type: this.buf[4]!, payload: Buffer.from(this.buf.subarray(HEADER_BYTES, HEADER_BYTES + len)) });
      this.buf = this.buf.subarray(HEADER_BYTES + len);
    }
    return frames;
  }

  get pending(): number {
    return this.buf.length;
  }
}

export function decodeU32(payload: Buffer): number {
  if (payload.length < 4) throw new ProtocolError('short message');
  return payload.readUInt32LE(0);
}

export function decodeRequest(payload: Buffer): CliRequest {
  if (payload.length < 16) throw new ProtocolError('short request');
  const version = payload.readUInt32LE(0);
  if (version !== PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${version}, want ${PROTOCOL_VERSION}`);
  const umask = payload.readUInt32LE(4);
  const argc = payload.readUInt32LE(8);
  const envc = payload.readUInt32LE(12);
  const strings: string[] = [];
  let at = 16;
  const want = 1 + argc + envc;
  while (strings.length < want) {
    const end = payload.indexOf(0, at);
    if (end < 0) throw new ProtocolError('truncated request');
    strings.push(payload.toString('utf8', at, end));
    at = end + 1;
  }
  if (at !== payload.length) throw new ProtocolError('trailing bytes after the request');
  const env: Record<string, string> = {};
  for (const entry of strings.slice(1 + argc)) {
    const eq = entry.indexOf('=');
    // An entry without '=' is not a variable (execve allows it; getenv never sees it).
    if (eq > 0 && !Object.hasOwn(env, entry.slice(0, eq))) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { umask: umask & 0o777, cwd: strings[0]!, argv: strings.slice(1, 1 + argc), env };
}
