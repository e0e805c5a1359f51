import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDaemonConfig, parseDaemonArgs } from '../../src/daemon/config.js';

test('flags with Docker names', () => {
  const { values } = parseDaemonArgs(['-H', 'unix:///a.sock', '--host=tcp://127.0.0.1:2375', '--data-root', '/d', '-D']);
  assert.deepEqual(values.hosts, ['unix:///a.sock', 'tcp://127.0.0.1:2375']);
  assert.equal(values['data-root'], '/d');
  assert.equal(values.debug, true);
  assert.throws(() => parseDaemonArgs(['--nope']), /unknown flag: --nope/);
});

test('daemon.json: keys, unknown keys and conflicts as Docker reports them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'daemon.json');
  await writeFile(file, JSON.stringify({ 'data-root': '/x', debug: true }));
  const c = await loadDaemonConfig(['--config-file', file]);
  assert.ok(typeof c === 'object');
  assert.equal(c.dataRoot, '/x');
  assert.equal(c.execRoot, '/run/berth');
  await assert.rejects(loadDaemonConfig(['--config-file', file, '--data-root', '/y']), /specified both as a flag and in the configuration file: data-root/);
  await writeFile(file, JSON.stringify({ bogus: 1 }));
  await assert.rejects(loadDaemonConfig(['--config-file', file]), /don't match any configuration option: bogus/);
});
