import { invalid } from '../util/errors.js';

// Docker's default detach sequence: ctrl-p, ctrl-q.
export const DEFAULT_DETACH_KEYS: readonly number[] = [16, 17];

// moby/term's ToBytes, which the daemon applies to ?detachKeys=: comma-separated keys,
// each one byte as typed or one of "ctrl-@", "ctrl-a" … "ctrl-z", "ctrl-[", "ctrl-\",
// "ctrl-]", "ctrl-^", "ctrl-_" (lower case only, no spaces), or "DEL". An empty spec
// means the default.
export function parseDetachKeys(spec: string | null | undefined): number[] {
  if (!spec) return [...DEFAULT_DETACH_KEYS];
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const code = keyCode(key);
    // moby's ContainerAttach wraps ToBytes' error in this message (a 400).
    if (code === null) throw invalid(`Invalid detach keys (${spec}) provided`);
    out.push(code);
  }
  return out;
}

const CTRL_PUNCT = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

function keyCode(key: string): number | null {
  // Go's len() counts bytes: a single multi-byte character is no single key.
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length === 1) return bytes[0]!;
  if (key === 'DEL') return 127;
  if (key.length === 6 && key.startsWith('ctrl-')) {
    const i = CTRL_PUNCT.indexOf(key[5]!);
    if (i >= 0) return i;
  }
  return null;
}

// Watches a TTY's input for the detach sequence. Bytes of a partial match are held back
// until the match fails, then passed on, so a lone ctrl-p still reaches the container; the
// byte that broke a match may itself start a new one (ctrl-p ctrl-p ctrl-q detaches).
export class DetachScanner {
  private matched = 0;
  constructor(private readonly keys: readonly number[]) {}

  scan(chunk: Buffer): { data: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { data: chunk, detached: false };
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
