// The latency and memory measurements, run against all engines side by side.
//
// The engines run at the same time and their CLI calls alternate one by one (docker, berth,
// docker, berth, ...): on a shared machine the load changes from minute to minute, and
// alternating puts the same load on both sides of every ratio.
import { describeFailure, type CommandResult } from './command.js';
import type { Client, Engine } from './engine.js';
import { measureEngineMemory, type MemoryFigure } from './proc.js';
import { summarize, type Summary } from './stats.js';
import { callClient, eachLive, mustCall as mustCallClient, startAll, stopAll, type RunStatus, type Subject } from './subjects.js';

export interface LatencyConfig {
  runs: number;
  warmup: number;
  detached: number;
  /** Extra `run` arguments for every engine, e.g. ['--network', 'none']. */
  runArgs: readonly string[];
  progress: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM: the run stops at the next CLI call and cleans up. */
  signal: AbortSignal;
}

export interface ClientResult {
  client: string;
  /** `run --rm busybox true`, whole CLI call, ms. */
  runRm: (Summary & { samples: number[] }) | null;
  /** N × `run -d busybox sleep 600` in a row: the sum of the N whole CLI calls, ms. */
  detachedTotalMs: number | null;
}

export interface EngineResult extends RunStatus {
  idle: MemoryFigure | null;
  /** Memory with the detached batch of the engine's own CLI running. */
  loaded: (MemoryFigure & { running: number }) | null;
  /** The warm CLI's server after all the calls (berth only; absent: none). */
  cliServer?: MemoryFigure | null;
  clients: ClientResult[];
}

interface LatencySubject extends Subject<EngineResult> {
  /** Containers made and not yet removed, with the client that made them. */
  made: { client: Client; id: string }[];
}

const mustCall = (client: Client, args: readonly string[], cfg: LatencyConfig): Promise<CommandResult> =>
  mustCallClient(client, args, cfg.signal);

function parseId(client: Client, r: CommandResult): string {
  const id = r.stdout.trim().split('\n').pop() ?? '';
  if (!/^[0-9a-f]{12,64}$/.test(id)) throw new Error(`${client.label}: run -d printed ${JSON.stringify(r.stdout)}, not an id`);
  return id;
}

async function countRunning(client: Client, ids: readonly string[], cfg: LatencyConfig): Promise<number> {
  const r = await mustCall(client, ['ps', '-q'], cfg);
  const shown = r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  return ids.filter((id) => shown.some((s) => id.startsWith(s) || s.startsWith(id))).length;
}

/**
 * Removes the containers the subject made, one `rm -f` per client; ids leave `made` only once
 * their removal succeeded, so the final cleanup can retry the rest. Never interrupted, since
 * it is the cleanup.
 */
async function removeMade(s: LatencySubject): Promise<void> {
  for (const client of new Set(s.made.map((m) => m.client))) {
    const ids = s.made.filter((m) => m.client === client).map((m) => m.id);
    const r = await callClient(client, ['rm', '-f', ...ids]);
    if (r.code !== 0) throw new Error(describeFailure(`${client.label}: rm -f`, r));
    s.made = s.made.filter((m) => m.client !== client);
  }
}

/**
 * cfg.detached rounds of `run -d`, each round one call per listed client index of every
 * engine, so that the clients measured together see the same load. Totals are per client.
 */
