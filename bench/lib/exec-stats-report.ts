// The side-by-side table of bench/exec-stats.ts: Docker through the docker CLI, berth through
// each of its clients, and berth/docker for each of them (same statistic on both sides).
import type { ExecStatsClientResult, ExecStatsEngineResult, ExecStatsFigure, TimedFigure } from './exec-stats-bench.js';
import { STDIN_PAYLOAD } from './exec-stats-bench.js';
import { formatTable, ratio } from './report.js';

const FIGURE_TEXT: Record<ExecStatsFigure, string> = {
  exec: 'exec <c> true',
  execStdin: `exec -i <c> cat (${STDIN_PAYLOAD.length} B stdin)`,
  stats: 'stats --no-stream <c>',
};

const STATISTICS = ['median', 'p90'] as const;

const secs = (f: TimedFigure | null | undefined, k: 'median' | 'p90'): number | null => (f ? f[k] / 1000 : null);
const fmt = (v: number | null): string => (v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(3)} s`);
const times = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)} ×`);

/** As run-latency names them: 'berth' is berth's own CLI, the others say which client. */
export function berthColumn(client: string): string {
  if (client === 'berth CLI') return 'berth';
  return client.startsWith('berth ') ? client : `berth via ${client}`;
}

export function renderExecStatsReport(results: readonly ExecStatsEngineResult[]): string {
  const docker = results.find((r) => r.engine === 'docker')?.clients[0];
  const berthClients: readonly ExecStatsClientResult[] = results.find((r) => r.engine === 'berth')?.clients ?? [];
  const measured = (['exec', 'execStdin', 'stats'] as const).filter(
    (f) => docker?.[f] || berthClients.some((c) => c[f]),
  );
  const body = measured.flatMap((figure) =>
    STATISTICS.map((k) => {
      const d = secs(docker?.[figure], k);
      const b = berthClients.map((c) => secs(c[figure], k));
      return [`${FIGURE_TEXT[figure]}, ${k}`, fmt(d), ...b.map(fmt), ...b.map((v) => times(ratio(v, d)))];
    }),
  );
  const columns = berthClients.map((c) => berthColumn(c.client));
  const header = ['figure', 'docker', ...columns, ...columns.map((c) => `${c}/docker`)];
  const out = [formatTable(header, body), ''];
  out.push(
    'Each figure is the wall time of the whole CLI call, spawn to exit. Both daemons answer',
    'stats --no-stream only after two samples ~1 s apart (CPU % needs their delta), so that',
    'second is in both columns: it is what the user waits for.',
    '',
  );
  for (const r of results) {
    out.push(`${r.engine}: ${r.status === 'ok' ? 'measured' : r.status}${r.error ? ` — ${r.error}` : ''}`);
    for (const c of r.clients) {
      if (!c.lastStats) continue;
      out.push(`  last stats --no-stream via ${c.client}:`, ...c.lastStats.split('\n').map((l) => `    ${l}`));
    }
    for (const n of r.notes) out.push(`  note: ${n}`);
  }
  return out.join('\n');
}
