// At most n transfers at a time (Docker's max-concurrent-downloads / -uploads). onWait
// runs when a task has to queue, so its layer can say "Waiting" as dockerd's does.
export class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly n: number) {}

  async run<T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.active >= this.n) {
      onWait?.();
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next task; only when none waits is it freed.
      if (next) next();
      else this.active--;
    }
  }
}
