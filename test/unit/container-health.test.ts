import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { healthTimings, mergeHealthcheck, probeCommand, validateHealthcheck } from '../../src/container/health-config.js';
import { applyProbeResult, healthOf, healthSuffix, startingHealth } from '../../src/container/health-state.js';
import { LimitedBuffer, MAX_OUTPUT_BYTES, runProbe, type ProbeExecs } from '../../src/container/health-probe.js';
import { HealthMonitor, healthContainersOf, type HealthContainers } from '../../src/container/health-monitor.js';
import { listContainers, statusText } from '../../src/container/container-view.js';
import { mergeCreateConfig } from '../../src/container/create-config.js';
import type { ExecCreateBody, ExecInspect, StartedExec } from '../../src/container/exec-service.js';
import { EventBus, type EngineEvent } from '../../src/daemon/events.js';
import { parseFlags } from '../../src/cli/flags.js';
import { buildCreateBody, containerFlags } from '../../src/cli/opts/container-opts.js';
import type { HealthConfig } from '../../src/image/types.js';
import { ZERO_TIME, type ContainerHealth, type ContainerRecord, type HealthcheckResult } from '../../src/container/types.js';
import { BerthError, notFound } from '../../src/util/errors.js';

const MS = 1_000_000;
const S = 1000 * MS;

// ---- the CLI's --health-* flags (docker/cli opts.go) ----------------------------

function cliHealth(argv: string[]): HealthConfig | undefined {
  const flags = parseFlags(containerFlags, [...argv, 'busybox'], { interspersed: false });
  return buildCreateBody(flags, 'busybox', [], { env: {}, cwd: '/', readFile: () => Buffer.alloc(0) }).body.Healthcheck ?? undefined;
}

const cliCases: Array<[string[], HealthConfig | undefined]> = [
  [[], undefined],
  [['--health-cmd', 'curl -f http://localhost/'], { Test: ['CMD-SHELL', 'curl -f http://localhost/'] }],
  [
    ['--health-cmd', 'true', '--health-interval', '1s', '--health-timeout', '2s', '--health-start-period', '3s', '--health-start-interval', '500ms', '--health-retries', '4'],
    { Test: ['CMD-SHELL', 'true'], Interval: S, Timeout: 2 * S, StartPeriod: 3 * S, StartInterval: 500 * MS, Retries: 4 },
  ],
  // Timings alone: the image's test stays (merged by the daemon).
  [['--health-retries', '1'], { Retries: 1 }],
  [['--no-healthcheck'], { Test: ['NONE'] }],
];

for (const [argv, want] of cliCases) {
  test(`run ${argv.join(' ') || '(no health flags)'} sends Healthcheck ${JSON.stringify(want)}`, () => {
    assert.deepEqual(cliHealth(argv), want);
  });
}

const cliErrors: Array<[string[], string]> = [
  [['--no-healthcheck', '--health-retries', '2'], '--no-healthcheck conflicts with --health-* options'],
  [['--no-healthcheck', '--health-start-interval', '1s'], '--no-healthcheck conflicts with --health-* options'],
  [['--health-interval', '-1s'], '--health-interval cannot be negative'],
  [['--health-timeout', '-1s'], '--health-timeout cannot be negative'],
  [['--health-retries', '-1'], '--health-retries cannot be negative'],
  [['--health-start-period', '-1s'], '--health-start-period cannot be negative'],
  [['--health-start-interval', '-1ms'], '--health-start-interval cannot be negative'],
];

for (const [argv, msg] of cliErrors) {
  test(`run ${argv.join(' ')} is refused: ${msg}`, () => {
    assert.throws(() => cliHealth(argv), (e: unknown) => e instanceof Error && e.message === msg);
  });
}

// ---- the daemon's validation and merge ---------------------------------------------

const validationErrors: Array<[HealthConfig, string]> = [
  [{ Interval: 500_000 }, 'Interval in Healthcheck cannot be less than 1ms'],
  [{ Interval: -S }, 'Interval in Healthcheck cannot be less than 1ms'],
  [{ Timeout: 1 }, 'Timeout in Healthcheck cannot be less than 1ms'],
  [{ Retries: -1 }, 'Retries in Healthcheck cannot be negative'],
  [{ StartPeriod: 999_999 }, 'StartPeriod in Healthcheck cannot be less than 1ms'],
  [{ StartInterval: 10 }, 'StartInterval in Healthcheck cannot be less than 1ms'],
];

