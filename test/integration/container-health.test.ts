import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { TestDaemon } from '../helpers/daemon.js';

// Healthchecks at run time against a real berthd: probes run as execs in the container,
// State.Health, health_status events, the ps status and health filter, through berth and
// through the real docker CLI. Intervals are short; every wait is on an event or a state,
// with a deadline.

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

// Every event of the daemon from the moment the test file starts.
class EventLog {
  readonly all: Ev[] = [];
  private waiters: Array<() => void> = [];
  private res: IncomingMessage | null = null;

  constructor(sock: string) {
    const req = request({ socketPath: sock, path: '/events', method: 'GET' }, (res) => {
      this.res = res;
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        buf += s;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) this.all.push(JSON.parse(line) as Ev);
        }
        for (const w of this.waiters.splice(0)) w();
      });
    });
    req.on('error', () => {});
    req.end();
  }

  async until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event: ${what}; saw ${this.all.map((e) => `${e.Action}@${e.Actor.ID.slice(0, 6)}`).join(', ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitFor(what: string, pred: (e: Ev) => boolean, timeoutMs?: number): Promise<Ev> {
    await this.until(what, () => this.all.some(pred), timeoutMs);
    return this.all.find(pred)!;
  }

  async waitCount(what: string, pred: (e: Ev) => boolean, count: number, timeoutMs?: number): Promise<void> {
    await this.until(what, () => this.count(pred) >= count, timeoutMs);
  }

  count(pred: (e: Ev) => boolean): number {
    return this.all.filter(pred).length;
  }

  close(): void {
    this.res?.destroy();
  }
}

let d: TestDaemon;
let events: EventLog;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
  events = new EventLog(d.sock);
});
after(async () => {
  events?.close();
  await d?.cleanup();
});

const of = (id: string, action: string) => (e: Ev): boolean => e.Type === 'container' && e.Actor.ID === id && e.Action === action;
const execOf = (id: string) => (e: Ev): boolean => e.Type === 'container' && e.Actor.ID === id && e.Action.startsWith('exec_');

