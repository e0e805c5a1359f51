// exec and stats latency, berth against a reference Docker in the same run: `exec <c> true`,
// `exec -i <c> cat` and `stats --no-stream <c>` against one running busybox per engine.
//
//   node --import tsx bench/exec-stats.ts [--runs 20] [--warmup 2] [--engines docker,berth]
//
// See bench/README.md. Timings never fail the run: it exits 0 unless an engine is broken,
// 2 on bad arguments, 130 when interrupted.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTAINER_COMMAND, STDIN_PAYLOAD, measureExecStats } from './lib/exec-stats-bench.js';
import { renderExecStatsReport } from './lib/exec-stats-report.js';
import { bridgedEngines, hostHeader, interruptSignal, parseBenchArgs, parseEngineNames, positiveInt, progress, requireRoot, runScript, startHostInfo, writeRecord } from './lib/harness.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node --import tsx bench/exec-stats.ts [options]
  --runs N          timed calls of each figure per client (default 20)
  --warmup N        untimed rounds before them (default 2)
  --no-stdin        do not time 'exec -i <c> cat' with a small stdin
  --engines LIST    docker,berth (default both)
  --no-docker-cli   do not also time the docker CLI against berthd
  --no-build        do not run scripts/build.mjs before starting berthd
  --keep            leave the daemons running at the end
  --dir DIR         state directory (default /tmp/berth-bench-exec-stats)
  --json PATH       results file (default bench/results/latest-exec-stats.json)`;

async function main(): Promise<number> {
  const parsed = parseBenchArgs(
    {
      runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '2' },
      'no-stdin': { type: 'boolean', default: false },
      'no-docker-cli': { type: 'boolean', default: false },
    },
    { dir: '/tmp/berth-bench-exec-stats', json: join(repoRoot, 'bench/results/latest-exec-stats.json') },
  );
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = positiveInt('runs', parsed.runs!, 1);
  const warmup = positiveInt('warmup', parsed.warmup!, 0);
  const stdin = !parsed['no-stdin'];
  const wanted = parseEngineNames(parsed.engines!);
  requireRoot('exec-stats', 'it starts daemons');
  const dir = resolve(parsed.dir!);
  const { engines, dockerCli } = await bridgedEngines(wanted, { repoRoot, dir, keep: parsed.keep!, build: !parsed['no-build'], withDockerCli: !parsed['no-docker-cli'] });

  const signal = interruptSignal();
  const finishHostInfo = startHostInfo(dockerCli);
  const results = await measureExecStats(engines, { runs, warmup, stdin, progress, signal });
  const host = await finishHostInfo();

  console.log(
    `\n${hostHeader('exec and stats, berth vs Docker', host)}` +
      `\n${runs} timed calls per figure and client after ${warmup} warm-up round(s); container: run -d ${CONTAINER_COMMAND.join(' ')}\n`,
  );
  console.log(renderExecStatsReport(results));

  const jsonPath = resolve(parsed.json!);
  await writeRecord(jsonPath, {
    date: new Date().toISOString(),
    host,
    config: { runs, warmup, stdinBytes: stdin ? STDIN_PAYLOAD.length : 0, container: CONTAINER_COMMAND },
    results,
  });
  console.log(`\nresults: ${jsonPath}`);

  if (signal.aborted) return 130;
  return results.some((r) => r.status === 'broken') ? 1 : 0;
}

await runScript(USAGE, main);
