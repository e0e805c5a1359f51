import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

// Reader for conmon's k8s-file log (the CRI format): one line per write,
// "<RFC3339Nano local time> <stdout|stderr> <F|P> <content>\n". F lines carry their own
// newline as the end of the content; P (partial) lines got a newline added by conmon and
// continue in the next line of the same stream.

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  time: Date;
  timeNano: string; // the same instant in UTC with nanoseconds: 2006-01-02T15:04:05.000000000Z
  data: Buffer; // a full line ends with "\n"
}

export interface ReadLogOptions {
  tail?: number; // only the last N entries (then follow); undefined or negative = all
  since?: Date; // entries at or after
  until?: Date; // entries at or before
  follow?: boolean;
  signal?: AbortSignal; // ends a follow after one last read
}

export interface LogRecord {
  stream: LogStream;
  time: Date;
  timeNano: string;
  partial: boolean;
  content: Buffer; // without the newline conmon adds after a partial
}

const NL = 0x0a;
const SP = 0x20;
const CHUNK = 64 * 1024;
const TIME_RE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(s: string): { time: Date; timeNano: string } | null {
  const m = TIME_RE.exec(s);
  if (!m) return null;
  const seconds = Date.parse(m[1] + (m[3] === 'Z' ? 'Z' : m[3]));
  if (Number.isNaN(seconds)) return null;
  const frac = (m[2] ?? '').padEnd(9, '0');
  const time = new Date(seconds + Number(frac.slice(0, 3)));
  const timeNano = new Date(seconds).toISOString().slice(0, 19) + '.' + frac + 'Z';
  return { time, timeNano };
}

// One line without its trailing newline; null for anything that is not a k8s-file record.
export function parseLogLine(line: Buffer): LogRecord | null {
  const s1 = line.indexOf(SP);
  if (s1 < 0) return null;
  const s2 = line.indexOf(SP, s1 + 1);
  if (s2 < 0) return null;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tag = line.toString('latin1', s2 + 1, s2 + 2);
  if (tag !== 'F' && tag !== 'P') return null;
  // "<tag> <content>"; an empty partial may have lost its separator.
  if (line.length > s2 + 2 && line[s2 + 2] !== SP) return null;
  const ts = parseTimestamp(line.toString('latin1', 0, s1));
  if (!ts) return null;
  return { stream, time: ts.time, timeNano: ts.timeNano, partial: tag === 'P', content: line.subarray(Math.min(line.length, s2 + 3)) };
}

// Joins P records with the F that ends them, per stream; the entry takes the time of its
// first part (when the line began).
export class LogAssembler {
  private readonly pending = new Map<LogStream, { first: LogRecord; parts: Buffer[] }>();

  push(rec: LogRecord): LogEntry | null {
    const p = this.pending.get(rec.stream);
    if (rec.partial) {
      if (p) p.parts.push(rec.content);
      else this.pending.set(rec.stream, { first: rec, parts: [rec.content] });
      return null;
    }
    const full = Buffer.concat([...(p?.parts ?? []), rec.content, Buffer.from('\n')]);
    this.pending.delete(rec.stream);
    const first = p?.first ?? rec;
    return { stream: rec.stream, time: first.time, timeNano: first.timeNano, data: full };
  }

  // Partials with no end: the container wrote no final newline before it stopped.
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const [stream, p] of this.pending) {
      out.push({ stream, time: p.first.time, timeNano: p.first.timeNano, data: Buffer.concat(p.parts) });
    }
    this.pending.clear();
    return out.sort((a, b) => a.time.getTime() - b.time.getTime());
  }
}

// Splits a byte stream into complete lines; an unterminated tail waits for more bytes.
export class LineSplitter {
  private carry: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl >= 0; nl = buf.indexOf(NL, start)) {
      lines.push(buf.subarray(start, nl));
      start = nl + 1;
    }
    this.carry = Buffer.from(buf.subarray(start));
    return lines;
  }

  reset(): void {
    this.carry = Buffer.alloc(0);
  }
}

function isFullLine(line: Buffer): boolean {
  const s1 = line.indexOf(SP);
  const s2 = s1 < 0 ? -1 : line.indexOf(SP, s1 + 1);
  return s2 >= 0 && line[s2 + 1] === 0x46; // 'F'
}

// Where to start reading so that at least the last n entries follow, found by reading the
// file backwards in chunks: `--tail` on a huge log reads only its end. An entry ends with an
// F line, so the start is just after the (n+1)-th F line from the end.
export async function tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
  if (n <= 0) return size;
  let pos = size;
  let carry: Buffer = Buffer.alloc(0); // bytes at [pos, pos + carry.length): a line's beginning
  let count = 0;
  let lastNewlineSeen = false;
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    const chunk = Buffer.alloc(len);
    await fh.read(chunk, 0, len, pos);
    const buf = carry.length ? Buffer.concat([chunk, carry]) : chunk;
    let lineEnd = buf.length; // exclusive end of the line being looked at (after its newline)
    for (let i = buf.length - 1; i >= 0; i--) {
      if (buf[i] !== NL) continue;
      if (!lastNewlineSeen) {
        // Text after the file's last newline is a line still being written: not an entry.
        lastNewlineSeen = true;
        lineEnd = i + 1;
        continue;
      }
      if (isFullLine(buf.subarray(i + 1, lineEnd)) && ++count > n) return pos + lineEnd;
      lineEnd = i + 1;
    }
    carry = Buffer.from(buf.subarray(0, lastNewlineSeen ? lineEnd : 0));
  }
  // The file's first line has no newline before it.
  if (lastNewlineSeen && isFullLine(carry) && ++count > n) return carry.length;
  return 0;
}

function notFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

// Fires on any change in the log's directory concerning the log file (writes, or a rename
// when conmon reopens it), so a follow sees both new lines and a replaced file.
class ChangeWaiter {
  private readonly watcher: FSWatcher;
  private dirty = false;
  private wake: (() => void) | null = null;

  constructor(path: string, private readonly signal?: AbortSignal) {
    const name = basename(path);
    this.watcher = watch(dirname(path), (_ev, file) => {
      if (file === null || file.toString() === name) this.notify();
    });
    this.watcher.on('error', () => this.notify());
    signal?.addEventListener('abort', this.notify, { once: true });
  }

  private readonly notify = (): void => {
    this.dirty = true;
    this.wake?.();
  };

  async wait(): Promise<void> {
    if (!this.dirty && !this.signal?.aborted) await new Promise<void>((r) => { this.wake = r; });
    this.wake = null;
    this.dirty = false;
  }

  close(): void {
    this.watcher.close();
    this.signal?.removeEventListener('abort', this.notify);
  }
}

export async function* readLog(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogEntry> {
  const { since, until, signal } = opts;
  let follow = opts.follow === true;
  const inRange = (e: LogEntry): 'skip' | 'ok' | 'stop' =>
    since && e.time < since ? 'skip' : until && e.time > until ? 'stop' : 'ok';

  // `--until` in the future ends a follow when that time comes, as Docker's does.
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) ac.abort();
  const untilTimer = follow && until ? setTimeout(onAbort, Math.max(0, until.getTime() - Date.now())) : null;
  const waiter = follow ? new ChangeWaiter(path, ac.signal) : null;

  let fh: FileHandle | null = null;
  try {
    // A follow may begin before conmon has created the file.
    for (;;) {
      try {
        fh = await open(path, 'r');
        break;
      } catch (err) {
        if (!notFound(err) || !waiter || ac.signal.aborted) {
          if (notFound(err)) return;
          throw err;
        }
        await waiter.wait();
      }
    }

    const assembler = new LogAssembler();
    const splitter = new LineSplitter();
    let ino = (await fh.stat()).ino;
    let offset = 0;
    let backlog: LogEntry[] | null = null; // entries held back until the tail is known
    const tail = opts.tail !== undefined && opts.tail >= 0 ? opts.tail : undefined;
    if (tail !== undefined) {
      offset = await tailOffset(fh, (await fh.stat()).size, tail);
      backlog = [];
    }

    const chunk = Buffer.alloc(CHUNK);
    // Reads what the file has now; returns false once an entry past --until was met.
    const drain = async function* (): AsyncGenerator<LogEntry, boolean> {
      for (;;) {
        const { bytesRead } = await (fh as FileHandle).read(chunk, 0, CHUNK, offset);
        if (bytesRead === 0) return true;
        offset += bytesRead;
        // A copy: partial lines are kept across reads, and `chunk` is reused.
        for (const line of splitter.push(Buffer.from(chunk.subarray(0, bytesRead)))) {
          const rec = parseLogLine(line);
          if (!rec) continue;
          const entry = assembler.push(rec);
          if (!entry) continue;
          const verdict = inRange(entry);
          if (verdict === 'stop') return false;
          if (verdict === 'skip') continue;
          if (backlog) backlog.push(entry);
          else yield entry;
        }
      }
    };

    let more = yield* drain();
    if (more && !follow) {
      for (const e of assembler.flush()) if (inRange(e) === 'ok') backlog ? backlog.push(e) : yield e;
    }
    if (backlog && tail !== undefined) {
      const last = backlog.slice(backlog.length - Math.min(tail, backlog.length));
      backlog = null;
      yield* last;
    }
    while (more && follow) {
      if (ac.signal.aborted) {
        follow = false; // the container stopped: one last read below, then the end
      } else {
        await (waiter as ChangeWaiter).wait();
      }
      const st = await stat(path).catch(() => null);
      if (st && (st.ino !== ino || st.size < offset)) {
        // conmon reopened (rotated) or the file was truncated: start over on the new file.
        await fh.close();
        fh = await open(path, 'r');
        ino = (await fh.stat()).ino;
        offset = 0;
        splitter.reset();
      }
      more = yield* drain();
    }
    if (more && opts.follow) {
      for (const e of assembler.flush()) if (inRange(e) === 'ok') yield e;
    }
  } finally {
    if (untilTimer) clearTimeout(untilTimer);
    signal?.removeEventListener('abort', onAbort);
    waiter?.close();
    await fh?.close();
  }
}
