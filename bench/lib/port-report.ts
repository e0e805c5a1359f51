// The side-by-side table of bench/port-throughput.ts.
import type { CpuFigureName, FigureName, PathName, PortEngineResult } from './port-bench.js';
import { formatTable, ratio } from './report.js';
import type { Summary } from './stats.js';

interface Row {
  figure: string;
  unit: 'MB/s' | 'conn/s' | 'ms' | 's/GB' | 'ms/conn';
  /** For the reader: which way is better. */
  better: 'higher' | 'lower';
  pick: (r: PortEngineResult) => Summary | undefined;
}

const PATH_TEXT: Record<PathName, string> = { proxy: 'via 127.0.0.1 (proxy)', dnat: 'via host address (DNAT)' };

function rows(paths: readonly PathName[]): Row[] {
  const fig = (name: FigureName | CpuFigureName, path: PathName) => (r: PortEngineResult) => r.figures[`${name}-${path}`]?.summary;
  return paths.flatMap((path): Row[] => [
    { figure: `upload ${PATH_TEXT[path]}`, unit: 'MB/s', better: 'higher', pick: fig('upload', path) },
    { figure: `download ${PATH_TEXT[path]}`, unit: 'MB/s', better: 'higher', pick: fig('download', path) },
    { figure: `connections ${PATH_TEXT[path]}`, unit: 'conn/s', better: 'higher', pick: fig('connect', path) },
    { figure: '  one request, median', unit: 'ms', better: 'lower', pick: (r) => r.requestMs[path] },
    { figure: '  engine CPU, upload', unit: 's/GB', better: 'lower', pick: fig('cpu-upload', path) },
    { figure: '  engine CPU, download', unit: 's/GB', better: 'lower', pick: fig('cpu-download', path) },
    { figure: '  engine CPU, connections', unit: 'ms/conn', better: 'lower', pick: fig('cpu-connect', path) },
  ]);
}

function fmt(v: number | undefined, unit: Row['unit']): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const digits = unit === 'MB/s' || unit === 'conn/s' ? 0 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

/** "min–max" of the per-round samples, so the reader sees how much the rounds moved. */
function spread(s: Summary | undefined, unit: Row['unit']): string {
  if (!s || unit === 'ms') return '';
  const digits = unit === 'MB/s' || unit === 'conn/s' ? 0 : 2;
  return `${s.min.toFixed(digits)}–${s.max.toFixed(digits)}`;
}

export function renderPortReport(results: readonly PortEngineResult[]): string {
  const docker = results.find((r) => r.engine === 'docker');
  const berth = results.find((r) => r.engine === 'berth');
  const paths: PathName[] = results.some((r) => r.paths.dnat || r.figures['upload-dnat']) ? ['proxy', 'dnat'] : ['proxy'];
  const body = rows(paths).map((row) => {
    const d = docker ? row.pick(docker) : undefined;
    const b = berth ? row.pick(berth) : undefined;
    const r = ratio(b?.median ?? null, d?.median ?? null);
    return [
      row.figure,
      fmt(d?.median, row.unit), spread(d, row.unit),
      fmt(b?.median, row.unit), spread(b, row.unit),
      r === null ? '–' : `${r.toFixed(2)} ×`,
      `${row.better} is better`,
    ];
  });
  const out = [
    formatTable(['figure (median of rounds)', 'docker', 'range', 'berth', 'range', 'berth/docker', ''], body),
    '',
  ];
  for (const r of results) {
    out.push(`${r.engine}: ${r.status === 'ok' ? 'measured' : r.status}${r.error ? ` — ${r.error}` : ''}`);
    if (r.hostPorts) {
      const seen = Object.entries(r.paths).map(([p, i]) => `${p} ${i.host} seen as ${i.peer}`).join(', ');
      out.push(`  ports ${r.hostPorts.http}/${r.hostPorts.sink}/${r.hostPorts.source} (http/sink/source), gateway ${r.gateway ?? '?'}; ${seen}`);
    }
    for (const n of r.notes) out.push(`  note: ${n}`);
  }
  return out.join('\n');
}
