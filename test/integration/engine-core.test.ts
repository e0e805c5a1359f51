import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readlink } from 'node:fs/promises';
import { TestDaemon } from '../helpers/daemon.js';

// The core engine end to end through the berth CLI: a real berthd, real containers.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

test('run --rm prints the output and leaves nothing behind', async () => {
  const r = await d.run(['run', '--rm', 'busybox', 'echo', 'hello from berth']);
  assert.equal(r.stdout, 'hello from berth\n', r.stderr);
  assert.equal(r.code, 0);
  const ps = await d.run(['ps', '-aq']);
  assert.equal(ps.stdout.trim(), '');
});

test('the exit code of the command comes back', async () => {
  const r = await d.run(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
});

test('inside: PID 1 is the command, hostname is the short id, namespaces differ', async () => {
  const r = await d.run(['run', '-d', 'busybox', 'sleep', '60']);
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const one = await d.run(['run', '--rm', 'busybox', 'sh', '-c', 'ps -o pid,args; hostname; for n in pid net mnt uts ipc; do readlink /proc/1/ns/$n; done']);
  assert.equal(one.code, 0, one.stderr);
  const lines = one.stdout.trim().split('\n');
  assert.match(lines[1]!, /^\s*1 sh -c ps -o pid,args; hostname/);
  const host = lines.findIndex((l) => /^[0-9a-f]{12}$/.test(l));
  assert.ok(host > 0, one.stdout);
  const nsNames = ['pid', 'net', 'mnt', 'uts', 'ipc'];
  for (const [i, ns] of nsNames.entries()) {
    const mine = await readlink(`/proc/self/ns/${ns}`);
    assert.match(lines[host + 1 + i]!, new RegExp(`^${ns}:\\[\\d+\\]$`));
    assert.notEqual(lines[host + 1 + i], mine, `${ns} namespace is the host's`);
  }
  const inspect = JSON.parse((await d.run(['inspect', id])).stdout)[0];
  assert.equal(inspect.Config.Hostname, id.slice(0, 12));
  assert.equal(inspect.State.Running, true);
  assert.ok(inspect.State.Pid > 0);
  await d.run(['rm', '-f', id]);
});

test('logs, stop records the exit code, rm', async () => {
  const r = await d.run(['run', '-d', '--name', 'talker', 'busybox', 'sh', '-c', 'echo one; echo two; exec sleep 600']);
  assert.equal(r.code, 0, r.stderr);
  let logs = '';
  for (let i = 0; i < 100 && !logs.includes('two'); i++) logs = (await d.run(['logs', 'talker'])).stdout;
  assert.equal(logs, 'one\ntwo\n');
  const stop = await d.run(['stop', '-t', '1', 'talker']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout.trim(), 'talker');
  const state = JSON.parse((await d.run(['inspect', 'talker'])).stdout)[0].State;
  assert.equal(state.Status, 'exited');
  assert.equal(state.ExitCode, 137); // PID 1 ignores SIGTERM it has no handler for: SIGKILL after -t
  const ps = await d.run(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps.stdout, /talker Exited \(137\)/);
  assert.equal((await d.run(['rm', 'talker'])).code, 0);
});

test('bad input: one line, exit 125, nothing changed', async () => {
  const before = (await d.run(['ps', '-aq'])).stdout;
  const cases: Array<[string[], RegExp]> = [
    [['run', 'nosuchimage'], /nosuchimage/],
    [['run', 'Bad:Ref'], /invalid reference format/],
    [['run', '--bogus', 'busybox'], /unknown flag: --bogus/],
  ];
  for (const [args, re] of cases) {
    const r = await d.run(args);
    assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const c1 = await d.run(['create', '--name', 'dup', 'busybox', 'true']);
  assert.equal(c1.code, 0, c1.stderr);
  // `run` exits 125 on engine errors; `create` exits 1, as the docker CLI does.
  const c2 = await d.run(['run', '--name', 'dup', 'busybox', 'true']);
  assert.equal(c2.code, 125);
  assert.match(c2.stderr, /Conflict\. The container name "\/dup" is already in use/);
  await d.run(['rm', 'dup']);
  const running = await d.run(['run', '-d', 'busybox', 'sleep', '600']);
  const rm = await d.run(['rm', running.stdout.trim()]);
  assert.notEqual(rm.code, 0);
  assert.match(rm.stderr, /container is running: stop the container before removing or force remove/);
  await d.run(['rm', '-f', running.stdout.trim()]);
  assert.equal((await d.run(['ps', '-aq'])).stdout, before);
});

test('a container keeps running and logging across kill -9 of berthd', async () => {
  const r = await d.run(['run', '-d', '--name', 'clock', 'busybox', 'sh', '-c', 'while true; do date; sleep 0.2; done']);
  assert.equal(r.code, 0, r.stderr);
  await d.kill9();
  const lines = async (): Promise<number> => (await d.run(['logs', 'clock'])).stdout.split('\n').filter(Boolean).length;
  // While berthd is down the container keeps writing: conmon holds its stdio.
  const { readFile } = await import('node:fs/promises');
  const logFile = `${d.dataRoot}/containers/${r.stdout.trim()}/container.log`;
  const atKill = (await readFile(logFile, 'utf8')).split('\n').length;
  let later = atKill;
  for (let i = 0; i < 200 && later <= atKill + 2; i++) {
    await new Promise((res) => setTimeout(res, 50));
    later = (await readFile(logFile, 'utf8')).split('\n').length;
  }
  assert.ok(later > atKill + 2, 'no log lines were written while berthd was down');
  await d.spawn();
  const st = JSON.parse((await d.run(['inspect', 'clock'])).stdout)[0].State;
  assert.equal(st.Running, true);
  assert.ok((await lines()) >= later - 1);
  const stop = await d.run(['stop', '-t', '1', 'clock']);
  assert.equal(stop.code, 0, stop.stderr);
  const st2 = JSON.parse((await d.run(['inspect', 'clock'])).stdout)[0].State;
  assert.equal(st2.Running, false);
  assert.equal(st2.ExitCode, 137);
  await d.run(['rm', 'clock']);
});
