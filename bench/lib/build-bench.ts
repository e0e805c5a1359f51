// The build measurements of bench/build.ts, run against all engines side by side: per
// repetition, a cold build (`--no-cache`, fresh tag) by every client of every engine in
// turn, then a rebuild of the same context by each, which the cache should serve entirely.
import type { CommandResult } from './command.js';
import type { Client, Engine } from './engine.js';
import { CACHEABLE_STEPS, type BuildContext } from './build-context.js';
import { summarize, type Summary } from './stats.js';
import { eachLive, mustCall, startAll, stopAll, type RunStatus, type Subject } from './subjects.js';

export interface BuildConfig {
  runs: number;
  warmup: number;
  context: BuildContext;
  progress: (line: string) => void;
  signal: AbortSignal;
}

export type BuildFigure = 'cold' | 'cached';

export interface BuildClientResult {
  client: string;
  /** Whole CLI call, spawn to exit, ms. */
  cold: (Summary & { samples: number[] }) | null;
  cached: (Summary & { samples: number[] }) | null;
  /** `Using cache` lines of each timed rebuild; CACHEABLE_STEPS when fully cached. */
  cacheHits: number[];
}

export interface BuildEngineResult extends RunStatus {
  clients: BuildClientResult[];
}

/** The legacy builder's ` ---> Using cache` lines (berth prints the same). */
export function countCacheHits(output: string): number {
  return output.split('\n').filter((l) => l.trim() === '---> Using cache').length;
}

export async function measureBuilds(engines: readonly Engine[], cfg: BuildConfig): Promise<BuildEngineResult[]> {
  const subjects: Subject<BuildEngineResult>[] = engines.map((engine) => ({
    engine,
    live: true,
    result: {
      engine: engine.name,
      status: 'ok',
      notes: engine.notes,
      clients: engine.clients.map((c) => ({ client: c.label, cold: null, cached: null, cacheHits: [] })),
    },
  }));
  const maxClients = Math.max(0, ...engines.map((e) => e.clients.length));
  const samples = subjects.map((s) => s.engine.clients.map(() => ({ cold: [] as number[], cached: [] as number[] })));
  try {
    await startAll(subjects, cfg.progress);
    cfg.progress(`context: ${(cfg.context.bytes / 1e6).toFixed(1)} MB in ${cfg.context.files} files at ${cfg.context.path}`);
    for (let i = 0; i < cfg.warmup + cfg.runs; i++) {
      const timed = i >= cfg.warmup;
      cfg.progress(`${timed ? `run ${i - cfg.warmup + 1}/${cfg.runs}` : `warm-up ${i + 1}/${cfg.warmup}`}: cold builds, then cached rebuilds`);
      for (const figure of ['cold', 'cached'] as const) {
        for (let c = 0; c < maxClients; c++) {
          await eachLive(subjects, async (s) => {
            const client = s.engine.clients[c];
            if (!client) return;
            const r = await build(client, figure, `bench-build:${figure}-${i}-${c}`, cfg);
            if (!timed) return;
            const k = subjects.indexOf(s);
            samples[k][c][figure].push(r.ms);
            if (figure === 'cached') s.result.clients[c].cacheHits.push(countCacheHits(r.stdout));
          });
        }
      }
    }
    for (const [k, s] of subjects.entries()) {
      if (!s.live) continue;
      s.engine.clients.forEach((client, c) => {
        const res = s.result.clients[c];
        res.cold = { ...summarize(samples[k][c].cold), samples: samples[k][c].cold };
        res.cached = { ...summarize(samples[k][c].cached), samples: samples[k][c].cached };
        // A rebuild that ran steps again is not the figure it is named for: say so, keep it.
        const partial = res.cacheHits.filter((n) => n !== CACHEABLE_STEPS);
        if (partial.length) {
          s.result.notes.push(`${client.label}: ${partial.length} rebuild(s) reused ${partial.join(', ')} of ${CACHEABLE_STEPS} steps, not all`);
        }
      });
    }
  } finally {
    // Images go with the daemons' state: stopping deletes their roots.
    await stopAll(subjects);
  }
  return subjects.map((s) => s.result);
}

function build(client: Client, figure: BuildFigure, tag: string, cfg: BuildConfig): Promise<CommandResult> {
  const args = ['build', ...(figure === 'cold' ? ['--no-cache'] : []), '-t', tag, cfg.context.path];
  return mustCall(client, args, cfg.signal);
}
