import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon.js';

let d: TestDaemon;
before(async () => {
  d = await TestDaemon.start();
  assert.equal((await d.run(['image', 'bootstrap', 'busybox'])).code, 0);
});
after(async () => {
  await d?.cleanup();
});

test('events: history with --since/--until, filters, Docker line format', async () => {
  const t0 = Math.floor(Date.now() / 1000) - 1;
  assert.equal((await d.run(['run', '--rm', '--name', 'ev', 'busybox', 'true'])).code, 0);
  assert.equal((await d.run(['tag', 'busybox', 'evtag:1'])).code, 0);
  assert.equal((await d.run(['rmi', 'evtag:1'])).code, 0);
  const t1 = Math.floor(Date.now() / 1000) + 1;
  const r = await d.run(['events', '--since', String(t0), '--until', String(t1), '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const ctr = lines.filter((l) => l.startsWith('container ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(ctr, ['create', 'attach', 'start', 'die', 'destroy'].filter((a) => ctr.includes(a)));
  for (const a of ['create', 'start', 'die', 'destroy']) assert.ok(ctr.includes(a), `no container ${a} event in ${r.stdout}`);
  assert.ok(lines.some((l) => /^image tag /.test(l)), r.stdout);
  assert.ok(lines.some((l) => /^image untag /.test(l)), r.stdout);
  const only = await d.run(['events', '--since', String(t0), '--until', String(t1), '-f', 'event=die', '-f', 'container=ev']);
  assert.equal(only.code, 0, only.stderr);
  const dieLines = only.stdout.trim().split('\n');
  assert.equal(dieLines.length, 1);
  assert.match(dieLines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d) container die [0-9a-f]{64} \(.*exitCode=0.*name=ev.*\)$/);
});