for (const [hc, msg] of validationErrors) {
  test(`create refuses ${JSON.stringify(hc)}: ${msg}`, () => {
    assert.throws(() => validateHealthcheck(hc), (e: unknown) => e instanceof BerthError && e.kind === 'InvalidParameter' && e.message === msg);
  });
}

test('create accepts zero (= default) and >= 1ms values, and no healthcheck at all', () => {
  for (const hc of [undefined, null, {}, { Interval: 0, Timeout: 0, Retries: 0 }, { Interval: MS, Timeout: MS, StartPeriod: MS, StartInterval: MS, Retries: 1 }]) {
    assert.doesNotThrow(() => validateHealthcheck(hc));
  }
});

const image: HealthConfig = { Test: ['CMD-SHELL', 'probe'], Interval: 10 * S, Timeout: 3 * S, Retries: 5 };
const mergeCases: Array<[string, HealthConfig | null | undefined, HealthConfig | null | undefined, HealthConfig | undefined]> = [
  ['neither', undefined, undefined, undefined],
  ['the image only', undefined, image, image],
  ['the user only, zeros left out', { Test: ['CMD', 'true'], Interval: 0, Retries: 2 }, null, { Test: ['CMD', 'true'], Retries: 2 }],
  ['user timings over the image test', { Retries: 1, StartPeriod: S }, image, { Test: ['CMD-SHELL', 'probe'], Interval: 10 * S, Timeout: 3 * S, StartPeriod: S, Retries: 1 }],
  ['user test, image timings', { Test: ['CMD', 'x'] }, image, { Test: ['CMD', 'x'], Interval: 10 * S, Timeout: 3 * S, Retries: 5 }],
  ['--no-healthcheck keeps the timings', { Test: ['NONE'] }, image, { Test: ['NONE'], Interval: 10 * S, Timeout: 3 * S, Retries: 5 }],
  ['an empty user test inherits', { Test: [] }, image, image],
  ['an empty object stays empty', {}, undefined, {}],
];

for (const [name, user, img, want] of mergeCases) {
  test(`merge: ${name}`, () => {
    assert.deepEqual(mergeHealthcheck(user, img), want);
  });
}

test('create: the merged healthcheck sits after Cmd in Config; a bad one is refused before anything else', () => {
  const merged = mergeCreateConfig({ Image: 'img', Healthcheck: { Retries: 1 } }, 'img', { Cmd: ['sh'], Healthcheck: image }, 'f'.repeat(64));
  assert.deepEqual(merged.Config.Healthcheck, { ...image, Retries: 1 });
  const keys = Object.keys(merged.Config);
  assert.equal(keys.indexOf('Healthcheck'), keys.indexOf('Cmd') + 1);
  assert.equal('Healthcheck' in mergeCreateConfig({ Image: 'img' }, 'img', { Cmd: ['sh'] }, 'f'.repeat(64)).Config, false);
  assert.throws(() => mergeCreateConfig({ Image: 'img', Healthcheck: { Retries: -2 } }, 'img', {}, 'f'.repeat(64)), /Retries in Healthcheck cannot be negative/);
});

const probeCases: Array<[HealthConfig | undefined, string[] | undefined, string[] | null]> = [
  [undefined, undefined, null],
  [{}, undefined, null],
  [{ Test: ['NONE'] }, undefined, null],
  [{ Test: ['RUN', 'x'] }, undefined, null],
  [{ Test: ['CMD', 'curl', '-f', 'http://x/'] }, undefined, ['curl', '-f', 'http://x/']],
  [{ Test: ['CMD-SHELL', 'exit 1'] }, undefined, ['/bin/sh', '-c', 'exit 1']],
  [{ Test: ['CMD-SHELL', 'exit 1'] }, ['/bin/bash', '-ec'], ['/bin/bash', '-ec', 'exit 1']],
];

for (const [hc, shell, want] of probeCases) {
  test(`probe command for ${JSON.stringify(hc)}${shell ? ` with shell ${shell.join(' ')}` : ''}`, () => {
    assert.deepEqual(probeCommand(hc, shell), want);
  });
}

