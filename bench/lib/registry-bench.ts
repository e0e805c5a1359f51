// Push and pull of one big image through a loopback registry, both engines side by side.
//
// The registry is berth's own server (src/distribution/server), run in this process; every
// engine gets a fresh one with an empty storage root for every round, so no blob "already
// exists" and no mount from another repository is possible. Rounds alternate engine by engine.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistryServer } from '../../src/distribution/server/server.js';
import type { Engine } from './engine.js';
import { writeRandomImageArchive, type RandomImage } from './random-image.js';
import { summarize, type Summary } from './stats.js';
import { eachLive, mustCall, startAll, stopAll, type RunStatus, type Subject } from './subjects.js';

export interface RegistryBenchConfig {
  /** Where the image archive and the registries' storage go. */
  dir: string;
  layers: number;
  layerMiB: number;
  rounds: number;
  progress: (line: string) => void;
  signal: AbortSignal;
}

// 'pull, installed CLI': berth's pull once more through `berth` as scripts/install-deps.sh
// installs it (the launcher and its warm CLI server); absent for Docker.
export type TransferName = 'push' | 'pull' | 'pull, installed CLI';

export interface RegistryEngineResult extends RunStatus {
  /** Wall time of each whole CLI call, ms, per round. */
  samples: Record<TransferName, number[]>;
  summary: Partial<Record<TransferName, Summary>>;
  /** The manifest digest each push reported (the same every round, and the pull's). */
  digests: string[];
}

type RegistrySubject = Subject<RegistryEngineResult>;

const LOCAL_TAG = 'berth-bench/random:latest';

/** `push` prints "<tag>: digest: sha256:… size: N"; `pull` prints "Digest: sha256:…". */
export function reportedDigest(output: string): string | null {
  return /(?:^|\s)[Dd]igest: (sha256:[0-9a-f]{64})/.exec(output)?.[1] ?? null;
}

async function round(s: RegistrySubject, image: RandomImage, cfg: RegistryBenchConfig, n: number): Promise<void> {
  const client = s.engine.clients[0]!;
  const root = join(cfg.dir, `registry-${s.engine.name}-${n}`);
  await rm(root, { recursive: true, force: true });
  const server = await startRegistryServer({ address: '127.0.0.1:0', root });
  try {
    const remote = `127.0.0.1:${server.port}/bench/random:r${n}`;
    await mustCall(client, ['tag', image.id, remote], cfg.signal);
    const pushed = await mustCall(client, ['push', remote], cfg.signal);
    const digest = reportedDigest(pushed.stdout);
    if (!digest) throw new Error(`push printed no digest:\n${pushed.stdout}`);
    // Every reference goes, so the pull has to fetch every layer.
    await mustCall(client, ['rmi', '-f', image.id], cfg.signal);
    const pulled = await mustCall(client, ['pull', remote], cfg.signal);
    if (reportedDigest(pulled.stdout) !== digest) throw new Error(`pull printed another digest than push (${digest}):\n${pulled.stdout}`);
    const id = (await mustCall(client, ['image', 'inspect', '-f', '{{.Id}}', remote], cfg.signal)).stdout.trim();
    if (id !== image.id) throw new Error(`pulled image ${id}, pushed ${image.id}`);
    s.result.samples.push.push(pushed.ms);
    s.result.samples.pull.push(pulled.ms);
    const installed = s.engine.clients.find((c) => c.label === 'berth warm CLI');
    if (installed) {
      await mustCall(client, ['rmi', '-f', image.id], cfg.signal);
      // An untimed call first: the server may have exited since the last one (idle timeout).
      await mustCall(installed, ['version'], cfg.signal);
      const again = await mustCall(installed, ['pull', remote], cfg.signal);
      if (reportedDigest(again.stdout) !== digest) throw new Error(`pull printed another digest than push (${digest}):\n${again.stdout}`);
      s.result.samples['pull, installed CLI'].push(again.ms);
    }
    s.result.digests.push(digest);
    const warm = s.result.samples['pull, installed CLI'].at(-1);
    cfg.progress(`${s.engine.name}: push ${(pushed.ms / 1000).toFixed(2)} s, pull ${(pulled.ms / 1000).toFixed(2)} s${installed && warm ? `, pull with the installed CLI ${(warm / 1000).toFixed(2)} s` : ''}`);
  } finally {
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}

export async function measureRegistry(engines: readonly Engine[], cfg: RegistryBenchConfig): Promise<{ image: RandomImage; results: RegistryEngineResult[] }> {
  const subjects: RegistrySubject[] = engines.map((engine) => ({
    engine,
    live: true,
    result: { engine: engine.name, status: 'ok', notes: engine.notes, samples: { push: [], pull: [], 'pull, installed CLI': [] }, summary: {}, digests: [] },
  }));
  await mkdir(cfg.dir, { recursive: true });
  const archive = join(cfg.dir, 'random-image.tar');
  let image: RandomImage | null = null;
  try {
    cfg.progress(`writing ${cfg.layers} layers of ${cfg.layerMiB} MiB of random bytes to ${archive}`);
    image = await writeRandomImageArchive(archive, { layers: cfg.layers, layerBytes: cfg.layerMiB * 1024 * 1024, tag: LOCAL_TAG });
    await startAll(subjects, cfg.progress);
    await eachLive(subjects, async (s) => {
      cfg.progress(`${s.engine.name}: load -i ${archive}`);
      await mustCall(s.engine.clients[0]!, ['load', '-i', archive], cfg.signal);
    });
    for (let n = 0; n < cfg.rounds && !cfg.signal.aborted; n++) {
      cfg.progress(`round ${n + 1} of ${cfg.rounds}`);
      await eachLive(subjects, (s) => round(s, image!, cfg, n));
    }
    for (const s of subjects) {
      if (!s.live) continue;
      const { samples } = s.result;
      s.result.summary = { push: summarize(samples.push), pull: summarize(samples.pull) };
      if (samples['pull, installed CLI'].length) s.result.summary['pull, installed CLI'] = summarize(samples['pull, installed CLI']);
    }
  } finally {
    // Before the engines stop: the last one removes the state directory if it is empty.
    await rm(archive, { force: true });
    await stopAll(subjects);
  }
  return { image: image!, results: subjects.map((s) => s.result) };
}
