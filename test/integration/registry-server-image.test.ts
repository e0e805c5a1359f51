import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TestDaemon } from '../helpers/daemon.js';
import { freePort, ok, waitFor } from './network-fixtures.js';

// The `registry` image made offline by `berth image bootstrap registry`, run as the
// seed runs the official one: `run -d -p 5000:5000 --restart=always --name registry
// registry`, then reached through the published port on 127.0.0.1.
let d: TestDaemon;

before(async () => {
  // "dns": upstreams on loopback only, so nothing is ever forwarded off this machine.
  d = await TestDaemon.start({ dns: ['127.0.0.1'] });
});
after(async () => {
  await d?.cleanup();
});

test('bootstrap registry makes registry:latest and registry:2 shaped like the official image', async () => {
  const r = await d.run(['image', 'bootstrap', 'registry']);
  assert.equal(r.code, 0, r.stderr + d.log);
  assert.match(r.stdout, /Tagged registry:latest/);
  assert.match(r.stdout, /Tagged registry:2/);
  const [latest, two] = await Promise.all(['registry:latest', 'registry:2'].map(async (t) => JSON.parse(await ok(d, ['image', 'inspect', t]))[0]));
  assert.equal(latest.Id, two.Id);
  assert.deepEqual(latest.Config.Cmd, ['/usr/local/bin/node', '/berth/registry.mjs', 'serve', '--addr', '0.0.0.0:5000', '--root', '/var/lib/registry']);
  assert.deepEqual(latest.Config.ExposedPorts, { '5000/tcp': {} });
  assert.deepEqual(latest.Config.Volumes, { '/var/lib/registry': {} });
});

test('the registry container answers on the published port and stops cleanly on SIGTERM', async () => {
  const port = await freePort();
  const name = `regsrv-img-${process.pid}`;
  await ok(d, ['run', '-d', '--restart=always', '-p', `127.0.0.1:${port}:5000`, '--name', name, 'registry']);
  const base = `http://127.0.0.1:${port}`;
  const res = await waitFor('the registry to answer', async () => {
    // A try made before node listens must not hang the wait: each has its own deadline.
    const r = await fetch(`${base}/v2/`, { signal: AbortSignal.timeout(3000) });
    return r.status === 200 ? r : null;
  });
  assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  assert.equal(await res.text(), '{}');
  assert.equal((await fetch(base, { method: 'HEAD' })).status, 200);

  // A blob and a manifest through the port land in the container's volume.
  const layer = Buffer.from('layer through the published port');
  const digest = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const up = await fetch(`${base}/v2/seed/busybox/blobs/uploads/?digest=${digest}`, { method: 'POST', body: layer });
  assert.equal(up.status, 201);
  const got = await fetch(`${base}/v2/seed/busybox/blobs/${digest}`);
  assert.equal(await got.text(), layer.toString());
  const ls = await ok(d, ['exec', name, 'sh', '-c', 'find /var/lib/registry -name data | wc -l; netstat -ltn | grep -c ":5000 "']);
  assert.deepEqual(ls.trim().split('\n'), ['1', '1']);

  // node is PID 1 and handles SIGTERM itself: `stop` ends it with status 0, not the
  // 137 of the SIGKILL that follows an ignored SIGTERM.
  await ok(d, ['stop', '-t', '30', name]);
  const state = JSON.parse(await ok(d, ['inspect', name]))[0].State;
  assert.equal(state.ExitCode, 0);
  const logs = await d.run(['logs', name]);
  assert.match(logs.stdout + logs.stderr, /"POST \/v2\/seed\/busybox\/blobs\/uploads\/\?digest=[^"]*" 201 /);
  assert.match(logs.stdout + logs.stderr, /SIGTERM: shutting down/);
});
