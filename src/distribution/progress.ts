import { Transform } from 'node:stream';
import { progressString } from '../util/progress-bar.js';

// The progress of pulls and pushes as dockerd streams it (streamformatter + progress):
//   {"status":"Pulling from library/busybox","id":"latest"}
//   {"status":"Pulling fs layer","progressDetail":{},"id":"a3ed95caeb02"}
//   {"status":"Downloading","progressDetail":{"current":1,"total":2},"progress":"[…] 1B/2B","id":"a3ed95caeb02"}
// Keys come in the order dockerd 20.10 writes them; the "progress" text is the bar its
// formatter draws at the width it assumes (200 columns).

export interface ProgressMessage {
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  id?: string;
  aux?: unknown;
}

export type ProgressSink = (m: ProgressMessage) => void;

export const discardProgress: ProgressSink = () => {};

export class Progress {
  constructor(private readonly sink: ProgressSink) {}

  // progress.Message: a line of its own ("Digest: …", "Status: …").
  message(id: string, text: string): void {
    this.sink(id ? { status: text, id } : { status: text });
  }

  // progress.Update: a layer's state changes ("Pulling fs layer", "Pull complete").
  update(id: string, action: string): void {
    this.sink({ status: action, progressDetail: {}, id });
  }

  // A layer's transfer moves on.
  bar(id: string, action: string, current: number, total: number): void {
    const detail: { current?: number; total?: number } = {};
    if (current) detail.current = current;
    if (total) detail.total = total;
    const m: ProgressMessage = { status: action, progressDetail: detail };
    const text = progressString(detail, 200);
    if (text) m.progress = text;
    m.id = id;
    this.sink(m);
  }

  // progress.Aux: data for the client, not for display (push's digest).
  aux(value: unknown): void {
    this.sink({ progressDetail: {}, aux: value });
  }
}

// progress.Reader's pacing: an update every 512 KiB (or 1% of the size if smaller), at
// most every 100 ms, and always the last one.
export class ProgressPacer {
  private current = 0;
  private lastBytes = 0;
  private lastTime = 0;

  constructor(
    private readonly progress: Progress,
    private readonly id: string,
    private readonly action: string,
    private readonly total: number,
  ) {}

  add(n: number): void {
    this.set(this.current + n);
  }

  set(current: number): void {
    this.current = current;
    const every = this.total > 0 ? Math.min(512 * 1024, Math.floor(this.total / 100)) : 512 * 1024;
    if (this.current - this.lastBytes <= every && this.current !== this.total) return;
    const now = Date.now();
    if (this.current !== this.total && now - this.lastTime < 100) return;
    this.lastBytes = this.current;
    this.lastTime = now;
    this.progress.bar(this.id, this.action, this.current, this.total);
  }

  // Close(): a transfer cut short still ends on a full bar.
  finish(): void {
    if (this.current < this.total) {
      this.current = this.total;
      this.progress.bar(this.id, this.action, this.current, this.total);
    }
  }

  // A pass-through stream that counts what flows.
  counter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        this.add(chunk.length);
        cb(null, chunk);
      },
    });
  }
}
