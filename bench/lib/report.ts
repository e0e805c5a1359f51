// The side-by-side table: Docker's figures, berth's, the ratio, and DESIGN.md's targets.
import type { EngineResult } from './latency.js';
import type { MemoryFigure } from './proc.js';

export const MiB = 1024 * 1024;

/** From /work/shared/DESIGN.md, "Performance figures to hold". */
export const TARGETS = {
  runRmMedianRatio: 0.4,
  detachedRatio: 0.3,
  loadedPssMiB: 150,
  idlePssMiB: 60,
} as const;

type Target = { kind: 'ratio'; max: number } | { kind: 'absolute'; max: number; unit: string } | null;

interface Row {
  figure: string;
  docker: number | null;
  berth: number | null;
  berthViaDocker: number | null;
  /** berth through the launcher and its CLI server (docs/decisions.md, "A warm CLI"). */
  berthWarm: number | null;
  unit: 's' | 'MiB';
  target: Target;
}

const fmt = (v: number | null, unit: string): string =>
  v === null || !Number.isFinite(v) ? '–' : unit === 's' ? `${v.toFixed(3)} s` : `${v.toFixed(1)} MiB`;

const secs = (ms: number | null | undefined): number | null => (ms == null ? null : ms / 1000);
const mib = (bytes: number | undefined): number | null => (bytes == null ? null : bytes / MiB);

function rows(docker: EngineResult | undefined, berth: EngineResult | undefined, detached: number): Row[] {
  const d = docker?.clients[0];
  const client = (label: string) => berth?.clients.find((c) => c.client === label);
  const b = client('berth CLI');
  const bd = client('docker CLI');
  const bw = client('berth warm CLI');
  const mem = (e: EngineResult | undefined, pick: (r: EngineResult) => MemoryFigure | null, key: 'rss' | 'pss') => {
    const f = e ? pick(e) : null;
    return f ? mib(f[key]) : null;
  };
  return [
    {
      figure: 'run --rm busybox true, median',
      docker: secs(d?.runRm?.median), berth: secs(b?.runRm?.median), berthViaDocker: secs(bd?.runRm?.median), berthWarm: secs(bw?.runRm?.median),
      unit: 's', target: { kind: 'ratio', max: TARGETS.runRmMedianRatio },
    },
    {
      figure: 'run --rm busybox true, p90',
      docker: secs(d?.runRm?.p90), berth: secs(b?.runRm?.p90), berthViaDocker: secs(bd?.runRm?.p90), berthWarm: secs(bw?.runRm?.p90),
      unit: 's', target: null,
    },
    {
      figure: `${detached} × run -d busybox sleep 600`,
      docker: secs(d?.detachedTotalMs), berth: secs(b?.detachedTotalMs), berthViaDocker: secs(bd?.detachedTotalMs), berthWarm: secs(bw?.detachedTotalMs),
      unit: 's', target: { kind: 'ratio', max: TARGETS.detachedRatio },
    },
    {
      figure: `memory, ${detached} running (PSS)`,
      docker: mem(docker, (r) => r.loaded, 'pss'), berth: mem(berth, (r) => r.loaded, 'pss'), berthViaDocker: null, berthWarm: null,
      unit: 'MiB', target: { kind: 'absolute', max: TARGETS.loadedPssMiB, unit: 'MiB' },
    },
    {
      figure: `memory, ${detached} running (RSS)`,
      docker: mem(docker, (r) => r.loaded, 'rss'), berth: mem(berth, (r) => r.loaded, 'rss'), berthViaDocker: null, berthWarm: null,
      unit: 'MiB', target: null,
    },
    {
      figure: 'idle daemon memory (PSS)',
      docker: mem(docker, (r) => r.idle, 'pss'), berth: mem(berth, (r) => r.idle, 'pss'), berthViaDocker: null, berthWarm: null,
      unit: 'MiB', target: { kind: 'absolute', max: TARGETS.idlePssMiB, unit: 'MiB' },
    },
    {
      figure: 'idle daemon memory (RSS)',
      docker: mem(docker, (r) => r.idle, 'rss'), berth: mem(berth, (r) => r.idle, 'rss'), berthViaDocker: null, berthWarm: null,
      unit: 'MiB', target: null,
    },
    // The warm CLI's server is the client's memory, while calls come: its own rows.
    {
      figure: 'warm CLI server memory (PSS)',
      docker: null, berth: null, berthViaDocker: null, berthWarm: mib(berth?.cliServer?.pss),
      unit: 'MiB', target: null,
    },
    {
      figure: 'warm CLI server memory (RSS)',
      docker: null, berth: null, berthViaDocker: null, berthWarm: mib(berth?.cliServer?.rss),
      unit: 'MiB', target: null,
    },
  ];
}

export function ratio(berth: number | null, docker: number | null): number | null {
  return berth === null || docker === null || !(docker > 0) ? null : berth / docker;
}

/** 'ok', 'MISS', or '' when there is nothing to judge. */
export function verdict(row: { berth: number | null; docker: number | null; target: Target }): string {
  if (!row.target || row.berth === null) return '';
  if (row.target.kind === 'absolute') return row.berth <= row.target.max ? 'ok' : 'MISS';
  const r = ratio(row.berth, row.docker);
  return r === null ? '' : r <= row.target.max ? 'ok' : 'MISS';
}

function targetText(t: Target): string {
  if (!t) return '';
  return t.kind === 'ratio' ? `≤ ${t.max} × docker` : `≤ ${t.max} ${t.unit}`;
}

export function formatTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  ').trimEnd(), ...body.map(line)].join('\n');
}

export function renderReport(results: readonly EngineResult[], detached: number): string {
  const docker = results.find((r) => r.engine === 'docker');
  const berth = results.find((r) => r.engine === 'berth');
  const body = rows(docker, berth, detached).map((row) => {
    const r = ratio(row.berth, row.docker);
    const w = row.unit === 's' ? ratio(row.berthWarm, row.docker) : null;
    return [
      row.figure,
      fmt(row.docker, row.unit),
      fmt(row.berth, row.unit),
      fmt(row.berthViaDocker, row.unit),
      r === null ? '–' : `${r.toFixed(2)} ×`,
      fmt(row.berthWarm, row.unit),
      w === null ? '–' : `${w.toFixed(2)} ×`,
      targetText(row.target),
      verdict(row),
      row.target?.kind === 'ratio' && row.berthWarm !== null ? verdict({ ...row, berth: row.berthWarm }) : '',
    ];
  });
  const out = [
    formatTable(['figure', 'docker', 'berth', 'berth via docker CLI', 'berth/docker', 'berth warm CLI', 'warm/docker', 'target', 'berth', 'warm'], body),
    '',
  ];
  for (const r of results) {
    const status = r.status === 'ok' ? 'measured' : r.status;
    out.push(`${r.engine}: ${status}${r.error ? ` — ${r.error}` : ''}`);
    for (const n of r.notes) out.push(`  note: ${n}`);
    for (const [label, f] of [['idle', r.idle], ['loaded', r.loaded]] as const) {
      if (!f) continue;
      const parts = Object.entries(f.byComm).map(
        ([comm, c]) => `${comm} ×${c.count} ${(c.pss / MiB).toFixed(1)}/${(c.rss / MiB).toFixed(1)}`,
      );
      out.push(`  ${label} processes (PSS/RSS MiB): ${parts.join(', ') || 'none found'}`);
    }
  }
  return out.join('\n');
}
