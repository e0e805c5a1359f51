import { invalid } from '../util/errors.js';
import type { ContainerRecord } from './types.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Waiter {
  condition: WaitCondition;
  resolve: (code: number) => void;
}

// Who waits for which container to stop or go away (POST /containers/{id}/wait).
export class Waiters {
  private readonly byId = new Map<string, Waiter[]>();
  private readonly lastExit = new Map<string, number>();

  wait(id: string, condition: WaitCondition, current: () => ContainerRecord | undefined): Promise<number> {
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw invalid(`invalid condition: "${condition}"`);
    const rec = current();
    if (condition === 'not-running' && rec && !rec.State.Running) return Promise.resolve(rec.State.ExitCode);
    if (condition === 'removed' && !rec) return Promise.resolve(this.lastExit.get(id) ?? 0);
    return new Promise((resolve) => {
      const list = this.byId.get(id) ?? [];
      list.push({ condition, resolve });
      this.byId.set(id, list);
    });
  }

  exited(id: string, code: number): void {
    this.lastExit.set(id, code);
    this.settle(id, (w) => w.condition !== 'removed', code);
  }

  removed(id: string): void {
    const code = this.lastExit.get(id) ?? 0;
    this.settle(id, () => true, code);
    this.lastExit.delete(id);
  }

  private settle(id: string, which: (w: Waiter) => boolean, code: number): void {
    const list = this.byId.get(id);
    if (!list) return;
    const keep = list.filter((w) => !which(w));
    for (const w of list) if (which(w)) w.resolve(code);
    if (keep.length) this.byId.set(id, keep);
    else this.byId.delete(id);
  }
}
