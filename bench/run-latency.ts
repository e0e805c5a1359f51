// Side-by-side latency and memory benchmark: berth against a reference Docker.
//
//   node --import tsx bench/run-latency.ts [--runs 20] [--detached 50] [--engines docker,berth]
//
// See bench/README.md. Timings never fail the run: it exits 0 unless an engine is broken
// (a CLI call fails, a daemon does not start), 2 on bad arguments, 130 when interrupted.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BerthEngine } from './lib/berth-engine.js';
import { runCommand } from './lib/command.js';
import { ReferenceDocker, defaultDockerCli } from './lib/docker-engine.js';
import type { Engine } from './lib/engine.js';
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

function positiveInt(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        runs: { type: 'string', default: '20' },
        warmup: { type: 'string', default: '2' },
        detached: { type: 'string', default: '50' },
        engines: { type: 'string', default: 'docker,berth' },
        network: { type: 'string' },
        'no-docker-cli': { type: 'boolean', default: false },
        'no-build': { type: 'boolean', default: false },
        keep: { type: 'boolean', default: false },
        dir: { type: 'string', default: '/tmp/berth-bench' },
        json: { type: 'string', default: join(repoRoot, 'bench/results/latest-latency.json') },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const runs = positiveInt('runs', parsed.runs!, 1);
  const warmup = positiveInt('warmup', parsed.warmup!, 0);
  const detached = positiveInt('detached', parsed.detached!, 1);
  const wanted = parsed.engines!.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((e) => e !== 'docker' && e !== 'berth');
  if (unknown.length || wanted.length === 0) {
    console.error(`--engines takes docker and/or berth, got ${JSON.stringify(parsed.engines)}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('run-latency must run as root (it starts daemons and reads their memory)');
    return 2;
  }
  const dir = resolve(parsed.dir!);
  const dockerCli = defaultDockerCli();

  const engines: Engine[] = [];
  if (wanted.includes('docker')) {
    engines.push(new ReferenceDocker({ repoRoot, dir, dockerCli, keep: parsed.keep! }));
  }
  if (wanted.includes('berth')) {
    engines.push(
      new BerthEngine({
        repoRoot, dir, dockerCli,
        build: !parsed['no-build'],
        withDockerCli: !parsed['no-docker-cli'],
        keep: parsed.keep!,
      }),
    );
  }

  const abort = new AbortController();
  const onSignal = (sig: string) => {
    if (abort.signal.aborted) return;
    console.error(`\n${sig}: stopping after the current call and cleaning up`);
    abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const config = {
    runs,
    warmup,
    detached,
    runArgs: parsed.network ? ['--network', parsed.network] : [],
    progress: (line: string) => console.error(`· ${line}`),
    signal: abort.signal,
  };
  const loadBefore = loadavg();
  const results = await measureEngines(engines, config);

  const loadAfter = loadavg();
  const dockerVersion = await runCommand(dockerCli, ['--version']).then((r) => r.stdout.trim(), () => '');
  const dockerdVersion = await runCommand('dockerd', ['--version']).then((r) => r.stdout.trim(), () => '');
  console.log(
    `\nberth vs Docker on ${hostname()} (kernel ${release()}, node ${process.version})` +
      `\nreference: ${dockerdVersion || 'dockerd ?'}, client ${dockerVersion || '?'}` +
      `\n${runs} timed runs after ${warmup} warm-up(s); ${detached} detached; run args: ${config.runArgs.join(' ') || '(none)'}` +
      // Other work on the machine skews timings; the load average says how much there was.
      `\n${cpus().length} CPUs, load average ${loadBefore[0].toFixed(2)} before, ${loadAfter[0].toFixed(2)} after\n`,
  );
  console.log(renderReport(results, detached));

  const jsonPath = resolve(parsed.json!);
  await mkdir(dirname(jsonPath), { recursive: true });
  const record = {
    date: new Date().toISOString(),
    host: {
      hostname: hostname(), kernel: release(), node: process.version, cpus: cpus().length,
      dockerd: dockerdVersion, dockerCli: dockerVersion,
      loadavg1: { before: loadBefore[0], after: loadAfter[0] },
    },
    config: { runs, warmup, detached, runArgs: config.runArgs },
    targets: TARGETS,
    results,
  };
  await writeFile(jsonPath, JSON.stringify(record, null, 2) + '\n');
  console.log(`\nresults: ${jsonPath}`);

  if (abort.signal.aborted) return 130;
  return results.some((r) => r.status === 'broken') ? 1 : 0;
}

process.exitCode = await main();