test('timings: zero takes dockerd\'s defaults (30s, 30s, 0, 5s, 3)', () => {
  assert.deepEqual(healthTimings({}), { intervalMs: 30_000, timeoutNs: 30 * S, startPeriodMs: 0, startIntervalMs: 5000, retries: 3 });
  assert.deepEqual(healthTimings({ Interval: 200 * MS, Timeout: 50 * MS, StartPeriod: S, StartInterval: 100 * MS, Retries: 1 }), {
    intervalMs: 200, timeoutNs: 50 * MS, startPeriodMs: 1000, startIntervalMs: 100, retries: 1,
  });
});

// ---- the state machine (handleProbeResult) ------------------------------------------

const STARTED = '2026-01-01T00:00:00.000Z';
const at = (sec: number, code: number, out = ''): HealthcheckResult => {
  const t = new Date(Date.parse(STARTED) + sec * 1000).toISOString();
  return { Start: t, End: t, ExitCode: code, Output: out };
};
const opts = { retries: 3, startPeriodMs: 0, startedAt: STARTED };

test('health: a pass makes healthy and clears the streak; failures count up to the retries', () => {
  let h: ContainerHealth = startingHealth(undefined);
  assert.deepEqual(h, { Status: 'starting', FailingStreak: 0, Log: [] });
  h = applyProbeResult(h, at(1, 1), opts);
  assert.deepEqual([h.Status, h.FailingStreak], ['starting', 1]);
  h = applyProbeResult(h, at(2, 0, 'ok'), opts);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  h = applyProbeResult(h, at(3, 1), opts);
  h = applyProbeResult(h, at(4, 2), opts);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 2]);
  h = applyProbeResult(h, at(5, -1), opts);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 3]);
  h = applyProbeResult(h, at(6, 1), opts);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 4]);
  assert.equal(h.Log.length, 5);
  assert.deepEqual(h.Log.map((r) => r.ExitCode), [0, 1, 2, -1, 1]);
  h = applyProbeResult(h, at(7, 0), opts);
  assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
});

test('health: failures within the start period do not count while starting, but do once healthy', () => {
  const sp = { ...opts, retries: 1, startPeriodMs: 10_000 };
  let h = applyProbeResult(startingHealth(undefined), at(1, 1), sp);
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 1]);
  h = applyProbeResult(h, at(11, 1), sp);
  assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 1]);
  let h2 = applyProbeResult(startingHealth(undefined), at(1, 0), sp);
  h2 = applyProbeResult(h2, at(2, 1), sp);
  assert.deepEqual([h2.Status, h2.FailingStreak], ['unhealthy', 1]);
});

test('health: a new run starts over but keeps the earlier results', () => {
  const prev: ContainerHealth = { Status: 'unhealthy', FailingStreak: 7, Log: [at(1, 1)] };
  assert.deepEqual(startingHealth(prev), { Status: 'starting', FailingStreak: 0, Log: [at(1, 1)] });
});

function rec(name: string, state: Partial<ContainerRecord['State']> = {}, healthcheck?: HealthConfig): ContainerRecord {
  return {
    Id: name.padEnd(64, '0'),
    Created: STARTED,
    Path: 'sleep',
    Args: ['600'],
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: STARTED, FinishedAt: ZERO_TIME, ...state },
    Image: 'sha256:' + 'b'.repeat(64),
    Name: `/${name}`,
    RestartCount: 0,
    Config: { Labels: { app: 'web' }, Image: 'busybox', Env: [], ...(healthcheck ? { Healthcheck: healthcheck } : {}) } as unknown as ContainerRecord['Config'],
    HostConfig: {} as ContainerRecord['HostConfig'],
    ImageChainId: null,
  };
}

