import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { TestDaemon } from '../helpers/daemon.js';

// --restart policies against a real berthd: restarts by policy with back-off, the end of
// on-failure's retries, stop ending them, and the start-up pass after a daemon crash.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

interface Inspected {
  Id: string;
  RestartCount: number;
  State: { Status: string; Running: boolean; Restarting: boolean; ExitCode: number; Pid: number; StartedAt: string; FinishedAt: string };
}

async function inspect(name: string): Promise<Inspected> {
  const r = await d.run(['inspect', name]);
  assert.equal(r.code, 0, r.stderr + d.log);
  return JSON.parse(r.stdout)[0];
}

// Polls the container until `ok` holds (a real condition, checked every 100 ms).
async function until(name: string, ok: (c: Inspected) => boolean, what: string, ms = 30_000): Promise<Inspected> {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = await inspect(name);
    if (ok(c)) return c;
    if (Date.now() > deadline) assert.fail(`${name}: ${what}; last seen ${JSON.stringify({ RestartCount: c.RestartCount, State: c.State })}\n${d.log}`);
    await delay(100);
  }
}

// A negative claim needs a window: for `ms`, the container must stay as `ok` says.
async function staysFor(name: string, ms: number, ok: (c: Inspected) => boolean, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const c = await inspect(name);
    assert.ok(ok(c), `${name}: ${what}; saw ${JSON.stringify({ RestartCount: c.RestartCount, State: c.State })}`);
    await delay(100);
  }
}

async function run(args: string[]): Promise<string> {
  const r = await d.run(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr + d.log);
  return r.stdout.trim();
}

test('on-failure:2 restarts a failing command twice, then leaves it exited', async () => {
  await run(['--name', 'twice', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
  // Between runs the container is "restarting"; the first time it reads exited is the end.
  const c = await until('twice', (x) => x.State.Status === 'exited', 'ends exited');
  assert.equal(c.RestartCount, 2);
  assert.equal(c.State.ExitCode, 1);
  assert.equal(c.State.Restarting, false);
  const events = await d.run(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'container=twice', '--format', '{{.Action}}']);
  const actions = events.stdout.trim().split('\n').filter((a) => a === 'start' || a === 'die');
  assert.deepEqual(actions, ['start', 'die', 'start', 'die', 'start', 'die'], 'die and start per restart, as moby');

  // A start by the user resets the count (moby's ResetRestartManager): two retries again.
  const since = Math.floor(Date.now() / 1000);
  assert.equal((await d.run(['start', 'twice'])).code, 0);
  const again = await until('twice', (x) => x.State.Status === 'exited', 'ends exited again');
  assert.equal(again.RestartCount, 2);
  const more = await d.run(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'container=twice', '--filter', 'event=start', '--format', '{{.Action}}']);
  assert.equal(more.stdout.trim().split('\n').length, 3, more.stdout);
});

test('on-failure does not restart a command that succeeded', async () => {
  await run(['--name', 'fine', '--restart', 'on-failure', 'busybox', 'true']);
  const c = await until('fine', (x) => x.State.Status === 'exited', 'exits');
  assert.equal(c.RestartCount, 0);
});

