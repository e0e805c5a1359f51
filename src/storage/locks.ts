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

// Any number of shared holders at once, or one exclusive holder. An exclusive caller
// stops new shared ones from entering from the moment it asks, so a stream of them cannot
// starve it.
export class SharedExclusiveLock {
  private holders = 0; // shared holders inside
  private exclusives = 0; // exclusive callers waiting or inside
  private exclusiveTail: Promise<void> = Promise.resolve();
  private noExclusive: Promise<void> = Promise.resolve();
  private openShared: () => void = () => {};
  private drained: (() => void) | null = null;

  async shared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusives > 0) await this.noExclusive;
    this.holders++;
    try {
      return await fn();
    } finally {
      if (--this.holders === 0) this.drained?.();
    }
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.exclusives++ === 0) this.noExclusive = new Promise<void>((resolve) => (this.openShared = resolve));
    const before = this.exclusiveTail;
    let release!: () => void;
    this.exclusiveTail = new Promise<void>((resolve) => (release = resolve));
    try {
      await before;
      if (this.holders > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = null;
      return await fn();
    } finally {
      release();
      if (--this.exclusives === 0) this.openShared();
    }
  }
}
