// bench/exec-stats.ts end to end, both engines, two timed rounds, in a directory of its own:
// every figure is there for every client, each stats call printed the container's row, and
// afterwards no daemon, container, mount, bridge or process of the run is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBridges } from '../../bench/lib/bench-network.js';
import { runCommand } from '../../bench/lib/command.js';
import { FIGURE_ORDER, STDIN_PAYLOAD, type ExecStatsEngineResult } from '../../bench/lib/exec-stats-bench.js';
import { mountsUnder } from '../../bench/lib/mounts.js';
import { listProcesses } from '../../bench/lib/proc.js';
import { removeBridgesAndRules } from '../helpers/network.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

test('exec-stats bench times exec and stats on both engines and cleans up', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to run the benchmark harness test' : !haveDocker && 'dockerd is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/bench-exec-stats-test-');
  const json = join(dir + '-results', 'r.json');
  // The bridge name depends only on the directory (bench-network.ts).
  const { b: bridge } = await benchBridges(dir, ['b']);
  t.after(async () => {
    await runCommand('bash', [join(repoRoot, 'scripts/reference-dockerd.sh'), 'stop'], { ...process.env, REFDOCKER_DIR: dir });
    removeBridgesAndRules([bridge!.name]);
    await rm(dir, { recursive: true, force: true });
    await rm(dir + '-results', { recursive: true, force: true });
  });

  const r = await runCommand(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'bench/exec-stats.ts'),
    '--runs', '2', '--warmup', '0', '--dir', dir, '--json', json,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  // docker, berth, berth via docker CLI, then the ratios of the berth columns.
  for (const row of ['exec <c> true', 'exec -i <c> cat \\(1024 B stdin\\)', 'stats --no-stream <c>']) {
    for (const stat of ['median', 'p90']) {
      assert.match(r.stdout, new RegExp(`${row}, ${stat}\\s+\\d+\\.\\d{3} s\\s+\\d+\\.\\d{3} s\\s+\\d+\\.\\d{3} s.*\\d+\\.\\d{2} ×\\s+\\d+\\.\\d{2} ×`));
    }
  }
  assert.match(r.stdout, /load average \d+\.\d{2} before, \d+\.\d{2} after/);
  assert.match(r.stdout, /last stats --no-stream via docker CLI:\n\s+CONTAINER ID\s+NAME\s+CPU %/);

  const record = JSON.parse(await readFile(json, 'utf8')) as {
    host: { loadavg1: { before: number; after: number } };
    config: { runs: number; warmup: number; stdinBytes: number };
    results: ExecStatsEngineResult[];
  };
  assert.deepEqual(record.config, { ...record.config, runs: 2, warmup: 0, stdinBytes: STDIN_PAYLOAD.length });
  assert.equal(typeof record.host.loadavg1.before, 'number');
  assert.deepEqual(record.results.map((e) => e.engine), ['docker', 'berth']);
  assert.deepEqual(record.results[0].clients.map((c) => c.client), ['docker CLI']);
  // The warm CLI follows when dist/berth-launcher was built.
  assert.deepEqual(record.results[1].clients.slice(0, 2).map((c) => c.client), ['berth CLI', 'docker CLI']);
  for (const e of record.results) {
    assert.equal(e.status, 'ok', `${e.engine}: ${e.error}`);
    assert.match(e.container ?? '', /^[0-9a-f]{64}$/);
    for (const c of e.clients) {
      const who = `${e.engine} via ${c.client}`;
      for (const figure of FIGURE_ORDER) {
        const f = c[figure];
        assert.equal(f?.samples.length, 2, `${who}: ${figure}`);
        assert.ok(f!.samples.every((ms) => ms > 0), `${who}: ${figure}`);
        assert.ok(f!.min <= f!.median && f!.median <= f!.p90 && f!.p90 <= f!.max, `${who}: ${figure}`);
      }
      assert.ok(c.lastStats?.includes(e.container!.slice(0, 12)), `${who}: ${c.lastStats}`);
    }
  }

  assert.equal(existsSync(dir), false, `${dir} still exists`);
  assert.deepEqual(await mountsUnder([dir]), []);
  assert.deepEqual((await listProcesses()).filter((p) => p.cmdline.includes(dir)).map((p) => p.cmdline), []);
  assert.equal(existsSync(`/sys/class/net/${bridge!.name}`), false, `bridge ${bridge!.name} is left`);
});
