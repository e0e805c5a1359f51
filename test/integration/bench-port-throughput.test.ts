// bench/port-throughput.ts end to end, both engines, small numbers, in a directory of its
// own: every figure is there, each path is the one it is named for, and afterwards no
// daemon, bridge, iptables rule, docker-proxy or file of the run is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BridgeSpec } from '../../bench/lib/bench-network.js';
import { runCommand } from '../../bench/lib/command.js';
import { mountsUnder } from '../../bench/lib/mounts.js';
import type { PortEngineResult } from '../../bench/lib/port-bench.js';
import { listProcesses } from '../../bench/lib/proc.js';
import { removeBridgesAndRules, rulesMentioning } from '../helpers/network.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

test('port-throughput measures both paths of both engines and cleans up', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to run the benchmark harness test' : !haveDocker && 'dockerd is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/bench-ports-test-');
  const json = join(dir + '-results', 'r.json');
  let bridges: BridgeSpec[] = [];
  t.after(async () => {
    await runCommand('bash', [join(repoRoot, 'scripts/reference-dockerd.sh'), 'stop'], { ...process.env, REFDOCKER_DIR: dir });
    removeBridgesAndRules(bridges.map((b) => b.name));
    await rm(dir, { recursive: true, force: true });
    await rm(dir + '-results', { recursive: true, force: true });
  });

  const r = await runCommand(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'bench/port-throughput.ts'),
    '--mib', '4', '--rounds', '2', '--requests', '10', '--dir', dir, '--json', json,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /upload via 127\.0\.0\.1 \(proxy\)\s+\d+ MB\/s\s+\d+–\d+\s+\d+ MB\/s/);
  assert.match(r.stdout, /download via host address \(DNAT\)\s+\d+ MB\/s/);

  const record = JSON.parse(await readFile(json, 'utf8')) as {
    config: { dnatAddress: string | null; bridges: Record<string, BridgeSpec> };
    results: PortEngineResult[];
  };
  bridges = Object.values(record.config.bridges);
  assert.deepEqual(record.results.map((e) => e.engine), ['docker', 'berth']);
  const host = record.config.dnatAddress;
  assert.ok(host, 'this host has a non-loopback address');
  for (const e of record.results) {
    assert.equal(e.status, 'ok', `${e.engine}: ${e.error}`);
    assert.deepEqual(e.notes.filter((n) => /not through|not DNAT/.test(n)), [], e.engine);
    // Through the proxy the container sees its gateway, through DNAT the host's address.
    assert.equal(e.paths.proxy?.peer, e.gateway, e.engine);
    assert.equal(e.paths.dnat?.peer, host, e.engine);
    for (const key of ['upload', 'download', 'connect', 'cpu-upload', 'cpu-download', 'cpu-connect'] as const) {
      for (const path of ['proxy', 'dnat'] as const) {
        const f = e.figures[`${key}-${path}`];
        assert.equal(f?.samples.length, 2, `${e.engine} ${key}-${path}`);
        if (!key.startsWith('cpu')) assert.ok(f!.samples.every((v) => v > 0), `${e.engine} ${key}-${path}`);
      }
    }
    assert.equal(e.requestMs.proxy?.n, 20);
  }
  // The userland proxies did the copying on the proxy path: Docker's docker-proxy, berthd.
  for (const e of record.results) assert.ok(e.figures['cpu-upload-proxy']!.summary.median > 0, e.engine);

  assert.equal(existsSync(dir), false, `${dir} still exists`);
  assert.deepEqual(await mountsUnder([dir]), []);
  assert.deepEqual((await listProcesses()).filter((p) => p.cmdline.includes(dir)).map((p) => p.cmdline), []);
  const subnets = bridges.map((b) => b.bip.replace(/\.1\/24$/, '.'));
  const proxies = (await listProcesses()).filter((p) => p.comm === 'docker-proxy' && subnets.some((n) => p.cmdline.includes(`-container-ip ${n}`)));
  assert.deepEqual(proxies.map((p) => p.cmdline), []);
  for (const b of bridges) assert.equal(existsSync(`/sys/class/net/${b.name}`), false, `bridge ${b.name} is left`);
  assert.deepEqual(rulesMentioning(bridges.map((b) => b.name)), []);
  const save = (await runCommand('iptables-save', [])).stdout;
  for (const n of subnets) assert.ok(!save.includes(n), `an iptables rule still names ${n}0/24`);
});
