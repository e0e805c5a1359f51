// The exec and stats measurements of bench/exec-stats.ts: one long-running busybox container per
// engine, then `exec <c> true`, `exec -i <c> cat` with a small stdin and `stats --no-stream <c>`,
// each a whole CLI call, alternating engine and client on every call.
import type { CommandResult } from './command.js';
import type { Client, Engine } from './engine.js';
import { summarize, type Summary } from './stats.js';
import { callClient, eachLive, mustCall, startAll, stopAll, type RunStatus, type Subject } from './subjects.js';

export interface ExecStatsConfig {
  runs: number;
  warmup: number;
  /** Also time `exec -i <c> cat` with STDIN_PAYLOAD on its stdin. */
  stdin: boolean;
  progress: (line: string) => void;
  signal: AbortSignal;
}

export type ExecStatsFigure = 'exec' | 'execStdin' | 'stats';

export const FIGURE_ORDER: readonly ExecStatsFigure[] = ['exec', 'execStdin', 'stats'];

/** 1 KiB that `cat` must hand back unchanged: the figure is only what it says if it does. */
export const STDIN_PAYLOAD = '0123456789abcdef'.repeat(64);

export const CONTAINER_COMMAND = ['busybox', 'sleep', '600'] as const;

export type TimedFigure = Summary & { samples: number[] };

export interface ExecStatsClientResult {
  client: string;
  /** Whole CLI calls, spawn to exit, ms; null when not measured. */
  exec: TimedFigure | null;
  execStdin: TimedFigure | null;
  stats: TimedFigure | null;
  /** What the last timed `stats --no-stream` printed (header and row): its CPU % shows a real delta. */
  lastStats: string | null;
}

export interface ExecStatsEngineResult extends RunStatus {
  /** The container every call targets (full id), null until it runs. */
  container: string | null;
  clients: ExecStatsClientResult[];
}

type ExecStatsSubject = Subject<ExecStatsEngineResult>;

/** The CLI arguments of one figure's call against container `id`. */
export function figureArgs(figure: ExecStatsFigure, id: string): string[] {
  switch (figure) {
    case 'exec':
      return ['exec', id, 'true'];
    case 'execStdin':
      return ['exec', '-i', id, 'cat'];
    case 'stats':
      return ['stats', '--no-stream', id];
  }
}

/**
 * The lines of a `stats --no-stream` table for container `id`: the header and the container's
 * row (which starts with its short id). Null when the row is missing.
 */
export function statsRow(output: string, id: string): string | null {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const row = lines.find((l) => l.startsWith(id.slice(0, 12)));
  if (!row) return null;
  const header = lines.find((l) => l.startsWith('CONTAINER'));
  return header ? `${header}\n${row}` : row;
}

/** One timed call; a call whose output is not what the figure promises is a broken engine. */
async function callFigure(client: Client, figure: ExecStatsFigure, id: string, signal: AbortSignal): Promise<CommandResult & { stats?: string }> {
  const args = figureArgs(figure, id);
  const r = await mustCall(client, args, signal, figure === 'execStdin' ? STDIN_PAYLOAD : undefined);
  if (figure === 'execStdin' && r.stdout !== STDIN_PAYLOAD) {
    throw new Error(`${client.label}: ${args.join(' ')} gave back ${r.stdout.length} bytes of the ${STDIN_PAYLOAD.length} it was sent`);
  }
  if (figure === 'stats') {
    const stats = statsRow(r.stdout, id);
    if (!stats) throw new Error(`${client.label}: ${args.join(' ')} printed no row for the container: ${JSON.stringify(r.stdout)}`);
    return { ...r, stats };
  }
  return r;
}

export async function measureExecStats(engines: readonly Engine[], cfg: ExecStatsConfig): Promise<ExecStatsEngineResult[]> {
  const subjects: ExecStatsSubject[] = engines.map((engine) => ({
    engine,
    live: true,
    result: {
      engine: engine.name,
      status: 'ok',
      notes: engine.notes,
      container: null,
      clients: engine.clients.map((c) => ({ client: c.label, exec: null, execStdin: null, stats: null, lastStats: null })),
    },
  }));
  const figures = FIGURE_ORDER.filter((f) => f !== 'execStdin' || cfg.stdin);
  const maxClients = Math.max(0, ...engines.map((e) => e.clients.length));
  const samples = subjects.map((s) => s.engine.clients.map(() => ({ exec: [], execStdin: [], stats: [] }) as Record<ExecStatsFigure, number[]>));
  try {
    await startAll(subjects, cfg.progress);
    await eachLive(subjects, async (s) => {
      const client = s.engine.clients[0];
      const r = await mustCall(client, ['run', '-d', ...CONTAINER_COMMAND], cfg.signal);
      const id = r.stdout.trim();
      if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`${client.label}: run -d printed ${JSON.stringify(r.stdout)}, not an id`);
      s.result.container = id;
    });
    cfg.progress(`${figures.map((f) => figureArgs(f, '<c>').join(' ')).join(', ')}: ${cfg.warmup} warm-up + ${cfg.runs} timed per client`);
    for (let i = 0; i < cfg.warmup + cfg.runs; i++) {
      const timed = i >= cfg.warmup;
      if (timed && (i - cfg.warmup) % 5 === 0) cfg.progress(`run ${i - cfg.warmup + 1}/${cfg.runs}`);
      for (const figure of figures) {
        for (let c = 0; c < maxClients; c++) {
          await eachLive(subjects, async (s) => {
            const client = s.engine.clients[c];
            if (!client) return;
            const r = await callFigure(client, figure, s.result.container!, cfg.signal);
            if (!timed) return;
            samples[subjects.indexOf(s)][c][figure].push(r.ms);
            if (r.stats) s.result.clients[c].lastStats = r.stats;
          });
        }
      }
    }
    for (const [k, s] of subjects.entries()) {
      if (!s.live) continue;
      s.result.clients.forEach((res, c) => {
        for (const figure of figures) res[figure] = { ...summarize(samples[k][c][figure]), samples: samples[k][c][figure] };
      });
    }
  } finally {
    // Never interrupted: this is the cleanup (stopping also deletes the daemons' state).
    for (const s of subjects) {
      const id = s.result.container;
      if (!id) continue;
      const r = await callClient(s.engine.clients[0], ['rm', '-f', id]).catch((e: Error) => e);
      if (r instanceof Error || r.code !== 0) s.result.notes.push(`cleanup: rm -f ${id.slice(0, 12)} failed`);
    }
    await stopAll(subjects);
  }
  return subjects.map((s) => s.result);
}
