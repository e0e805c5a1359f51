// TCP through a published port, berth against a reference Docker in the same run: bulk
// upload and download and short connections, over the userland proxy (127.0.0.1) and over
// DNAT (a non-loopback address of this host).
//
//   node --import tsx bench/port-throughput.ts [--mib 256] [--rounds 5] [--requests 200]
//
// See bench/README.md. Figures never fail the run: it exits 0 unless an engine is broken,
// 2 on bad arguments, 130 when interrupted.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBridges, hostAddress } from './lib/bench-network.js';
import { defaultDockerCli } from './lib/docker-engine.js';
import { UsageError, hostHeader, interruptSignal, makeEngines, parseEngineNames, positiveInt, progress, requireRoot, runScript, startHostInfo, writeRecord, parseBenchArgs } from './lib/harness.js';
import { measurePorts } from './lib/port-bench.js';
import { renderPortReport } from './lib/port-report.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `usage: node --import tsx bench/port-throughput.ts [options]
  --mib N           MiB per upload and per download (default 256)
  --rounds N        timed rounds, after one untimed warm-up round (default 5)
  --requests N      sequential short HTTP requests per round and path (default 200)
  --dnat-address A  host address for the DNAT path (default: this host's first non-loopback
                    IPv4 address, eth* first); 'none' skips the DNAT path
  --engines LIST    docker,berth (default both)
  --no-build        do not run scripts/build.mjs before starting berthd
  --berthd FILE     run this daemon bundle instead of dist/berthd.mjs (to compare two builds;
                    keep it under the repository so that it finds node_modules)
  --keep            leave the daemons running at the end
  --dir DIR         state directory (default /tmp/berth-bench-ports)
  --json PATH       results file (default bench/results/latest-port-throughput.json)`;

async function main(): Promise<number> {
  const parsed = parseBenchArgs(
    {
      mib: { type: 'string', default: '256' },
      rounds: { type: 'string', default: '5' },
      requests: { type: 'string', default: '200' },
      'dnat-address': { type: 'string' },
      berthd: { type: 'string' },
    },
    { dir: '/tmp/berth-bench-ports', json: join(repoRoot, 'bench/results/latest-port-throughput.json') },
  );
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const mib = positiveInt('mib', parsed.mib!, 1);
  const rounds = positiveInt('rounds', parsed.rounds!, 1);
  const requests = positiveInt('requests', parsed.requests!, 1);
  const wanted = parseEngineNames(parsed.engines!);
  requireRoot('port-throughput', 'it starts daemons, bridges and iptables rules');
  const dir = resolve(parsed.dir!);
  const dockerCli = defaultDockerCli();
  const keep = parsed.keep!;
  const rawDnat = parsed['dnat-address'];
  if (rawDnat !== undefined && rawDnat !== 'none' && !/^\d{1,3}(\.\d{1,3}){3}$/.test(rawDnat)) {
    throw new UsageError(`--dnat-address takes an IPv4 address or 'none', got ${JSON.stringify(rawDnat)}`);
  }
  const bridges = await benchBridges(dir, ['b', 'd']);
  const dnatAddress =
    rawDnat === 'none' ? null : rawDnat ?? hostAddress(Object.values(bridges).map((b) => b.name));
  const engines = makeEngines(
    wanted,
    { repoRoot, dir, dockerCli, keep, bridge: bridges.d },
    { repoRoot, dir, dockerCli, keep, build: !parsed['no-build'], withDockerCli: false, bridge: bridges.b!,
      berthdBundle: parsed.berthd && resolve(parsed.berthd) },
  );

  const signal = interruptSignal();
  const config = { mib, rounds, requests, dnatAddress, progress, signal };
  const finishHostInfo = startHostInfo(dockerCli);
  const results = await measurePorts(engines, config);
  const host = await finishHostInfo();

  console.log(
    `\n${hostHeader('TCP through a published port, berth vs Docker', host)}` +
      `\n${rounds} rounds of: ${mib} MiB up, ${mib} MiB down, ${requests} requests, per engine and path;` +
      ` DNAT path via ${dnatAddress ?? '(skipped)'}; MB = 10^6 bytes\n`,
  );
  console.log(renderPortReport(results));

  const jsonPath = resolve(parsed.json!);
  await writeRecord(jsonPath, {
    date: new Date().toISOString(),
    host,
    config: { mib, rounds, requests, dnatAddress, bridges },
    results,
  });
  console.log(`\nresults: ${jsonPath}`);

  if (signal.aborted) return 130;
  return results.some((r) => r.status === 'broken') ? 1 : 0;
}

await runScript(USAGE, main);
