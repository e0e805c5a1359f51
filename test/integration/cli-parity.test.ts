import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestDaemon } from '../helpers/daemon.js';

// Small differences from Docker that the docker CLI shows to its users: the words and exit
// codes of failures, and what a few options turn into inside the container.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

test('--add-host name:host-gateway is the default bridge gateway, on any network mode', async () => {
  const gw = (await d.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge'])).stdout.trim();
  assert.match(gw, /^\d+\.\d+\.\d+\.\d+$/);
  for (const net of ['bridge', 'none']) {
    const r = await d.docker(['run', '--rm', '--network', net, '--add-host', 'gw.test:host-gateway', 'busybox', 'grep', 'gw.test', '/etc/hosts']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${gw}\tgw.test\n`);
  }
});

test('kill failures name the container asked for, as moby prefixes them', async () => {
  const miss = await d.docker(['kill', 'h3-nosuch']);
  assert.equal(miss.code, 1);
  assert.equal(miss.stderr.trim(), 'Error response from daemon: Cannot kill container: h3-nosuch: No such container: h3-nosuch');
  const made = await d.docker(['create', '--name', 'h3-stopped', 'busybox', 'true']);
  assert.equal(made.code, 0, made.stderr);
  const id = made.stdout.trim();
  const stopped = await d.docker(['kill', 'h3-stopped']);
  assert.equal(stopped.stderr.trim(), `Error response from daemon: Cannot kill container: h3-stopped: Container ${id} is not running`);
  const sig = await d.docker(['kill', '-s', 'BOGUS', 'h3-nosuch']);
  assert.equal(sig.stderr.trim(), 'Error response from daemon: Cannot kill container: h3-nosuch: Invalid signal: BOGUS');
  await d.docker(['rm', '-f', 'h3-stopped']);
});

test('import with a bad --change fails with an HTTP error, not a 200 stream', async () => {
  const r = await d.run(['import', '-c', 'RUN echo hi', '-', 'h3-imp:1'], { cli: 'docker', input: Buffer.alloc(1024) });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim(), 'Error response from daemon: run is not a valid change command');
  assert.equal((await d.docker(['image', 'inspect', 'h3-imp:1'])).code, 1);
});

test('volume errors: a read-only anonymous volume, and create wraps the refusal with the name', async () => {
  const ro = await d.docker(['run', '--rm', '--mount', 'type=volume,target=/m,readonly', 'busybox', 'true']);
  assert.equal(ro.code, 125);
  assert.match(ro.stderr, /invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes/);
  const short = await d.docker(['volume', 'create', 'a']);
  assert.equal(short.stderr.trim(), 'Error response from daemon: create a: volume name is too short, names should be at least two alphanumeric characters');
});

test('system df -v lists containers newest first, as ps -a does', async () => {
  for (const n of ['h3-df1', 'h3-df2', 'h3-df3']) assert.equal((await d.docker(['create', '--name', n, 'busybox', 'true'])).code, 0);
  const df = await d.docker(['system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}} {{end}}']);
  const ps = await d.docker(['ps', '-a', '--format', '{{.Names}}']);
  assert.equal(df.code, 0, df.stderr);
  assert.deepEqual(df.stdout.trim().split(' '), ps.stdout.trim().split('\n'));
  assert.deepEqual(ps.stdout.trim().split('\n').slice(0, 3), ['h3-df3', 'h3-df2', 'h3-df1']);
  await d.docker(['rm', 'h3-df1', 'h3-df2', 'h3-df3']);
});

test('container prune counts the writable layers it frees; container and network prune log their event', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const r = await d.docker(['run', '--name', 'h3-prune', 'busybox', 'sh', '-c', 'echo hello > /f']);
  assert.equal(r.code, 0, r.stderr);
  const pruned = await d.docker(['container', 'prune', '-f', '--filter', 'label!=h3-keep']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n\nTotal reclaimed space: 6B\n$/);
  assert.equal((await d.docker(['network', 'prune', '-f'])).code, 0);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const ev = await d.docker(['events', '--since', since, '--until', until, '--filter', 'event=prune', '--format', '{{.Type}} {{.Actor.Attributes.reclaimed}}']);
  assert.equal(ev.stdout, 'container 6\nnetwork 0\n');
});

test('kill -s sends the signal to the init process only, as Docker does', async (t) => {
  t.after(() => d.docker(['rm', '-f', 'h3-sig']));
  const script = 'sleep 1000 & echo $! > /bg; trap "echo got" USR1; echo ready; while :; do sleep 0.1; done';
  assert.equal((await d.docker(['run', '-d', '--name', 'h3-sig', 'busybox', 'sh', '-c', script])).code, 0);
  const logsHave = async (word: string): Promise<void> => {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      if ((await d.docker(['logs', 'h3-sig'])).stdout.includes(word)) return;
    }
    assert.fail(`no "${word}" in the logs`);
  };
  await logsHave('ready');
  const k = await d.docker(['kill', '-s', 'USR1', 'h3-sig']);
  assert.equal(k.code, 0, k.stderr);
  await logsHave('got');
  // The background sleep never saw the signal: still alive, not a zombie.
  const bg = await d.docker(['exec', 'h3-sig', 'sh', '-c', 'grep "^State:" /proc/$(cat /bg)/status']);
  assert.match(bg.stdout, /^State:\s+S/, bg.stderr);
});

test('logs --details puts the attributes the log options name before each line', async (t) => {
  t.after(() => d.docker(['rm', '-f', 'h3-details', 'h3-plain']));
  const r = await d.docker(['run', '--name', 'h3-details', '-l', 'app=web', '-e', 'E=1', '--log-opt', 'labels=app', '--log-opt', 'env=E', 'busybox', 'echo', 'one']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await d.docker(['logs', '--details', 'h3-details'])).stdout, 'E=1,app=web one\n');
  assert.equal((await d.docker(['run', '--name', 'h3-plain', 'busybox', 'echo', 'two'])).code, 0);
  assert.equal((await d.docker(['logs', '--details', 'h3-plain'])).stdout, ' two\n');
});

test('berth system df -v: one row per image, and the build cache table header, as docker prints them', async (t) => {
  const tail = (s: string): string => s.slice(s.indexOf('\nBuild cache usage:'));
  const images = (s: string): string => s.slice(0, s.indexOf('\nContainers space usage:'));
  assert.equal((await d.docker(['tag', 'busybox', 'h3-second:tag'])).code, 0);
  t.after(() => d.docker(['rmi', 'h3-second:tag']));
  const mine = await d.run(['system', 'df', '-v']);
  const theirs = await d.docker(['system', 'df', '-v']);
  assert.equal(mine.code, 0, mine.stderr);
  assert.equal(tail(mine.stdout), tail(theirs.stdout));
  // One row per image, by its first tag.
  assert.equal(images(mine.stdout), images(theirs.stdout));
  assert.match(tail(mine.stdout), /\nCACHE ID +CACHE TYPE +SIZE +CREATED +LAST USED +USAGE +SHARED\n$/);
});