test('ps: the status line carries the health, the health filter matches it', () => {
  const now = Date.parse(STARTED) + 5000;
  const h = (s: ContainerHealth['Status']): Partial<ContainerRecord['State']> => ({ Health: { Status: s, FailingStreak: 0, Log: [] } });
  const a = rec('a', h('healthy'));
  const b = rec('b', h('starting'));
  const c = rec('c', h('unhealthy'));
  const n = rec('n');
  const p = rec('p', { ...h('unhealthy'), Status: 'paused', Paused: true });
  const x = rec('x', { ...h('unhealthy'), Status: 'exited', Running: false, FinishedAt: STARTED });
  assert.equal(statusText(a, now), 'Up 5 seconds (healthy)');
  assert.equal(statusText(b, now), 'Up 5 seconds (health: starting)');
  assert.equal(statusText(c, now), 'Up 5 seconds (unhealthy)');
  assert.equal(statusText(n, now), 'Up 5 seconds');
  assert.equal(statusText(p, now), 'Up 5 seconds (Paused)');
  assert.equal(statusText(x, now), 'Exited (0) 5 seconds ago');
  assert.equal(healthSuffix(n), '');
  assert.deepEqual([a, b, c, n].map(healthOf), ['healthy', 'starting', 'unhealthy', 'none']);
  const recs = [a, b, c, n, p, x];
  const ctx = { matchesAncestor: () => true, resolve: () => a };
  const names = (f: string[], all = true): string[] => listContainers(recs, { all, filters: { health: f } }, ctx).map((r) => r.Name.slice(1)).sort();
  assert.deepEqual(names(['healthy']), ['a']);
  assert.deepEqual(names(['unhealthy']), ['c', 'p', 'x']);
  assert.deepEqual(names(['unhealthy'], false), ['c', 'p']);
  assert.deepEqual(names(['none']), ['n']);
  assert.deepEqual(names(['starting', 'healthy']), ['a', 'b']);
  assert.throws(
    () => names(['ok']),
    (e: unknown) => e instanceof BerthError && e.kind === 'InvalidParameter' && e.message === "invalid filter 'health=ok': invalid value for health (ok): must be one of none, starting, healthy, unhealthy",
  );
});

// ---- one probe ------------------------------------------------------------------------

test('output: the first 4096 bytes, "..." when more came', () => {
  const b = new LimitedBuffer();
  b.write(Buffer.from('a'.repeat(4000)));
  b.write(Buffer.from('b'.repeat(96)));
  assert.equal(b.toString(), 'a'.repeat(4000) + 'b'.repeat(96));
  b.write(Buffer.from('c'));
  assert.equal(b.toString(), 'a'.repeat(4000) + 'b'.repeat(96) + '...');
  const small = new LimitedBuffer();
  small.write(Buffer.from('x'.repeat(MAX_OUTPUT_BYTES + 10)));
  assert.equal(small.toString().length, MAX_OUTPUT_BYTES + 3);
});

// Execs whose processes the test (or a kill) ends.
class FakeExecs implements ProbeExecs {
  readonly created: Array<{ ref: string; body: ExecCreateBody }> = [];
  readonly procs = new Map<string, { stdout: PassThrough; stderr: PassThrough; exit: (code: number) => void; running: boolean; pid: number }>();
  startError: Error | null = null;
  // What each started process does: by default nothing, until exit() is called.
  onStart: (id: string) => void = () => {};
  private n = 0;

  async create(ref: string, body: ExecCreateBody): Promise<{ Id: string }> {
    this.created.push({ ref, body });
    return { Id: `exec${++this.n}` };
  }

  async start(id: string): Promise<StartedExec> {
    if (this.startError) throw this.startError;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let exit!: (code: number) => void;
    const exitCode = new Promise<number>((r) => (exit = r));
    const proc = { stdout, stderr, exit: (code: number) => { proc.running = false; stdout.end(); stderr.end(); exit(code); }, running: true, pid: 4000 + this.n };
    this.procs.set(id, proc);
    queueMicrotask(() => this.onStart(id));
    return { tty: false, detachKeys: null, session: { stdout, stderr, stdin: null, closed: exitCode.then(() => undefined), close: () => {} }, exitCode };
  }

  inspect(id: string): ExecInspect {
    const p = this.procs.get(id);
    if (!p) throw notFound(`No such exec instance: ${id}`);
    return { ID: id, Running: p.running, ExitCode: null, Pid: p.pid } as ExecInspect;
  }

  killByPid(pid: number): void {
    for (const p of this.procs.values()) if (p.pid === pid && p.running) p.exit(137);
  }
}

test('probe: runs the command as an attached exec, output of both streams, the exit code', async () => {
  const execs = new FakeExecs();
  execs.onStart = (id) => {
    const p = execs.procs.get(id)!;
    p.stdout.write('out\n');
    p.stderr.write('err\n');
    p.exit(2);
  };
  const r = await runProbe(execs, { containerId: 'c1', argv: ['/bin/sh', '-c', 'x'], timeoutNs: S, signal: new AbortController().signal, killTree: async () => {} });
  assert.equal(r.ExitCode, 2);
  assert.equal(r.Output, 'out\nerr\n');
  assert.ok(Date.parse(r.End) >= Date.parse(r.Start));
  assert.deepEqual(execs.created, [{ ref: 'c1', body: { Cmd: ['/bin/sh', '-c', 'x'], AttachStdout: true, AttachStderr: true, Tty: false, Privileged: false } }]);
});

