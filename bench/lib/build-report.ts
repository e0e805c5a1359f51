// The side-by-side table of bench/build.ts: Docker, berth through the same docker CLI (the
// judged ratio: same client, only the daemon differs), and berth through its own CLI.
import type { BuildClientResult, BuildEngineResult, BuildFigure } from './build-bench.js';
import { formatTable, ratio, verdict } from './report.js';
import type { Summary } from './stats.js';

/** Issue 4: cold ≤ 0.5 × Docker, fully cached ≤ 0.5 × Docker. */
export const BUILD_TARGETS: Record<BuildFigure, number> = { cold: 0.5, cached: 0.5 };

const FIGURE_TEXT: Record<BuildFigure, string> = {
  cold: 'cold build (--no-cache)',
  cached: 'fully cached rebuild',
};

const secs = (s: Summary | null | undefined): number | null => (s ? s.median / 1000 : null);
const fmt = (v: number | null): string => (v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(3)} s`);
const range = (s: Summary | null | undefined): string => (s ? `${(s.min / 1000).toFixed(2)}–${(s.max / 1000).toFixed(2)}` : '');
const times = (r: number | null): string => (r === null ? '–' : `${r.toFixed(2)} ×`);

function client(e: BuildEngineResult | undefined, label: string): BuildClientResult | undefined {
  return e?.clients.find((c) => c.client === label);
}

export function renderBuildReport(results: readonly BuildEngineResult[]): string {
  const docker = client(results.find((r) => r.engine === 'docker'), 'docker CLI');
  const berthEngine = results.find((r) => r.engine === 'berth');
  const viaDocker = client(berthEngine, 'docker CLI');
  const own = client(berthEngine, 'berth CLI');
  // `berth` as installed when the launcher was built (docs/decisions.md, "A warm CLI").
  const warm = client(berthEngine, 'berth warm CLI');
  const body = (['cold', 'cached'] as const).map((figure) => {
    const d = secs(docker?.[figure]);
    const b = secs(viaDocker?.[figure]);
    const o = secs(own?.[figure]);
    const w = secs(warm?.[figure]);
    const target = { kind: 'ratio', max: BUILD_TARGETS[figure] } as const;
    return [
      `${FIGURE_TEXT[figure]}, median`,
      fmt(d), range(docker?.[figure]),
      fmt(b), range(viaDocker?.[figure]),
      fmt(o), range(own?.[figure]),
      ...(warm ? [fmt(w), range(warm[figure])] : []),
      times(ratio(b, d)), times(ratio(o, d)),
      ...(warm ? [times(ratio(w, d))] : []),
      `≤ ${BUILD_TARGETS[figure]} × docker`,
      verdict({ berth: b, docker: d, target }),
      ...(warm ? [verdict({ berth: w, docker: d, target })] : []),
    ];
  });
  const out = [
    formatTable(
      ['figure', 'docker', 'range', 'berth (docker CLI)', 'range', 'berth (berth CLI)', 'range',
        ...(warm ? ['berth (warm CLI)', 'range'] : []),
        'berth/docker', 'berth CLI/docker', ...(warm ? ['warm CLI/docker'] : []), 'target', 'docker CLI', ...(warm ? ['warm'] : [])],
      body,
    ),
    '',
  ];
  for (const r of results) {
    out.push(`${r.engine}: ${r.status === 'ok' ? 'measured' : r.status}${r.error ? ` — ${r.error}` : ''}`);
    for (const c of r.clients) {
      if (c.cacheHits.length) out.push(`  ${c.client}: steps served from cache per rebuild: ${c.cacheHits.join(', ')}`);
    }
    for (const n of r.notes) out.push(`  note: ${n}`);
  }
  return out.join('\n');
}
