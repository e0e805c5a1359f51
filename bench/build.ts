// Image builds, berth against a reference Docker in the same run: the same 4-step Dockerfile
// and ~20 MB context, cold (--no-cache) and fully cached, through the docker CLI's legacy
// builder against both daemons and through `berth build` against berthd.
//
//   node --import tsx bench/build.ts [--runs 5] [--warmup 1] [--mb 20]
//
// See bench/README.md. Timings never fail the run: it exits 0 unless an engine is broken,
// 2 on bad arguments, 130 when interrupted.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureBuilds } from './lib/build-bench.js';
import { BUILD_DOCKERFILE, makeBuildContext, removeBuildContext } from './lib/build-context.js';
import { BUILD_TARGETS, renderBuildReport } from './lib/build-report.js';
import { bridgedEngines, hostHeader, interruptSignal, parseEngineNames, positiveInt, progress, requireRoot, runScript, startHostInfo, writeRecord, parseBenchArgs } from './lib/harness.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node --import tsx bench/build.ts [options]
  --runs N          timed repetitions of (cold build, cached rebuild) per client (default 5)
  --warmup N        untimed repetitions before them (default 1)
  --mb N            megabytes (10^6 bytes) of random data in the context (default 20)
  --engines LIST    docker,berth (default both)
  --no-build        do not run scripts/build.mjs before starting berthd
  --berthd FILE     run this daemon bundle instead of dist/berthd.mjs (to compare two builds;
                    see bench/README.md)
  --keep            leave the daemons running at the end
  --dir DIR         state directory (default /tmp/berth-bench-build)
  --json PATH       results file (default bench/results/latest-build.json)`;

async function main(): Promise<number> {
  const parsed = parseBenchArgs(
    {
      runs: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      mb: { type: 'string', default: '20' },
      berthd: { type: 'string' },
    },
    { dir: '/tmp/berth-bench-build', json: join(repoRoot, 'bench/results/latest-build.json') },
  );
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = positiveInt('runs', parsed.runs!, 1);
  const warmup = positiveInt('warmup', parsed.warmup!, 0);
  const mb = positiveInt('mb', parsed.mb!, 1);
  const wanted = parseEngineNames(parsed.engines!);
  requireRoot('build', 'it starts daemons');
  // The docker CLI 28 would use BuildKit, which dockerd 20.10 has and berthd does not: the
  // legacy builder (POST /build) on both sides keeps the client the same.
  process.env.DOCKER_BUILDKIT = '0';
  const dir = resolve(parsed.dir!);
  const { engines, dockerCli } = await bridgedEngines(wanted, {
    repoRoot, dir, keep: parsed.keep!, build: !parsed['no-build'], withDockerCli: true, berthdBundle: parsed.berthd && resolve(parsed.berthd),
  });

  const signal = interruptSignal();
  const context = await makeBuildContext(mb);
  const finishHostInfo = startHostInfo(dockerCli);
  let results;
  try {
    results = await measureBuilds(engines, { runs, warmup, context, progress, signal });
  } finally {
    await removeBuildContext(context);
  }
  const host = await finishHostInfo();

  console.log(
    `\n${hostHeader('docker build (legacy builder), berth vs Docker', host)}` +
      `\n${runs} timed repetitions after ${warmup} warm-up(s); context ${(context.bytes / 1e6).toFixed(1)} MB` +
      ` in ${context.files} files; ranges are min–max in seconds\n`,
  );
  console.log(renderBuildReport(results));

  const jsonPath = resolve(parsed.json!);
  await writeRecord(jsonPath, {
    date: new Date().toISOString(),
    host,
    config: { runs, warmup, contextBytes: context.bytes, contextFiles: context.files, dockerfile: BUILD_DOCKERFILE },
    targets: BUILD_TARGETS,
    results,
  });
  console.log(`\nresults: ${jsonPath}`);

  if (signal.aborted) return 130;
  return results.some((r) => r.status === 'broken') ? 1 : 0;
}

await runScript(USAGE, main);