async function inspect(ref: string): Promise<{ Id: string; State: Record<string, unknown> & { Health?: Health }; Config: { Healthcheck?: Record<string, unknown> } }> {
  const r = await d.run(['inspect', ref]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

async function runD(args: string[]): Promise<string> {
  const r = await d.run(['run', '-d', ...args]);
  assert.equal(r.code, 0, r.stderr + d.log);
  return r.stdout.trim();
}

async function psNames(filters: string[]): Promise<string[]> {
  const r = await d.run(['ps', '-a', ...filters.flatMap((f) => ['--filter', f]), '--format', '{{.Names}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('a passing check: starting, then healthy, with the probe as exec events, ps and the health filter', async () => {
  const id = await runD(['--name', 'hc-pass', '--health-cmd', 'echo ok', '--health-interval', '200ms', 'busybox', 'sleep', '600']);
  const plain = await runD(['--name', 'hc-plain', 'busybox', 'sleep', '600']);
  const first = await inspect(id);
  assert.ok(first.State.Health, 'State.Health once started');
  assert.ok(['starting', 'healthy'].includes(first.State.Health!.Status));
  assert.deepEqual(first.Config.Healthcheck, { Test: ['CMD-SHELL', 'echo ok'], Interval: 200_000_000 });
  assert.equal((await inspect(plain)).State.Health, undefined, 'no Health without a healthcheck');

  await events.waitFor('health_status: healthy', of(id, 'health_status: healthy'));
  // dockerd runs probes as execs, and says so in the event stream.
  const create = await events.waitFor('exec_create', (e) => of(id, 'exec_create: /bin/sh -c echo ok')(e));
  assert.ok(create.Actor.Attributes.execID);
  await events.waitFor('exec_start', of(id, 'exec_start: /bin/sh -c echo ok'));
  const die = await events.waitFor('exec_die', of(id, 'exec_die'));
  assert.equal(die.Actor.Attributes.exitCode, '0');
  const ev = events.all.find(of(id, 'health_status: healthy'))!;
  assert.equal(ev.Actor.Attributes.name, 'hc-pass');
  assert.equal(ev.Actor.Attributes.image, 'busybox');

  const h = (await inspect(id)).State.Health!;
  assert.equal(h.Status, 'healthy');
  assert.equal(h.FailingStreak, 0);
  assert.ok(h.Log.length >= 1 && h.Log.length <= 5);
  const last = h.Log[h.Log.length - 1]!;
  assert.equal(last.ExitCode, 0);
  assert.equal(last.Output, 'ok\n');
  assert.ok(Date.parse(last.End) >= Date.parse(last.Start));

  const ps = await d.run(['ps', '--filter', 'name=hc-pass', '--format', '{{.Status}}']);
  assert.match(ps.stdout.trim(), /^Up .* \(healthy\)$/);
  const psPlain = await d.run(['ps', '--filter', 'name=hc-plain', '--format', '{{.Status}}']);
  assert.match(psPlain.stdout.trim(), /^Up [^(]*$/);

  const healthy = await psNames(['health=healthy']);
  assert.ok(healthy.includes('hc-pass') && !healthy.includes('hc-plain'), healthy.join());
  const none = await psNames(['health=none']);
  assert.ok(none.includes('hc-plain') && !none.includes('hc-pass'), none.join());
  assert.ok(!(await psNames(['health=unhealthy'])).includes('hc-pass'));
  const bad = await d.run(['ps', '--filter', 'health=fine']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid filter 'health=fine': invalid value for health \(fine\): must be one of none, starting, healthy, unhealthy/);

  assert.equal((await d.run(['rm', '-f', id, plain])).code, 0);
});

test('a failing check: unhealthy after the retries, failing streak and the last 5 results', async () => {
  const id = await runD(['--name', 'hc-fail', '--health-cmd', 'echo bad >&2; exit 3', '--health-interval', '100ms', '--health-retries', '2', 'busybox', 'sleep', '600']);
  await events.waitFor('unhealthy', of(id, 'health_status: unhealthy'));
  assert.equal(events.count(of(id, 'health_status: healthy')), 0);
  const h = (await inspect(id)).State.Health!;
  assert.equal(h.Status, 'unhealthy');
  assert.ok(h.FailingStreak >= 2, String(h.FailingStreak));
  assert.equal(h.Log.at(-1)!.ExitCode, 3);
  assert.equal(h.Log.at(-1)!.Output, 'bad\n');
  // More probes: the log keeps the last 5, the streak goes on, no new event (no change).
  await events.waitCount('7 probes', of(id, 'exec_die'), 7);
  const later = (await inspect(id)).State.Health!;
  assert.equal(later.Log.length, 5);
  assert.ok(later.FailingStreak >= 6, String(later.FailingStreak));
  assert.equal(events.count(of(id, 'health_status: unhealthy')), 1);
  const ps = await d.run(['ps', '--filter', 'health=unhealthy', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps.stdout, /^hc-fail Up .* \(unhealthy\)$/m);
  assert.equal((await d.run(['rm', '-f', id])).code, 0);
});

test('a probe that outlives its timeout is killed and fails with Docker\'s message', async () => {
  const id = await runD([
    '--name', 'hc-slow', '--health-cmd', 'echo logs1; sleep 60; true', '--health-timeout', '300ms', '--health-interval', '100ms', '--health-retries', '1',
    'busybox', 'sleep', '600',
  ]);
  await events.waitFor('unhealthy', of(id, 'health_status: unhealthy'));
  const h = (await inspect(id)).State.Health!;
  assert.equal(h.Log[0]!.ExitCode, -1);
  assert.equal(h.Log[0]!.Output, 'Health check exceeded timeout (300ms): logs1\n');
  // Two probes over: each took its `sleep 60` (a child of the probe's shell) with it. Only
  // the probe running now may have one.
  await events.waitCount('2 probes', of(id, 'exec_die'), 2);
  const ps = await d.run(['exec', id, 'ps', '-o', 'args']);
  const sleeps = ps.stdout.split('\n').filter((l) => l.trim() === 'sleep 60');
  assert.ok(sleeps.length <= 1, ps.stdout);
  assert.equal((await d.run(['rm', '-f', id])).code, 0);
});

test('image healthcheck: inherited, merged with --health-*, and disabled by --no-healthcheck', async () => {
  const base = await runD(['--name', 'hc-base', 'busybox', 'sleep', '600']);
  const c = await d.run(['commit', '-c', 'HEALTHCHECK --interval=200ms --retries=4 CMD test -d /', base, 'hc-img:1']);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await d.run(['rm', '-f', base])).code, 0);
  try {
    const inherited = await runD(['--name', 'hc-inh', 'hc-img:1', 'sleep', '600']);
    assert.deepEqual((await inspect(inherited)).Config.Healthcheck, { Test: ['CMD-SHELL', 'test -d /'], Interval: 200_000_000, Retries: 4 });
    await events.waitFor('inherited healthy', of(inherited, 'health_status: healthy'));

    const merged = await runD(['--name', 'hc-mrg', '--health-retries', '1', '--health-cmd', 'exit 1', 'hc-img:1', 'sleep', '600']);
    assert.deepEqual((await inspect(merged)).Config.Healthcheck, { Test: ['CMD-SHELL', 'exit 1'], Interval: 200_000_000, Retries: 1 });
    await events.waitFor('merged unhealthy', of(merged, 'health_status: unhealthy'));

    const off = await runD(['--name', 'hc-off', '--no-healthcheck', 'hc-img:1', 'sleep', '600']);
    const o = await inspect(off);
    assert.deepEqual(o.Config.Healthcheck, { Test: ['NONE'], Interval: 200_000_000, Retries: 4 });
    assert.equal(o.State.Health, undefined);
    // The inherited one has probed three more times meanwhile; the disabled one never did.
    const seen = events.count(of(inherited, 'exec_die'));
    await events.waitCount('3 more probes', of(inherited, 'exec_die'), seen + 3);
    assert.equal(events.count(execOf(off)), 0);
    assert.ok((await psNames(['health=none'])).includes('hc-off'));
    const st = await d.run(['ps', '--filter', 'name=hc-off', '--format', '{{.Status}}']);
    assert.match(st.stdout.trim(), /^Up [^(]*$/);
  } finally {
    await d.run(['rm', '-f', 'hc-inh', 'hc-mrg', 'hc-off']);
    await d.run(['rmi', 'hc-img:1']);
  }
});

test('create rejects what dockerd rejects', async () => {
  const r = await d.run(['create', '--health-interval', '-1s', 'busybox']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--health-interval cannot be negative/);
  const n = await d.run(['create', '--no-healthcheck', '--health-retries', '2', 'busybox']);
  assert.notEqual(n.code, 0);
  assert.match(n.stderr, /--no-healthcheck conflicts with --health-\* options/);
  const api = await d.run(['create', '--health-interval', '500us', 'busybox']);
  assert.notEqual(api.code, 0);
  assert.match(api.stderr, /Interval in Healthcheck cannot be less than 1ms/);
});

test('stop, pause and restart: no probes while stopped or paused; a new start begins "starting"', async () => {
  const id = await runD(['--name', 'hc-life', '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '600']);
  const ticker = await runD(['--name', 'hc-tick', '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '600']);
  await events.waitFor('healthy', of(id, 'health_status: healthy'));

  // Paused: not probed; unhealthy as dockerd reports a stopped monitor.
  assert.equal((await d.run(['pause', id])).code, 0);
  const pausedAt = events.all.length;
  const tickBase = events.count(of(ticker, 'exec_die'));
  await events.waitCount('ticker probes while paused', of(ticker, 'exec_die'), tickBase + 3);
  assert.equal(events.all.slice(pausedAt).filter((e) => execOf(id)(e) && e.Action.startsWith('exec_create')).length, 0);
  assert.equal((await inspect(id)).State.Health!.Status, 'unhealthy');
  assert.equal((await d.run(['unpause', id])).code, 0);
  const unpausedAt = events.all.length;
  await events.waitFor('healthy after unpause', (e) => events.all.indexOf(e) >= unpausedAt && of(id, 'health_status: healthy')(e));

  // Stopped: no probe after the die, Health kept (unhealthy).
  assert.equal((await d.run(['stop', '-t', '1', id])).code, 0);
  const dieAt = events.all.map((e, i) => (of(id, 'die')(e) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
  assert.ok(dieAt >= 0);
  const tick2 = events.count(of(ticker, 'exec_die'));
  await events.waitCount('ticker probes while stopped', of(ticker, 'exec_die'), tick2 + 3);
  assert.equal(events.all.slice(dieAt).filter((e) => execOf(id)(e) && e.Action.startsWith('exec_create')).length, 0);
  const stopped = await inspect(id);
  assert.equal(stopped.State.Health!.Status, 'unhealthy');
  assert.ok(stopped.State.Health!.Log.length > 0);
  assert.ok(!(await psNames(['health=healthy'])).includes('hc-life'));

  // Started again: starting, then healthy, the earlier results kept.
  assert.equal((await d.run(['start', id])).code, 0);
  const startedAt = events.all.length;
  const again = (await inspect(id)).State.Health!;
  assert.ok(['starting', 'healthy'].includes(again.Status), again.Status);
  await events.waitFor('healthy after start', (e) => events.all.indexOf(e) >= startedAt && of(id, 'health_status: healthy')(e));
  assert.equal((await d.run(['rm', '-f', id, ticker])).code, 0);
});

test('after a berthd crash and restart, running containers are probed again', async () => {
  const id = await runD(['--name', 'hc-restore', '--health-cmd', 'true', '--health-interval', '100ms', 'busybox', 'sleep', '600']);
  await events.waitFor('healthy', of(id, 'health_status: healthy'));
  events.close();
  await d.kill9();
  await d.spawn();
  events = new EventLog(d.sock);
  const h = (await inspect(id)).State.Health!;
  assert.ok(['starting', 'healthy'].includes(h.Status), h.Status);
  await events.waitFor('healthy after restore', of(id, 'health_status: healthy'));
  await events.waitFor('probe after restore', of(id, 'exec_die'));
  assert.equal((await d.run(['rm', '-f', id])).code, 0);
});

test('through the docker CLI: run with --health-*, ps (healthy), inspect, the health filter, events', async () => {
  const r = await d.docker(['run', '-d', '--name', 'hc-docker', '--health-cmd', 'exit 0', '--health-interval', '200ms', '--health-start-period', '1s', '--health-start-interval', '100ms', 'busybox', 'sleep', '600']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  await events.waitFor('healthy', of(id, 'health_status: healthy'));
  const ps = await d.docker(['ps', '--filter', 'health=healthy', '--format', '{{.Names}}\t{{.Status}}']);
  assert.equal(ps.code, 0, ps.stderr);
  assert.match(ps.stdout, /^hc-docker\tUp .* \(healthy\)$/m);
  const st = await d.docker(['inspect', '--format', '{{.State.Health.Status}} {{(index .State.Health.Log 0).ExitCode}} {{json .Config.Healthcheck}}', id]);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(st.stdout.trim(), 'healthy 0 {"Test":["CMD-SHELL","exit 0"],"Interval":200000000,"StartPeriod":1000000000,"StartInterval":100000000}');
  const since = Math.floor(Date.now() / 1000) - 120;
  const ev = await d.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=health_status', '--filter', `container=${id}`, '--format', '{{.Action}}']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.equal(ev.stdout.trim().split('\n')[0], 'health_status: healthy');
  const bad = await d.docker(['run', '--no-healthcheck', '--health-cmd', 'true', 'busybox']);
  assert.equal(bad.code, 125);
  assert.match(bad.stderr, /--no-healthcheck conflicts with --health-\* options/);
  assert.equal((await d.docker(['rm', '-f', id])).code, 0);
});
