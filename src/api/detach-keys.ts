import { invalid } from '../util/errors.js';

// Docker's --detach-keys: "ctrl-p,ctrl-q" by default; "ctrl-<x>" or a single character each.
export function parseDetachKeys(spec: string | null | undefined): number[] {
  const s = spec || 'ctrl-p,ctrl-q';
  return s.split(',').map((k) => {
    const key = k.trim().toLowerCase();
    if (key.length === 1) return key.charCodeAt(0);
    const m = /^ctrl-([a-z@\[\\\]^_])$/.exec(key);
    if (!m) throw invalid(`Invalid detach keys (${s}) provided`);
    const ch = m[1]!;
    return ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : ch.charCodeAt(0) - 64;
  });
}

// Watches stdin for the detach sequence. Bytes of a partial match are held back until
// the match fails, then passed on, so a lone ctrl-p still reaches the container.
export class DetachScanner {
  private matched = 0;
  constructor(private readonly keys: number[]) {}

  scan(chunk: Buffer): { data: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.matched = 0;
          return { data: Buffer.from(out), detached: true };
        }
        continue;
      }
      if (this.matched) out.push(...this.keys.slice(0, this.matched));
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    return { data: Buffer.from(out), detached: false };
  }
}
