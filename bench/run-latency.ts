// Side-by-side latency and memory benchmark: berth against a reference Docker.
//
//   node --import tsx bench/run-latency.ts [--runs 20] [--detached 50] [--engines docker,berth]
//
// See bench/README.md. Timings never fail the run: it exits 0 unless an engine is broken
// (a CLI call fails, a daemon does not start), 2 on bad arguments, 130 when interrupted.
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bridgedEngines, hostHeader, interruptSignal, parseEngineNames, positiveInt, progress, requireRoot, runScript, startHostInfo, writeRecord, parseBenchArgs } from './lib/harness.js';
import { measureEngines } from './lib/latency.js';
import { TARGETS, renderReport } from './lib/report.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node --import tsx bench/run-latency.ts [options]
  --runs N          timed runs of 'run --rm busybox true' per client (default 20)
  --warmup N        untimed runs before them (default 2)
  --detached N      containers in the 'run -d busybox sleep 600' batch (default 50)
  --engines LIST    docker,berth (default both)
  --network MODE    add '--network MODE' to every run (default: none added; see README)
  --no-docker-cli   do not also time the docker CLI against berthd
  --no-build        do not run scripts/build.mjs before starting berthd
  --keep            leave the daemons running at the end
  --dir DIR         state directory (default /tmp/berth-bench)
  --json PATH       results file (default bench/results/latest-latency.json)`;


async function main(): Promise<number> {
  const parsed = parseBenchArgs(
    {
      runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '2' },
      detached: { type: 'string', default: '50' },
      network: { type: 'string' },
      'no-docker-cli': { type: 'boolean', default: false },
    },
    { dir: '/tmp/berth-bench', json: join(repoRoot, 'bench/results/latest-latency.json') },
  );
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = positiveInt('runs', parsed.runs!, 1);
  const warmup = positiveInt('warmup', parsed.warmup!, 0);
  const detached = positiveInt('detached', parsed.detached!, 1);
  const wanted = parseEngineNames(parsed.engines!);
  requireRoot('run-latency', 'it starts daemons and reads their memory');
  const dir = resolve(parsed.dir!);
  const { engines, dockerCli } = await bridgedEngines(wanted, { repoRoot, dir, keep: parsed.keep!, build: !parsed['no-build'], withDockerCli: !parsed['no-docker-cli'] });

  const signal = interruptSignal();
  const config = {
    runs,
    warmup,
    detached,
    runArgs: parsed.network ? ['--network', parsed.network] : [],
    progress,
    signal,
  };
  const finishHostInfo = startHostInfo(dockerCli);
  const results = await measureEngines(engines, config);
  const host = await finishHostInfo();

  console.log(
    `\n${hostHeader('berth vs Docker', host)}` +
      `\n${runs} timed runs after ${warmup} warm-up(s); ${detached} detached; run args: ${config.runArgs.join(' ') || '(none)'}\n`,
  );
  console.log(renderReport(results, detached));

  const jsonPath = resolve(parsed.json!);
  await writeRecord(jsonPath, {
    date: new Date().toISOString(),
    host,
    config: { runs, warmup, detached, runArgs: config.runArgs },
    targets: TARGETS,
    results,
  });
  console.log(`\nresults: ${jsonPath}`);

  if (signal.aborted) return 130;
  return results.some((r) => r.status === 'broken') ? 1 : 0;
}

await runScript(USAGE, main);
