import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon.js';
import { freePort, httpGet, ok, waitFor } from './network-fixtures.js';

// The tutorial's private-registry walkthrough ("部署私有仓库应用") as a user types it on a
// machine that cannot reach Docker Hub: busybox and registry come from Debian's packages
// when their pull fails, then push, catalog, tags, rmi, pull back and run.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
});
after(async () => {
  await d?.cleanup();
});

test('seed: run the registry, push busybox to it, list it, remove it, pull it back and run it', async () => {
  const port = await freePort();
  const reg = `127.0.0.1:${port}`;
  const run = await d.run(['run', '-d', '-p', `${port}:5000`, '--restart=always', '--name', 'registry', 'registry']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Unable to find image 'registry:latest' locally/);
  assert.match(run.stderr, /building registry:latest offline instead/);
  await waitFor('registry answers', () => httpGet('127.0.0.1', port).then(() => true, () => false));
  // `curl -I 127.0.0.1:5000`
  assert.equal((await fetch(`http://${reg}/`, { method: 'HEAD' })).status, 200);

  const pulled = await d.run(['pull', 'busybox']);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /Status: Built busybox:latest offline\ndocker\.io\/library\/busybox:latest\n$/);

  await ok(d, ['tag', 'busybox', `${reg}/busybox`]);
  assert.match(await ok(d, ['push', `${reg}/busybox`]), /latest: digest: sha256:[0-9a-f]{64} size: \d+/);
  const catalog = await fetch(`http://${reg}/v2/_catalog`).then((r) => r.json());
  assert.deepEqual(catalog, { repositories: ['busybox'] });
  const tags = await fetch(`http://${reg}/v2/busybox/tags/list`).then((r) => r.json());
  assert.deepEqual(tags, { name: 'busybox', tags: ['latest'] });

  await ok(d, ['rmi', `${reg}/busybox`]);
  assert.match(await ok(d, ['pull', `${reg}/busybox`], 'docker'), /Status: Downloaded newer image for 127\.0\.0\.1:\d+\/busybox:latest/);
  assert.equal(await ok(d, ['run', '--rm', `${reg}/busybox`, 'echo', 'from the private registry']), 'from the private registry\n');
});
