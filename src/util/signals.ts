import { constants } from 'node:os';
import { invalid } from './errors.js';

// Docker accepts "SIGTERM", "TERM", "term" and "15" alike.
export function parseSignal(s: string | undefined | null, dflt = 'SIGKILL'): number {
  const raw = (s ?? '').trim() || dflt;
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n <= 0 || n > 64) throw invalid(`Invalid signal: ${raw}`);
    return n;
  }
  const up = raw.toUpperCase();
  const name = up.startsWith('SIG') ? up : `SIG${up}`;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0);
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw invalid(`Invalid signal: ${raw}`);
  return n;
}
