import { spawnSync } from 'node:child_process';
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

// moby/term ToBytes: "ctrl-p,ctrl-q", "a,ctrl-[", "DEL". Case matters ("ctrl-P" is no
// key), as in Go.
const CTRL_KEYS = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

export function detachKeysToBytes(keys: string): Buffer {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    const bytes = Buffer.from(key, 'utf8');
    const ctrl = key.length === 6 && key.startsWith('ctrl-') ? CTRL_KEYS.indexOf(key[5]!) : -1;
    if (bytes.length === 1) out.push(bytes[0]!);
    else if (ctrl >= 0) out.push(ctrl);
    else if (key === 'DEL') out.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(out);
}

// Watches typed input for the detach sequence, as moby/term's escapeProxy: a partial
// match is held back until it fails, then released; bytes before a complete match still
// go out. The byte that broke a match may start a new one (ctrl-p ctrl-p ctrl-q detaches),
// which is also what berthd does.
export class EscapeDetector {
  private pos = 0;

  constructor(private readonly keys: Buffer) {}

  scan(chunk: Buffer): { data: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { data: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.pos]) {
        this.pos++;
        if (this.pos === this.keys.length) {
          this.pos = 0;
          return { data: Buffer.from(out), detached: true };
        }
        continue;
      }
      for (let i = 0; i < this.pos; i++) out.push(this.keys[i]!);
      this.pos = b === this.keys[0] ? 1 : 0;
      if (this.pos === 0) out.push(b);
    }
    return { data: Buffer.from(out), detached: false };
  }

  // The bytes to forward, or 'detach' (dropping what came before it in the chunk).
  feed(chunk: Buffer): Buffer | 'detach' {
    const r = this.scan(chunk);
    return r.detached ? 'detach' : r.data;
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
      clearOutputPostProcessing(stdin.fd ?? 0);
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
        const { data, detached } = escape ? escape.scan(buf) : { data: buf, detached: false };
        if (data.length > 0) conn.write(data);
        if (detached) {
          stopInput();
          restoreInput();
          reject(new DetachedError());
        }
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

// libuv's raw mode leaves ONLCR on, so the container's own "\r\n" would reach the
// terminal as "\r\r\n"; Go's term.MakeRaw (the docker CLI) clears OPOST. Node has no
// termios API, hence stty on the same terminal. setRawMode(false) restores the saved
// termios, OPOST included.
function clearOutputPostProcessing(ttyFd: number): void {
  spawnSync('stty', ['-opost'], { stdio: [ttyFd, 'ignore', 'ignore'] });
}
