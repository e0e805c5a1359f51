// Serialises async work per key (a layer or container id) inside one process; keys are
// independent, so work on different containers runs concurrently.
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

// Any number of shared holders at once, or one exclusive holder. A waiting exclusive
// holder stops new shared ones from entering, so a stream of them cannot starve it.
export class SharedExclusiveLock {
  private holders = 0;
  private exclusiveHeld: Promise<void> | null = null;
  private drained: (() => void) | null = null;
  private readonly exclusives = new KeyedMutex();

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusiveHeld) await this.exclusiveHeld;
    this.holders++;
    try {
      return await fn();
    } finally {
      if (--this.holders === 0) this.drained?.();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusives.run('', async () => {
      let release!: () => void;
      this.exclusiveHeld = new Promise<void>((resolve) => (release = resolve));
      try {
        if (this.holders > 0) await new Promise<void>((resolve) => (this.drained = resolve));
        this.drained = null;
        return await fn();
      } finally {
        this.exclusiveHeld = null;
        release();
      }
    });
  }
}
