import type { Writable } from 'node:stream';
import type { HijackedConnection } from '../client/engine-client.js';
import { StdDemuxer } from '../client/stdcopy.js';
import type { TerminalIn } from './command.js';

// The client half of an attach/exec session, as docker's hijackedIOStreamer:
// stdout/stderr come back framed (demultiplexed here) or raw with a TTY; stdin
// goes up raw, with the terminal in raw mode and the detach sequence caught
// client-side; stdin EOF half-closes the connection.

export const DEFAULT_ESCAPE_KEYS = Buffer.from([16, 17]); // ctrl-p, ctrl-q

export class DetachedError extends Error {
  constructor() {
    super('read escape sequence');
    this.name = 'DetachedError';
  }
}

// moby/term ToBytes: "ctrl-p,ctrl-q", "a,ctrl-[".
export function detachKeysToBytes(keys: string): Buffer {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length > 1 && key.startsWith('ctrl-')) {
      const rest = key.slice(5);
      if (rest.length !== 1) throw new Error(`Unknown character: '${key}'`);
      const c = rest.toLowerCase();
      if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 'a'.charCodeAt(0) + 1);
      else if (c === '@') out.push(0);
      else if (c === '[') out.push(27);
      else if (c === '\\') out.push(28);
      else if (c === ']') out.push(29);
      else if (c === '^') out.push(30);
      else if (c === '_') out.push(31);
      else throw new Error(`Unknown character: '${key}'`);
    } else if (key.length === 1) {
      out.push(key.charCodeAt(0));
    } else {
      throw new Error(`Unknown character: '${key}'`);
    }
  }
  return Buffer.from(out);
}

// moby/term's escapeProxy: holds back a partial escape sequence at the start of
// a read, releases it on a mismatch, and reports a complete one.
export class EscapeDetector {
  private pos = 0;

  constructor(private readonly keys: Buffer) {}

  // Returns the bytes to forward, or 'detach'.
  feed(chunk: Buffer): Buffer<ArrayBufferLike> | 'detach' {
    if (this.keys.length === 0) return chunk;
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] !== this.keys[this.pos]) {
        const held = this.keys.subarray(0, this.pos);
        this.pos = 0;
        return held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
      }
      this.pos++;
      if (this.pos === this.keys.length) {
        this.pos = 0;
        return 'detach';
      }
    }
    return Buffer.alloc(0);
  }
}

export interface HijackStreams {
  conn: HijackedConnection;
  stdin?: TerminalIn;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  detachKeys?: string;
  // Where to warn about bad detach keys (docker logs a warning and uses the default).
  warn?: (line: string) => void;
}

export interface HijackSession {
  // Resolves when the output is done (or input, if no output was attached);
  // rejects with DetachedError when the user typed the detach sequence.
  done: Promise<void>;
  // Restores the terminal and drops the connection.
  close(): void;
}

export function streamHijacked(s: HijackStreams): HijackSession {
  const { conn } = s;
  let restored = false;
  let rawSet = false;
  const stdin = s.stdin;
  const restoreInput = (): void => {
    if (restored) return;
    restored = true;
    if (rawSet && stdin?.setRawMode) stdin.setRawMode(false);
  };

  let escape: EscapeDetector | undefined;
  if (stdin && s.tty) {
    if (stdin.isTTY && stdin.setRawMode) {
      stdin.setRawMode(true);
      rawSet = true;
    }
    let keys: Buffer = DEFAULT_ESCAPE_KEYS;
    if (s.detachKeys) {
      try {
        keys = detachKeysToBytes(s.detachKeys);
      } catch (err) {
        s.warn?.(`invalid detach escape keys, using default: ${(err as Error).message}`);
      }
    }
    escape = new EscapeDetector(keys);
  }

  let stopInput = (): void => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const haveOutput = s.stdout !== undefined || s.stderr !== undefined;
    let outputDone = !haveOutput;
    let inputDone = stdin === undefined;
    const finish = (): void => {
      stopInput();
      restoreInput();
      resolve();
    };

    if (haveOutput) {
      const demux = s.tty
        ? undefined
        : new StdDemuxer({
            stdout: (b) => s.stdout?.write(b),
            stderr: (b) => (s.stderr ?? s.stdout)?.write(b),
          });
      conn.reader.on('data', (chunk: Buffer) => {
        if (demux) {
          try {
            demux.push(chunk);
          } catch (err) {
            stopInput();
            restoreInput();
            reject(err);
          }
        } else {
          s.stdout?.write(chunk);
        }
      });
      const onEnd = (): void => {
        if (outputDone) return;
        outputDone = true;
        if (s.tty) restoreInput();
        finish();
      };
      conn.reader.on('end', onEnd);
      conn.reader.on('close', onEnd);
      conn.reader.on('error', onEnd);
    }

    if (stdin) {
      const onData = (chunk: Buffer | string): void => {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        const fwd = escape ? escape.feed(buf) : buf;
        if (fwd === 'detach') {
          stopInput();
          restoreInput();
          reject(new DetachedError());
          return;
        }
        if (fwd.length > 0) conn.write(fwd);
      };
      const onEnd = (): void => {
        if (inputDone) return;
        inputDone = true;
        stopInput();
        restoreInput();
        conn.closeWrite();
        if (outputDone) finish();
      };
      stopInput = (): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    }
    // Without stdin docker half-closes at once; we leave the connection open so a
    // daemon that reads EOF as "client gone" keeps streaming output.
    if (!haveOutput && inputDone) finish();
  });

  return {
    done,
    close: () => {
      stopInput();
      restoreInput();
      conn.close();
    },
  };
}
