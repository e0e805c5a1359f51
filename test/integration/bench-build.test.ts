// bench/build.ts end to end, both engines, one repetition, in a directory of its own: every
// figure is there for every client, the rebuilds were served from the cache, and afterwards
// no daemon, mount, bridge, process or temp file of the run is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBridges } from '../../bench/lib/bench-network.js';
import type { BuildEngineResult } from '../../bench/lib/build-bench.js';
import { CACHEABLE_STEPS } from '../../bench/lib/build-context.js';
import { runCommand } from '../../bench/lib/command.js';
import { mountsUnder } from '../../bench/lib/mounts.js';
import { listProcesses } from '../../bench/lib/proc.js';
import { removeBridgesAndRules } from '../helpers/network.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

test('build bench times cold and cached builds on both engines and cleans up', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to run the benchmark harness test' : !haveDocker && 'dockerd is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/bench-build-test-');
  const json = join(dir + '-results', 'r.json');
  // The bridge name depends only on the directory (bench-network.ts).
  const { b: bridge } = await benchBridges(dir, ['b']);
  let contextDir: string | undefined;
  t.after(async () => {
    await runCommand('bash', [join(repoRoot, 'scripts/reference-dockerd.sh'), 'stop'], { ...process.env, REFDOCKER_DIR: dir });
    removeBridgesAndRules([bridge!.name]);
    await rm(dir, { recursive: true, force: true });
    await rm(dir + '-results', { recursive: true, force: true });
    if (contextDir) await rm(contextDir, { recursive: true, force: true });
  });

  const r = await runCommand(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'bench/build.ts'),
    '--runs', '1', '--warmup', '0', '--mb', '4', '--dir', dir, '--json', json,
  ]);
  contextDir = /context: .* at (\S+)/.exec(r.stderr)?.[1];
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /cold build \(--no-cache\), median\s+\d+\.\d{3} s\s+\S+\s+\d+\.\d{3} s\s+\S+\s+\d+\.\d{3} s/);
  assert.match(r.stdout, /fully cached rebuild, median\s+\d+\.\d{3} s/);
  assert.match(r.stdout, /\d+\.\d{2} ×\s+\d+\.\d{2} ×\s+≤ 0\.5 × docker/);

  const record = JSON.parse(await readFile(json, 'utf8')) as { config: { contextBytes: number }; results: BuildEngineResult[] };
  assert.equal(record.config.contextBytes, 4_000_000);
  assert.deepEqual(record.results.map((e) => e.engine), ['docker', 'berth']);
  // berth's warm CLI is a third column when the launcher was built.
  assert.deepEqual(record.results.map((e) => e.clients.slice(0, 2).map((c) => c.client)), [['docker CLI'], ['berth CLI', 'docker CLI']]);
  for (const e of record.results) {
    assert.equal(e.status, 'ok', `${e.engine}: ${e.error}`);
    for (const c of e.clients) {
      const who = `${e.engine} via ${c.client}`;
      assert.equal(c.cold?.samples.length, 1, who);
      assert.equal(c.cached?.samples.length, 1, who);
      assert.ok([...c.cold!.samples, ...c.cached!.samples].every((ms) => ms > 0), who);
      // Not a timing: the rebuild really was served from the cache on every step.
      assert.deepEqual(c.cacheHits, [CACHEABLE_STEPS], who);
    }
  }

  assert.ok(contextDir, 'the bench names its context directory');
  assert.equal(existsSync(contextDir), false, `${contextDir} still exists`);
  assert.equal(existsSync(dir), false, `${dir} still exists`);
  assert.deepEqual(await mountsUnder([dir]), []);
  assert.deepEqual((await listProcesses()).filter((p) => p.cmdline.includes(dir)).map((p) => p.cmdline), []);
  assert.equal(existsSync(`/sys/class/net/${bridge!.name}`), false, `bridge ${bridge!.name} is left`);
});
