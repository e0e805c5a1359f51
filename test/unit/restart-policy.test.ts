import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKOFF_MAX_MS,
  RestartManager,
  nextBackoff,
  policyWantsRestart,
  restartPolicyError,
  startsAtBoot,
  type RestartTimers,
} from '../../src/container/restart-manager.js';
import { ZERO_TIME, type ContainerRecord } from '../../src/container/types.js';

const policy = (Name: string, MaximumRetryCount = 0) => ({ Name, MaximumRetryCount });

test('policyWantsRestart follows moby restartmanager', () => {
  const cases: Array<[string, number, number, boolean, number, boolean]> = [
    // policy, max, exitCode, manuallyStopped, restartCount, expected
    ['no', 0, 1, false, 0, false],
    ['', 0, 1, false, 0, false],
    ['bogus', 0, 1, false, 0, false],
    ['always', 0, 0, false, 0, true],
    ['always', 0, 137, true, 99, true], // stop/kill end it through cancel(), not here
    ['unless-stopped', 0, 0, false, 5, true],
    ['unless-stopped', 0, 1, true, 0, false],
    ['on-failure', 0, 0, false, 0, false],
    ['on-failure', 0, 1, false, 1000, true], // 0: no maximum
    ['on-failure', 2, 1, false, 0, true],
    ['on-failure', 2, 1, false, 1, true],
    ['on-failure', 2, 1, false, 2, false],
    ['on-failure', 2, 0, false, 0, false],
    ['on-failure', 2, 1, true, 0, true], // a kill without cancel is still a failure
  ];
  for (const [name, max, exitCode, manuallyStopped, restartCount, want] of cases) {
    assert.equal(policyWantsRestart(policy(name, max), { exitCode, manuallyStopped, restartCount }), want, `${name}:${max} exit ${exitCode} manual ${manuallyStopped} count ${restartCount}`);
  }
  assert.equal(policyWantsRestart(undefined, { exitCode: 1, manuallyStopped: false, restartCount: 0 }), false);
});

test('back-off: 100 ms doubling to a minute, reset after 10 s of running', () => {
  let t = 0;
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) seen.push((t = nextBackoff(t, 50)));
  assert.deepEqual(seen, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(nextBackoff(51200, 9_999), BACKOFF_MAX_MS);
  assert.equal(nextBackoff(51200, 10_000), 100);
  assert.equal(nextBackoff(0, 0), 100);
  assert.equal(nextBackoff(0, -5), 100); // clock skew: a negative run time is a quick exit
});

function rec(over: { State?: Partial<ContainerRecord['State']>; policy?: ReturnType<typeof policy>; RestartCount?: number; manual?: boolean }): ContainerRecord {
  return {
    Id: 'x',
    Created: '',
    Path: 'sh',
    Args: [],
    State: {
      Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
      Pid: 0, ExitCode: 0, Error: '', StartedAt: '2024-01-01T00:00:00Z', FinishedAt: '2024-01-01T00:00:01Z',
      ...over.State,
    },
    Image: 'sha256:x',
    Name: '/x',
    RestartCount: over.RestartCount ?? 0,
    Config: {} as ContainerRecord['Config'],
    HostConfig: { RestartPolicy: over.policy ?? policy('always') } as ContainerRecord['HostConfig'],
    ImageChainId: null,
    ...(over.manual ? { HasBeenManuallyStopped: true } : {}),
  };
}

test('startsAtBoot: what dockerd restarts when it starts', () => {
  const cases: Array<[string, ContainerRecord, boolean]> = [
    ['always, exited', rec({}), true],
    ['always, stopped by the user', rec({ manual: true }), true],
    ['unless-stopped, died', rec({ policy: policy('unless-stopped') }), true],
    ['unless-stopped, stopped by the user', rec({ policy: policy('unless-stopped'), manual: true }), false],
    ['no', rec({ policy: policy('no') }), false],
    ['on-failure, exit 1', rec({ policy: policy('on-failure'), State: { ExitCode: 1 } }), true],
    ['on-failure, exit 0', rec({ policy: policy('on-failure'), State: { ExitCode: 0 } }), false],
    ['on-failure:2, retries used', rec({ policy: policy('on-failure', 2), State: { ExitCode: 1 }, RestartCount: 2 }), false],
    ['never started', rec({ State: { Status: 'created', StartedAt: ZERO_TIME } }), false],
    ['running', rec({ State: { Status: 'running', Running: true } }), false],
    ['paused', rec({ State: { Status: 'paused', Running: true, Paused: true } }), false],
    ['dead', rec({ State: { Status: 'dead', Dead: true } }), false],
    ['being removed', rec({ State: { Status: 'removing' } }), false],
  ];
  for (const [what, r, want] of cases) assert.equal(startsAtBoot(r), want, what);
});