test('always restarts a command that exits, shown as restarting in between; docker stop ends it', async () => {
  await run(['--name', 'again', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 3']);
  const c = await until('again', (x) => x.RestartCount >= 3, 'restart count grows');
  assert.ok(c.State.Status === 'running' || c.State.Status === 'restarting', c.State.Status);
  assert.equal(c.State.Running, true, 'Docker counts a restarting container as running');
  const seen = await until('again', (x) => x.State.Status === 'restarting', 'is seen restarting');
  assert.equal(seen.State.ExitCode, 3);
  const ps = await d.run(['ps', '--filter', 'name=again', '--format', '{{.Status}}']);
  assert.match(ps.stdout, /^(Restarting \(3\) .* ago|Up .*)\n$/);

  const started = Date.now();
  const stop = await d.docker(['stop', 'again']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'again');
  assert.ok(Date.now() - started < 8_000, 'stopping a restarting container does not wait for a timeout');
  const stopped = await inspect('again');
  assert.equal(stopped.State.Status, 'exited');
  assert.equal(stopped.State.Running, false);
  // The back-off is below 2 s at this count: a restart still scheduled would show within 3 s.
  await staysFor('again', 3_000, (x) => x.State.Status === 'exited' && x.RestartCount === stopped.RestartCount, 'stays stopped');

  // A start by the user lifts the stop: the policy applies again.
  assert.equal((await d.run(['start', 'again'])).code, 0);
  await until('again', (x) => x.State.Status === 'restarting', 'restarts again after a user start');
  assert.equal((await d.docker(['rm', '-f', 'again'])).code, 0, 'rm -f of a restarting container');
  assert.notEqual((await d.run(['inspect', 'again'])).code, 0);
});

test('kill ends an always policy; a process that dies by itself is restarted', async () => {
  await run(['--name', 'victim', '--restart', 'always', 'busybox', 'sleep', '600']);
  const first = await until('victim', (x) => x.State.Running && x.State.Pid > 0, 'runs');
  process.kill(first.State.Pid, 'SIGKILL'); // not through the API: a crash
  const back = await until('victim', (x) => x.RestartCount === 1 && x.State.Status === 'running' && x.State.Pid > 0, 'restarted after a crash');
  assert.notEqual(back.State.Pid, first.State.Pid);
  // moby keeps the last exit's time while the container runs again.
  assert.notEqual(back.State.FinishedAt, '0001-01-01T00:00:00Z');
  assert.ok(Date.parse(back.State.FinishedAt) <= Date.parse(back.State.StartedAt));
  assert.equal((await d.docker(['kill', 'victim'])).code, 0);
  await until('victim', (x) => x.State.Status === 'exited', 'killed');
  await staysFor('victim', 1_500, (x) => x.State.Status === 'exited', 'docker kill is a manual stop');
});

test('after berthd is killed: an always container whose process died meanwhile runs again; unless-stopped stopped by the user stays down', async () => {
  await run(['--name', 'phoenix', '--restart', 'always', 'busybox', 'sleep', '600']);
  await run(['--name', 'keeper', '--restart', 'always', 'busybox', 'sleep', '600']);
  await run(['--name', 'resting', '--restart', 'unless-stopped', 'busybox', 'sleep', '600']);
  assert.equal((await d.run(['stop', '-t', '0', 'keeper', 'resting'])).code, 0);
  const before = await until('phoenix', (x) => x.State.Running && x.State.Pid > 0, 'runs');

  await d.kill9();
  process.kill(before.State.Pid, 'SIGKILL');
  // Gone and reaped by its monitor, which records the exit while no berthd listens.
  for (const deadline = Date.now() + 10_000; await access(`/proc/${before.State.Pid}`).then(() => true, () => false); ) {
    assert.ok(Date.now() < deadline, 'the killed process goes away');
    await delay(50);
  }
  await d.spawn();

  const after = await until('phoenix', (x) => x.State.Status === 'running' && x.State.Pid > 0, 'runs again after the daemon restart');
  assert.notEqual(after.State.Pid, before.State.Pid);
  // Docker's documented rules: `always` comes back at daemon start even after docker stop;
  // `unless-stopped` does not.
  await until('keeper', (x) => x.State.Status === 'running', 'always comes back at daemon start');
  const resting = await inspect('resting');
  assert.equal(resting.State.Status, 'exited');
});

test('a retry count with a policy other than on-failure is refused as moby words it, on run and update', async () => {
  const onlyOnFailure = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
  for (const cli of ['berth', 'docker'] as const) {
    const always = await d.run(['run', '-d', '--restart', 'always:3', 'busybox', 'true'], { cli });
    assert.equal(always.code, 125);
    assert.match(always.stderr, new RegExp(`Error response from daemon: ${onlyOnFailure}\n`));
    const negative = await d.run(['create', '--restart', 'on-failure:-1', 'busybox', 'true'], { cli });
    assert.notEqual(negative.code, 0);
    assert.match(negative.stderr, /invalid restart policy: maximum retry count cannot be negative/);
  }
  await run(['--name', 'upd', 'busybox', 'sleep', '300']);
  const upd = await d.run(['update', '--restart', 'unless-stopped:2', 'upd'], { cli: 'docker' });
  assert.equal(upd.code, 1);
  assert.match(upd.stderr, new RegExp(onlyOnFailure));
  assert.equal((await d.run(['update', '--restart', 'on-failure:2', 'upd'], { cli: 'docker' })).code, 0);
  assert.equal((await d.run(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', 'upd'])).stdout.trim(), 'on-failure:2');
  assert.equal((await d.run(['rm', '-f', 'upd'])).code, 0);
  // Nothing was created by the refused requests.
  assert.equal((await d.run(['ps', '-aq', '-f', 'status=created'])).stdout.trim(), '');
});