async function detachedBatch(subjects: LatencySubject[], clientIndexes: readonly number[], cfg: LatencyConfig): Promise<void> {
  const args = ['run', '-d', ...cfg.runArgs, 'busybox', 'sleep', '600'];
  const inBatch = subjects.filter((s) => s.live && clientIndexes.some((c) => s.engine.clients[c]));
  if (inBatch.length === 0) return;
  const labels = inBatch.flatMap((s) =>
    clientIndexes.filter((c) => s.engine.clients[c]).map((c) => `${s.engine.name} via ${s.engine.clients[c].label}`),
  );
  cfg.progress(`${cfg.detached} × run -d busybox sleep 600: ${labels.join(', ')}`);
  const totals = subjects.map((s) => s.engine.clients.map(() => 0));
  for (let i = 0; i < cfg.detached; i++) {
    for (const c of clientIndexes) {
      await eachLive(inBatch, async (s) => {
        const client = s.engine.clients[c];
        if (!client) return;
        const r = await mustCall(client, args, cfg);
        s.made.push({ client, id: parseId(client, r) });
        totals[subjects.indexOf(s)][c] += r.ms;
      });
    }
  }
  for (const s of inBatch) {
    if (!s.live) continue;
    for (const c of clientIndexes) {
      if (s.engine.clients[c]) s.result.clients[c].detachedTotalMs = totals[subjects.indexOf(s)][c];
    }
  }
}

export async function measureEngines(engines: readonly Engine[], cfg: LatencyConfig): Promise<EngineResult[]> {
  const subjects: LatencySubject[] = engines.map((engine) => ({
    engine,
    made: [],
    live: true,
    result: {
      engine: engine.name,
      status: 'ok',
      notes: engine.notes,
      idle: null,
      loaded: null,
      clients: engine.clients.map((c) => ({ client: c.label, runRm: null, detachedTotalMs: null })),
    },
  }));
  const maxClients = Math.max(0, ...engines.map((e) => e.clients.length));
  try {
    await startAll(subjects, cfg.progress);
    // Idle figures first, before any engine has run a container.
    await eachLive(subjects, async (s) => {
      s.result.idle = await measureEngineMemory(await s.engine.processSpec());
    });

    // (a) run --rm, alternating engine and client on every call.
    const runRm = ['run', '--rm', ...cfg.runArgs, 'busybox', 'true'];
    const samples = subjects.map((s) => s.engine.clients.map((): number[] => []));
    cfg.progress(`run --rm busybox true: ${cfg.warmup} warm-up + ${cfg.runs} timed per client`);
    for (let i = 0; i < cfg.warmup + cfg.runs; i++) {
      for (let c = 0; c < maxClients; c++) {
        await eachLive(subjects, async (s) => {
          const client = s.engine.clients[c];
          if (!client) return;
          const r = await mustCall(client, runRm, cfg);
          if (i >= cfg.warmup) samples[subjects.indexOf(s)][c].push(r.ms);
        });
      }
    }
    for (const [k, s] of subjects.entries()) {
      if (!s.live) continue;
      s.engine.clients.forEach((_, c) => {
        s.result.clients[c].runRm = { ...summarize(samples[k][c]), samples: samples[k][c] };
      });
    }

    // (b) the detached batch of each engine's own CLI, then (c) memory with it running.
    // Only then the other clients' batches: a daemon that had handled twice the containers
    // would carry their garbage into its memory figure.
    await detachedBatch(subjects, [0], cfg);
    await eachLive(subjects, async (s) => {
      const ids = s.made.map((m) => m.id);
      const running = await countRunning(s.engine.clients[0], ids, cfg);
      if (running !== ids.length) s.result.notes.push(`only ${running} of ${ids.length} containers were running when memory was measured`);
      s.result.loaded = { ...(await measureEngineMemory(await s.engine.processSpec())), running };
    });
    await eachLive(subjects, (s) => removeMade(s));
    const otherClients = Array.from({ length: Math.max(0, maxClients - 1) }, (_, i) => i + 1);
    if (otherClients.length) {
      await detachedBatch(subjects, otherClients, cfg);
      await eachLive(subjects, (s) => removeMade(s));
    }
    await eachLive(subjects, async (s) => {
      if (s.engine.cliServerMemory) s.result.cliServer = await s.engine.cliServerMemory();
    });
  } finally {
    for (const s of subjects) {
      await removeMade(s).catch((e: Error) => s.result.notes.push(`cleanup: ${e.message}`));
    }
    await stopAll(subjects);
  }
  return subjects.map((s) => s.result);
}