test('probe: past the timeout the process tree is killed; the output so far goes in the message', async () => {
  const execs = new FakeExecs();
  execs.onStart = (id) => execs.procs.get(id)!.stdout.write('logs1 logs2\n');
  const killed: number[] = [];
  const r = await runProbe(execs, {
    containerId: 'c1', argv: ['sleep', '60'], timeoutNs: 50 * MS, signal: new AbortController().signal,
    killTree: async (pid) => { killed.push(pid); execs.killByPid(pid); },
  });
  assert.deepEqual(killed, [4001]);
  assert.equal(r.ExitCode, -1);
  assert.equal(r.Output, 'Health check exceeded timeout (50ms): logs1 logs2\n');
});

test('probe: stopped from outside (the monitor ends) kills the probe at once', async () => {
  const execs = new FakeExecs();
  const ac = new AbortController();
  execs.onStart = () => ac.abort();
  const killed: number[] = [];
  const r = await runProbe(execs, {
    containerId: 'c1', argv: ['sleep', '60'], timeoutNs: 60 * S, signal: ac.signal,
    killTree: async (pid) => { killed.push(pid); execs.killByPid(pid); },
  });
  assert.deepEqual(killed, [4001]);
  assert.equal(r.ExitCode, -1);
});

test('probe: an exec that cannot start is a failed check carrying the error', async () => {
  const execs = new FakeExecs();
  execs.startError = new BerthError('InvalidParameter', 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown');
  const r = await runProbe(execs, { containerId: 'c1', argv: ['nope'], timeoutNs: S, signal: new AbortController().signal, killTree: async () => {} });
  assert.equal(r.ExitCode, -1);
  assert.match(r.Output, /executable file not found/);
});

// ---- the monitor ------------------------------------------------------------------------

class FakeContainers implements HealthContainers {
  readonly recs = new Map<string, ContainerRecord>();
  saves = 0;
  get(id: string): ContainerRecord | undefined {
    return this.recs.get(id);
  }
  all(): ContainerRecord[] {
    return [...this.recs.values()];
  }
  async persist(): Promise<void> {
    this.saves++;
  }
}

function setup(): { bus: EventBus; ctrs: FakeContainers; execs: FakeExecs; mon: HealthMonitor; seen: EngineEvent[]; waitEvent(pred: (e: EngineEvent) => boolean): Promise<void> } {
  const bus = new EventBus();
  const ctrs = new FakeContainers();
  const execs = new FakeExecs();
  const mon = new HealthMonitor({ containers: ctrs, execs, events: bus, killTree: async (pid) => execs.killByPid(pid) });
  const seen: EngineEvent[] = [];
  const waiters: Array<() => void> = [];
  bus.subscribe((e) => {
    seen.push(e);
    for (const w of waiters.splice(0)) w();
  });
  const waitEvent = async (pred: (e: EngineEvent) => boolean): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!seen.some(pred)) {
      if (Date.now() > deadline) throw new Error(`timed out; saw ${seen.map((e) => e.Action).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  };
  return { bus, ctrs, execs, mon, seen, waitEvent };
}

const fast: HealthConfig = { Test: ['CMD', 'check'], Interval: 5 * MS, Retries: 2 };

test('monitor: start begins "starting", probes change the status with health_status events', async (t) => {
  const { bus, ctrs, execs, mon, seen, waitEvent } = setup();
  t.after(() => mon.close());
  let code = 0;
  execs.onStart = (id) => execs.procs.get(id)!.exit(code);
  const r = rec('m1', {}, fast);
  ctrs.recs.set(r.Id, r);
  bus.emit('container', 'start', r.Id, {});
  assert.deepEqual(r.State.Health, { Status: 'starting', FailingStreak: 0, Log: [] });
  assert.deepEqual(mon.monitored(), [r.Id]);
  await waitEvent((e) => e.Action === 'health_status: healthy');
  const ev = seen.find((e) => e.Action === 'health_status: healthy')!;
  assert.deepEqual(ev.Actor, { ID: r.Id, Attributes: { app: 'web', image: 'busybox', name: 'm1' } });
  assert.equal(execs.created[0]!.ref, r.Id);
  assert.deepEqual(execs.created[0]!.body.Cmd, ['check']);
  code = 1;
  await waitEvent((e) => e.Action === 'health_status: unhealthy');
  assert.equal(r.State.Health!.Status, 'unhealthy');
  assert.ok(r.State.Health!.FailingStreak >= 2);
  assert.ok(ctrs.saves >= 3, 'start and both changes saved');
});

test('monitor: die stops probing and leaves "unhealthy"; pause too; unpause resumes; destroy forgets', async (t) => {
  const { bus, ctrs, execs, mon, waitEvent } = setup();
  t.after(() => mon.close());
  execs.onStart = (id) => execs.procs.get(id)!.exit(0);
  const r = rec('m2', {}, fast);
  ctrs.recs.set(r.Id, r);
  bus.emit('container', 'start', r.Id, {});
  await waitEvent((e) => e.Action === 'health_status: healthy');

  r.State = { ...r.State, Status: 'paused', Paused: true };
  bus.emit('container', 'pause', r.Id, {});
  assert.deepEqual(mon.monitored(), []);
  assert.equal(r.State.Health!.Status, 'unhealthy');
  const n = execs.created.length;
  r.State = { ...r.State, Status: 'running', Paused: false };
  bus.emit('container', 'unpause', r.Id, {});
  assert.deepEqual(mon.monitored(), [r.Id]);
  await waitEvent((e) => e.Action === 'health_status: healthy' && execs.created.length > n);

  r.State = { ...r.State, Status: 'exited', Running: false };
  bus.emit('container', 'die', r.Id, {});
  assert.deepEqual(mon.monitored(), []);
  assert.equal(r.State.Health!.Status, 'unhealthy');
  bus.emit('container', 'destroy', r.Id, {});
  assert.deepEqual(mon.monitored(), []);
});

test('monitor: a probe in flight when the container dies is killed and its result dropped', async (t) => {
  const { bus, ctrs, execs, mon } = setup();
  t.after(() => mon.close());
  const r = rec('m3', {}, fast);
  ctrs.recs.set(r.Id, r);
  let started!: () => void;
  const inFlight = new Promise<void>((res) => (started = res));
  execs.onStart = () => started(); // never exits by itself
  bus.emit('container', 'start', r.Id, {});
  await inFlight;
  bus.emit('container', 'die', r.Id, {});
  const proc = [...execs.procs.values()][0]!;
  await new Promise<void>((res) => proc.stdout.once('close', res).once('end', res));
  assert.equal(proc.running, false, 'killed');
  assert.equal(r.State.Health!.Status, 'unhealthy');
  assert.deepEqual(r.State.Health!.Log, []);
});

test('monitor: no probe for NONE or no healthcheck; restore picks up running unpaused containers', (t) => {
  const { bus, ctrs, mon } = setup();
  t.after(() => mon.close());
  const none = rec('n1', {}, { Test: ['NONE'], Interval: S });
  const plain = rec('n2');
  const running = rec('n3', {}, fast);
  const paused = rec('n4', { Status: 'paused', Paused: true }, fast);
  const stopped = rec('n5', { Status: 'exited', Running: false }, fast);
  for (const x of [none, plain, running, paused, stopped]) ctrs.recs.set(x.Id, x);
  bus.emit('container', 'start', none.Id, {});
  bus.emit('container', 'start', plain.Id, {});
  assert.deepEqual(mon.monitored(), []);
  assert.equal(none.State.Health, undefined);
  mon.restore();
  assert.deepEqual(mon.monitored(), [running.Id]);
  assert.equal(running.State.Health!.Status, 'starting');
  assert.equal(paused.State.Health, undefined);
});

test('persist through the container service: under its lock; a removed container is not an error', async () => {
  const saved: string[] = [];
  const r = rec('p1');
  const svc = {
    store: { get: () => r, all: () => [r], save: async (x: ContainerRecord) => void saved.push(x.Id) },
    withLock: async <T>(ref: string, fn: (x: ContainerRecord) => Promise<T>): Promise<T> => {
      if (ref !== r.Id) throw notFound(`No such container: ${ref}`);
      return fn(r);
    },
  };
  const hc = healthContainersOf(svc);
  await hc.persist(r.Id);
  await hc.persist('gone');
  assert.deepEqual(saved, [r.Id]);
});
