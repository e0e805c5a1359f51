// Push and pull of a ~200 MB image of several layers through a loopback registry, berth
// against a reference Docker in the same run.
//
//   node --import tsx bench/registry-transfer.ts [--layers 4] [--layer-mib 50] [--rounds 3]
//
// See bench/README.md. Figures never fail the run: it exits 0 unless an engine is broken,
// 2 on bad arguments, 130 when interrupted.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBridges } from './lib/bench-network.js';
import { defaultDockerCli } from './lib/docker-engine.js';
import { hostHeader, interruptSignal, makeEngines, parseEngineNames, positiveInt, progress, requireRoot, runScript, startHostInfo, writeRecord, parseBenchArgs } from './lib/harness.js';
import { measureRegistry, type RegistryEngineResult, type TransferName } from './lib/registry-bench.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** issue 5: berth moves the image in at most 0.67 × Docker's time. */
export const TARGET_RATIO = 0.67;

const USAGE = `usage: node --import tsx bench/registry-transfer.ts [options]
  --layers N        layers of random bytes in the image (default 4)
  --layer-mib N     MiB per layer (default 50)
  --rounds N        push + pull rounds per engine, each to a fresh registry (default 3)
  --engines LIST    docker,berth (default both)
  --no-build        do not run scripts/build.mjs before starting berthd
  --keep            leave the daemons running at the end
  --dir DIR         state directory (default /tmp/berth-bench-registry)
  --json PATH       results file (default bench/results/latest-registry-transfer.json)`;

function renderReport(results: RegistryEngineResult[]): string {
  const by = (name: string) => results.find((r) => r.engine === name);
  const docker = by('docker');
  const berth = by('berth');
  const s = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${(v / 1000).toFixed(2)} s`);
  const range = (r: RegistryEngineResult | undefined, k: TransferName): string => {
    const x = r?.summary[k];
    return x ? `${(x.min / 1000).toFixed(2)}–${(x.max / 1000).toFixed(2)}` : '';
  };
  const lines = [`${'figure'.padEnd(28)}${'docker'.padStart(10)}${'range'.padStart(13)}${'berth'.padStart(10)}${'range'.padStart(13)}  berth/docker  target`];
  for (const k of ['push', 'pull', 'pull, installed CLI'] as const) {
    // The installed CLI's pull is set against Docker's one pull.
    const d = docker?.summary[k === 'pull, installed CLI' ? 'pull' : k]?.median;
    const b = berth?.summary[k]?.median;
    if (b === undefined && k === 'pull, installed CLI') continue;
    const ratio = d && b ? b / d : NaN;
    const verdict = Number.isFinite(ratio) ? (ratio <= TARGET_RATIO ? 'met' : 'MISSED') : '';
    lines.push(
      `${`${k}, median`.padEnd(28)}${s(d).padStart(10)}${range(docker, k).padStart(13)}${s(b).padStart(10)}${range(berth, k).padStart(13)}` +
        `  ${Number.isFinite(ratio) ? ratio.toFixed(2).padStart(12) : '–'.padStart(12)}  ≤ ${TARGET_RATIO} ${verdict}`,
    );
  }
  for (const r of results) {
    if (r.status !== 'ok') lines.push(`${r.engine}: ${r.status}${r.error ? `: ${r.error}` : ''}`);
    for (const n of r.notes) lines.push(`${r.engine}: ${n}`);
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const parsed = parseBenchArgs(
    {
      layers: { type: 'string', default: '4' },
      'layer-mib': { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
    },
    { dir: '/tmp/berth-bench-registry', json: join(repoRoot, 'bench/results/latest-registry-transfer.json') },
  );
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const layers = positiveInt('layers', parsed.layers!, 1);
  const layerMiB = positiveInt('layer-mib', parsed['layer-mib']!, 1);
  const rounds = positiveInt('rounds', parsed.rounds!, 1);
  const wanted = parseEngineNames(parsed.engines!);
  requireRoot('registry-transfer', 'it starts daemons');
  const dir = resolve(parsed.dir!);
  const dockerCli = defaultDockerCli();
  const keep = parsed.keep!;
  const bridges = await benchBridges(dir, ['b']);
  const engines = makeEngines(
    wanted,
    { repoRoot, dir, dockerCli, keep },
    { repoRoot, dir, dockerCli, keep, build: !parsed['no-build'], withDockerCli: false, bridge: bridges.b! },
  );

  const signal = interruptSignal();
  const finishHostInfo = startHostInfo(dockerCli);
  const { image, results } = await measureRegistry(engines, { dir, layers, layerMiB, rounds, progress, signal });
  const host = await finishHostInfo();

  console.log(
    `\n${hostHeader('Registry push and pull, berth vs Docker', host)}` +
      `\nimage: ${layers} layers × ${layerMiB} MiB of random bytes (${(image.bytes / 1e6).toFixed(0)} MB uncompressed), ${image.id}` +
      `\n${rounds} rounds per engine, each to a fresh loopback registry (berth's server); whole CLI calls (berth: node bin/berth; "installed CLI": the launcher and its warm server)\n`,
  );
  console.log(renderReport(results));

  const jsonPath = resolve(parsed.json!);
  await writeRecord(jsonPath, { date: new Date().toISOString(), host, config: { layers, layerMiB, rounds, targetRatio: TARGET_RATIO }, image, results });
  console.log(`\nresults: ${jsonPath}`);

  if (signal.aborted) return 130;
  return results.some((r) => r.status === 'broken') ? 1 : 0;
}

await runScript(USAGE, main);
