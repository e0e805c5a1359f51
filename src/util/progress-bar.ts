import { formatGoDuration, humanSize } from './units.js';

// jsonmessage's JSONProgress.String(): the bar, the byte counts and the time left, as
// dockerd puts it in the "progress" field of a stream and the CLI redraws it on a
// terminal (width decides which boxes fit).

export interface ProgressDetail {
  current?: number;
  total?: number;
  start?: number; // unix seconds
  hidecounts?: boolean;
  units?: string;
}

export function progressString(p: ProgressDetail, width: number, now = Date.now()): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) {
    return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  }
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  let pbBox = '';
  if (width > 110) {
    const spaces = Math.max(0, 50 - percentage);
    pbBox = `[${'='.repeat(percentage)}>${' '.repeat(spaces)}] `;
  }
  let numbersBox = '';
  if (p.hidecounts) {
    numbersBox = '';
  } else if (!p.units) {
    const cur = humanSize(current);
    numbersBox = current > total ? cur.padStart(8) : `${cur.padStart(8)}/${humanSize(total)}`;
  } else {
    numbersBox = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let timeLeftBox = '';
  if (width > 50 && current > 0 && (p.start ?? 0) > 0 && percentage < 50) {
    const fromStartNs = (now - (p.start as number) * 1000) * 1e6;
    const perEntry = fromStartNs / current;
    const left = Math.round(((total - current) * perEntry) / 1e9) * 1e9;
    timeLeftBox = ` ${formatGoDuration(left)}`;
  }
  return pbBox + numbersBox + timeLeftBox;
}
