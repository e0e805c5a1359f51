// bench/registry-transfer.ts end to end, both engines, a small image, in a directory of its
// own: both engines push and pull the same image (same digest, same ID), and afterwards no
// daemon, mount or file of the run is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../bench/lib/command.js';
import { mountsUnder } from '../../bench/lib/mounts.js';
import { listProcesses } from '../../bench/lib/proc.js';
import type { RegistryEngineResult } from '../../bench/lib/registry-bench.js';
import type { RandomImage } from '../../bench/lib/random-image.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

test('registry-transfer pushes and pulls the same image with both engines and cleans up', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to run the benchmark harness test' : !haveDocker && 'dockerd is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/bench-registry-test-');
  const json = join(dir + '-results', 'r.json');
  t.after(async () => {
    await runCommand('bash', [join(repoRoot, 'scripts/reference-dockerd.sh'), 'stop'], { ...process.env, REFDOCKER_DIR: dir });
    await rm(dir, { recursive: true, force: true });
    await rm(dir + '-results', { recursive: true, force: true });
  });

  const r = await runCommand(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'bench/registry-transfer.ts'),
    '--layers', '2', '--layer-mib', '4', '--rounds', '1', '--dir', dir, '--json', json,
  ]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /push, median\s+\d+\.\d\d s\s+[\d.–]+\s+\d+\.\d\d s\s+[\d.–]+\s+\d+\.\d\d\s+≤ 0\.67/);
  assert.match(r.stdout, /pull, median\s+\d+\.\d\d s/);

  const record = JSON.parse(await readFile(json, 'utf8')) as { image: RandomImage; results: RegistryEngineResult[] };
  assert.match(record.image.id, /^sha256:[0-9a-f]{64}$/);
  assert.ok(record.image.bytes > 8 * 1024 * 1024);
  assert.deepEqual(record.results.map((e) => e.engine), ['docker', 'berth']);
  for (const e of record.results) {
    assert.equal(e.status, 'ok', `${e.engine}: ${e.error}`);
    assert.equal(e.samples.push.length, 1, e.engine);
    assert.equal(e.samples.pull.length, 1, e.engine);
    assert.ok([...e.samples.push, ...e.samples.pull].every((ms) => ms > 0), e.engine);
    assert.equal(e.summary.push?.n, 1);
  }
  // Same config, same layers, same (uncompressed) layer tars: both sides produced a manifest;
  // the digests may differ (each engine gzips on its own), but every round has one.
  for (const e of record.results) assert.match(e.digests[0] ?? '', /^sha256:[0-9a-f]{64}$/);

  assert.equal(existsSync(dir), false, `${dir} still exists`);
  assert.deepEqual(await mountsUnder([dir]), []);
  assert.deepEqual((await listProcesses()).filter((p) => p.cmdline.includes(dir)).map((p) => p.cmdline), []);
});
