import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecService, type ContainerLookup } from '../../src/container/exec-service.js';
import { ExecStartError, type ExecProcess, type ExecRuntime, type ExecStartInput } from '../../src/runtime/exec.js';
import type { AttachStreams } from '../../src/runtime/attach.js';
import { EventBus, type EngineEvent } from '../../src/daemon/events.js';
import { BerthError, invalid, notFound } from '../../src/util/errors.js';
import type { ContainerRecord } from '../../src/container/types.js';
import { ZERO_TIME } from '../../src/container/types.js';

function record(id: string, state: Partial<ContainerRecord['State']> = {}): ContainerRecord {
  return {
    Id: id.padEnd(64, '0'),
    Created: '2026-01-01T00:00:00.000Z',
    Path: 'sleep',
    Args: ['600'],
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 10, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, ...state },
    Image: 'sha256:' + 'b'.repeat(64),
    Name: `/${id}`,
    RestartCount: 0,
    Config: { Labels: { app: 'web' }, Image: 'busybox', Env: ['PATH=/bin', 'FOO=ctr'], User: 'daemon', WorkingDir: '/srv', Hostname: 'h1' } as unknown as ContainerRecord['Config'],
    HostConfig: { GroupAdd: ['audio'] } as ContainerRecord['HostConfig'],
    ImageChainId: null,
  };
}

class Containers implements ContainerLookup {
  readonly recs = new Map<string, ContainerRecord>();
  add(r: ContainerRecord): ContainerRecord {
    this.recs.set(r.Id, r);
    return r;
  }
  resolve(ref: string): ContainerRecord {
    const r = [...this.recs.values()].find((x) => x.Id.startsWith(ref) || x.Name === `/${ref}`);
    if (!r) throw notFound(`No such container: ${ref}`);
    return r;
  }
  get(id: string): ContainerRecord | undefined {
    return this.recs.get(id);
  }
}

// A runtime whose processes the test ends by hand.
class FakeRuntime implements ExecRuntime {
  readonly started: Array<{ input: ExecStartInput; attach: AttachStreams | null; exit: (code: number) => void }> = [];
  readonly resizes: Array<[string, number, number]> = [];
  startError: Error | null = null;

  async checkUser(_id: string, user: string): Promise<void> {
    if (user === 'nosuchuser') throw invalid('unable to find user nosuchuser: no matching entries in passwd file');
  }
  async start(input: ExecStartInput, attach: AttachStreams | null): Promise<ExecProcess> {
    if (this.startError) throw this.startError;
    let exit!: (code: number) => void;
    const exited = new Promise<number>((r) => { exit = r; });
    this.started.push({ input, attach, exit });
    return { pid: 4242, session: null, exited };
  }
  async resize(execId: string, h: number, w: number): Promise<void> {
    this.resizes.push([execId, h, w]);
  }
  async sweep(): Promise<void> {}
}

function setup() {
  const containers = new Containers();
  const runtime = new FakeRuntime();
  const events = new EventBus();
  const seen: EngineEvent[] = [];
  events.subscribe((e) => seen.push(e));
  const svc = new ExecService({ containers, runtime, events, keepExitedMs: 60_000 });
  return { containers, runtime, events, seen, svc };
}

const kind = (k: string, msg: RegExp) => (err: unknown) => err instanceof BerthError && err.kind === k && msg.test(err.message);

test('create refuses what Docker refuses, with its texts', async () => {
  const { containers, svc } = setup();
  const stopped = containers.add(record('stopped', { Status: 'exited', Running: false }));
  containers.add(record('paused', { Status: 'paused', Paused: true }));
  containers.add(record('up'));
  await assert.rejects(svc.create('up', { Cmd: [] }), kind('InvalidParameter', /^No exec command specified$/));
  await assert.rejects(svc.create('up', {}), kind('InvalidParameter', /^No exec command specified$/));
  await assert.rejects(svc.create('nosuch', { Cmd: ['true'] }), kind('NotFound', /No such container: nosuch/));
  await assert.rejects(svc.create('stopped', { Cmd: ['true'] }), kind('Conflict', new RegExp(`^container ${stopped.Id} is not running$`)));
  // The paused message names the container as the caller did.
  await assert.rejects(svc.create('paused', { Cmd: ['true'] }), kind('Conflict', /^Container paused is paused, unpause the container before exec$/));
  await assert.rejects(svc.create('up', { Cmd: ['id'], User: 'nosuchuser' }), kind('InvalidParameter', /unable to find user nosuchuser/));
});

test('create: defaults from the container, env merged, event with the command line', async () => {
  const { containers, svc, seen } = setup();
  const c = containers.add(record('up'));
  const { Id } = await svc.create('up', { Cmd: ['sh', '-c', 'id -u'], Env: ['FOO=exec', 'BAR=1'], AttachStdout: true, AttachStderr: true }, [16, 17]);
  assert.match(Id, /^[0-9a-f]{64}$/);
  const ins = svc.inspect(Id);
  assert.deepEqual(ins, {
    ID: Id,
    Running: false,
    ExitCode: null,
    ProcessConfig: { tty: false, entrypoint: 'sh', arguments: ['-c', 'id -u'], privileged: false, user: 'daemon' },
    OpenStdin: false,
    OpenStderr: true,
    OpenStdout: true,
    CanRemove: false,
    ContainerID: c.Id,
    DetachKeys: 'EBE=',
    Pid: 0,
  });
  assert.deepEqual(svc.execIds(c.Id), [Id]);
  const ev = seen.at(-1)!;
  assert.equal(ev.Action, 'exec_create: sh -c id -u');
  assert.deepEqual(ev.Actor, { ID: c.Id, Attributes: { execID: Id, app: 'web', image: 'busybox', name: 'up' } });
  // A command without arguments keeps moby's trailing space.
  await svc.create('up', { Cmd: ['true'] });
  assert.equal(seen.at(-1)!.Action, 'exec_create: true ');
});

