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

const QUIET_MS = 2000;

type Collect = () => void;

const mallocTrim = libc.func('int malloc_trim(size_t pad)');

export class IdleCollector {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly collect: Collect = giveMemoryBack,
    private readonly quietMs = QUIET_MS,
  ) {}

  // Something happened: collect once nothing more has for quietMs.
  touch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.collect();
    }, this.quietMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function giveMemoryBack(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') gc();
  mallocTrim(0);
}
