import { libc } from '../util/libc.js';

// Memory given back once the API has been quiet for a moment: a full garbage collection,
// then malloc_trim.
//
// berthd runs with a larger initial V8 old space (bin/berthd) so that layer bytes
// streaming through do not set off a mark-compact every few milliseconds; the price is
// garbage that stays until the heap reaches that size. And the buffers those bytes came
// in are malloc'd: once freed they stay in glibc's heap (~90 MB after a 200 MB pull),
// which only malloc_trim hands back to the kernel. The collection needs node's
// --expose-gc; without it only the trim runs.

// Long enough that a burst of calls (a script, a compose up, a bench) keeps its warm
// memory: the pages handed back cost a page fault each when the next pull needs them.
const QUIET_MS = 5000;

type Collect = () => void;

const mallocTrim = libc.func('int malloc_trim(size_t pad)');

export class IdleCollector {
  private timer: NodeJS.Timeout | null = null;
  private busy = 0;

  constructor(
    private readonly collect: Collect = giveMemoryBack,
    private readonly quietMs = QUIET_MS,
  ) {}

  // A call starts: no collection while it runs (a pull's buffers are in use).
  begin(): void {
    this.busy++;
    this.cancel();
  }

  // A call ended: once none has run for quietMs, collect.
  end(): void {
    this.busy = Math.max(0, this.busy - 1);
    if (this.busy === 0) this.arm();
  }

  arm(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.collect();
    }, this.quietMs);
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function giveMemoryBack(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
  mallocTrim(0);
}