test('start runs the process with the container\'s settings; the exit code and exec_die come back', async () => {
  const { containers, runtime, svc, seen } = setup();
  const c = containers.add(record('up'));
  const { Id } = await svc.create('up', { Cmd: ['env'], Env: ['FOO=exec'], Tty: true, User: 'nobody', WorkingDir: '/tmp', Privileged: true, ConsoleSize: [30, 100] });
  const started = await svc.start(Id, { attach: true });
  const run = runtime.started[0]!;
  assert.deepEqual(run.input, {
    execId: Id, containerId: c.Id, args: ['env'], env: ['PATH=/bin', 'FOO=exec'], hostname: 'h1', cwd: '/tmp', user: 'nobody',
    groupAdd: ['audio'], privileged: true, tty: true, consoleSize: { height: 30, width: 100 }, openStdin: false,
  });
  assert.deepEqual(run.attach, { stdin: false, stdout: false, stderr: false });
  assert.equal(seen.at(-1)!.Action, 'exec_start: env ');
  assert.equal(svc.inspect(Id).Running, true);
  assert.equal(svc.inspect(Id).Pid, 4242);
  await assert.rejects(svc.start(Id, { attach: false }), kind('Conflict', /is already running/));
  await svc.resize(Id, 40, 120);
  assert.deepEqual(runtime.resizes, [[Id, 40, 120]]);

  run.exit(3);
  assert.equal(await started.exitCode, 3);
  const ins = svc.inspect(Id);
  assert.equal(ins.Running, false);
  assert.equal(ins.ExitCode, 3);
  assert.deepEqual(svc.execIds(c.Id), []);
  const die = seen.at(-1)!;
  assert.equal(die.Action, 'exec_die');
  assert.equal(die.Actor.Attributes.exitCode, '3');
  assert.equal(die.Actor.Attributes.execID, Id);
  await assert.rejects(svc.start(Id, { attach: false }), kind('Conflict', /has already run/));
});

test('the user and working dir default to the container\'s; ConsoleSize at start wins over create', async () => {
  const { containers, runtime, svc } = setup();
  containers.add(record('up'));
  const { Id } = await svc.create('up', { Cmd: ['pwd'], Tty: true, ConsoleSize: [10, 10], AttachStdin: true, AttachStdout: true });
  await svc.start(Id, { attach: true, consoleSize: [50, 150] });
  const run = runtime.started[0]!;
  assert.equal(run.input.user, 'daemon');
  assert.equal(run.input.cwd, '/srv');
  assert.deepEqual(run.input.consoleSize, { height: 50, width: 150 });
  assert.equal(run.input.openStdin, true);
  assert.deepEqual(run.attach, { stdin: true, stdout: true, stderr: false });
});

test('a command that cannot run: 126/127 as the exit code, a 400 error, no exec_die', async () => {
  const { containers, runtime, svc, seen } = setup();
  containers.add(record('up'));
  const cases: Array<[string, number, string]> = [
    ['exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH', 127, 'InvalidParameter'],
    ['exec failed: unable to start container process: exec: "/etc": permission denied', 126, 'InvalidParameter'],
    ['exec failed: something else', 128, 'System'],
  ];
  for (const [msg, code, k] of cases) {
    const { Id } = await svc.create('up', { Cmd: ['x'] });
    runtime.startError = new ExecStartError(msg);
    await assert.rejects(svc.start(Id, { attach: true }), kind(k, new RegExp(`^OCI runtime exec failed: ${msg.replace(/[$()"/]/g, '\\$&')}: unknown$`)));
    const ins = svc.inspect(Id);
    assert.equal(ins.ExitCode, code, msg);
    assert.equal(ins.Running, false);
  }
  assert.ok(!seen.some((e) => e.Action === 'exec_die'));
});

test('start checks the container again; unknown execs are 404', async () => {
  const { containers, svc } = setup();
  const c = containers.add(record('up'));
  const { Id } = await svc.create('up', { Cmd: ['true'] });
  c.State = { ...c.State, Status: 'paused', Paused: true };
  assert.throws(() => svc.check(Id), kind('Conflict', new RegExp(`^Container ${c.Id} is paused, unpause the container before exec$`)));
  c.State = { ...c.State, Status: 'exited', Running: false, Paused: false };
  assert.throws(() => svc.check(Id), kind('Conflict', /is not running/));
  assert.throws(() => svc.check('nosuch'), kind('NotFound', /^No such exec instance: nosuch$/));
  assert.throws(() => svc.inspect('nosuch'), kind('NotFound', /^No such exec instance: nosuch$/));
  await assert.rejects(svc.resize('nosuch', 1, 1), kind('NotFound', /No such exec instance/));
});

test('a stopped container drops its never-started execs; a removed one all of them', async () => {
  const { containers, events, svc } = setup();
  const c = containers.add(record('up'));
  const idle = (await svc.create('up', { Cmd: ['true'] })).Id;
  const ran = (await svc.create('up', { Cmd: ['true'] })).Id;
  await svc.start(ran, { attach: false });
  events.emit('container', 'die', c.Id, {});
  assert.throws(() => svc.inspect(idle), kind('NotFound', /No such exec instance/));
  assert.equal(svc.inspect(ran).ID, ran);
  events.emit('container', 'destroy', c.Id, {});
  assert.throws(() => svc.inspect(ran), kind('NotFound', /No such exec instance/));
});
