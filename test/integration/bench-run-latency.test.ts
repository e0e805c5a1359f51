// bench/run-latency.ts end to end against the reference Docker, with small numbers, in a
// directory of its own: the figures are real, and nothing is left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../bench/lib/command.js';
import type { EngineResult } from '../../bench/lib/latency.js';
import { mountsUnder } from '../../bench/lib/mounts.js';
import { listProcesses } from '../../bench/lib/proc.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

test('run-latency measures the reference Docker and cleans up', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to run the benchmark harness test' : !haveDocker && 'dockerd is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/bench-test-');
  const json = join(dir + '-results', 'r.json');
  t.after(async () => {
    await runCommand('bash', [join(repoRoot, 'scripts/reference-dockerd.sh'), 'stop'], { ...process.env, REFDOCKER_DIR: dir });
    await rm(dir + '-results', { recursive: true, force: true });
  });

  const r = await runCommand(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'bench/run-latency.ts'),
    '--engines', 'docker', '--runs', '3', '--warmup', '0', '--detached', '3', '--dir', dir, '--json', json,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /run --rm busybox true, median\s+\d+\.\d{3} s/);
  assert.match(r.stdout, /3 × run -d busybox sleep 600\s+\d+\.\d{3} s/);

  const record = JSON.parse(await readFile(json, 'utf8')) as { results: EngineResult[] };
  const [docker] = record.results;
  assert.equal(docker.engine, 'docker');
  assert.equal(docker.status, 'ok', docker.error);
  assert.equal(docker.clients[0].runRm?.samples.length, 3);
  assert.ok(docker.clients[0].runRm!.samples.every((ms) => ms > 0));
  assert.ok(docker.clients[0].detachedTotalMs! > 0);
  // Idle: dockerd and containerd, no shims. Loaded: plus one shim per running container.
  assert.equal(docker.idle?.monitors, 0);
  assert.deepEqual(Object.keys(docker.idle!.byComm).sort(), ['containerd', 'dockerd']);
  assert.equal(docker.loaded?.running, 3);
  assert.equal(docker.loaded?.monitors, 3);
  assert.equal(docker.loaded!.byComm['containerd-shim']?.count, 3);
  assert.ok(docker.loaded!.pss > docker.idle!.pss);
  assert.ok(docker.loaded!.pss <= docker.loaded!.rss);

  assert.equal(existsSync(dir), false, `${dir} still exists`);
  assert.deepEqual(await mountsUnder([dir]), []);
  assert.deepEqual((await listProcesses()).filter((p) => p.cmdline.includes(dir)).map((p) => p.cmdline), []);
});