class FakeTimers implements RestartTimers {
  private next = 1;
  readonly live = new Map<number, { fn: () => void; ms: number }>();
  set(fn: () => void, ms: number): unknown {
    const h = this.next++;
    this.live.set(h, { fn, ms });
    return h;
  }
  clear(h: unknown): void {
    this.live.delete(h as number);
  }
  fireAll(): void {
    const due = [...this.live.entries()];
    this.live.clear();
    for (const [, t] of due) t.fn();
  }
}

const facts = (exitCode = 1, ranForMs = 5, restartCount = 0) => ({ exitCode, manuallyStopped: false, restartCount, ranForMs });

test('RestartManager: delays grow per container, and a long run resets them', () => {
  const m = new RestartManager(new FakeTimers());
  const always = policy('always');
  assert.deepEqual([1, 2, 3].map(() => m.afterExit('a', always, facts())), [100, 200, 400]);
  assert.equal(m.afterExit('b', always, facts()), 100, 'another container has its own back-off');
  assert.equal(m.afterExit('a', always, facts(0, 10_000)), 100);
});

test('RestartManager: the back-off advances even when the policy says no', () => {
  const m = new RestartManager(new FakeTimers());
  const onFailure = policy('on-failure');
  assert.equal(m.afterExit('a', onFailure, facts(1)), 100);
  assert.equal(m.afterExit('a', onFailure, facts(0)), null);
  assert.equal(m.afterExit('a', onFailure, facts(1)), 400);
  assert.equal(m.afterExit('a', policy('no'), facts(1)), null);
  assert.equal(m.afterExit('a', undefined, facts(1)), null);
});

test('RestartManager: schedule runs once; cancel calls off the pending restart and all later ones', () => {
  const timers = new FakeTimers();
  const m = new RestartManager(timers);
  let runs = 0;
  const delay = m.afterExit('a', policy('always'), facts())!;
  m.schedule('a', delay, () => runs++);
  assert.equal(m.isPending('a'), true);
  assert.equal([...timers.live.values()][0]!.ms, 100);
  assert.equal(m.afterExit('a', policy('always'), facts()), null, 'no second decision while one is pending');
  timers.fireAll();
  assert.equal(runs, 1);
  assert.equal(m.isPending('a'), false);

  m.schedule('a', m.afterExit('a', policy('always'), facts())!, () => runs++);
  assert.equal(m.cancel('a'), true);
  assert.equal(timers.live.size, 0);
  timers.fireAll();
  assert.equal(runs, 1);
  assert.equal(m.isCanceled('a'), true);
  assert.equal(m.afterExit('a', policy('always'), facts()), null, 'cancelled until the user starts it');
  assert.equal(m.cancel('a'), false, 'nothing pending any more');

  m.reset('a');
  assert.equal(m.isCanceled('a'), false);
  assert.equal(m.afterExit('a', policy('always'), facts()), 100, 'a user start begins afresh');
});

test('RestartManager: reset (remove) clears a pending timer', () => {
  const timers = new FakeTimers();
  const m = new RestartManager(timers);
  m.schedule('a', 100, () => assert.fail('must not run'));
  m.reset('a');
  assert.equal(timers.live.size, 0);
  m.reset('never-seen');
});

test('restartPolicyError: moby\'s validateRestartPolicy messages', () => {
  const onlyOnFailure = "invalid restart policy: maximum retry count can only be used with 'on-failure'";
  const cases: Array<[{ Name?: string; MaximumRetryCount?: number } | undefined, string | null]> = [
    [undefined, null],
    [{}, null],
    [policy('', 123), null], // kept for old clients
    [policy('', -1), null],
    [policy('no'), null],
    [policy('always'), null],
    [policy('unless-stopped'), null],
    [policy('on-failure'), null],
    [policy('on-failure', 5), null],
    [policy('always', 3), onlyOnFailure],
    [policy('unless-stopped', 1), onlyOnFailure],
    [policy('no', 2), onlyOnFailure],
    [policy('always', -3), `${onlyOnFailure} and cannot be negative`],
    [policy('on-failure', -1), 'invalid restart policy: maximum retry count cannot be negative'],
    [policy('sometimes'), "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"],
  ];
  for (const [p, want] of cases) assert.equal(restartPolicyError(p), want, JSON.stringify(p));
});
