import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'node:http';
import { TestDaemon, runCommand, berthEntry, type RunResult } from '../helpers/daemon.js';

// `exec` end to end: a real berthd, real containers, through berth's CLI and the docker CLI.
const hasDocker = (() => {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

type Cli = 'berth' | 'docker';
const clis: Cli[] = hasDocker ? ['berth', 'docker'] : ['berth'];

let d: TestDaemon;
let ctr = '';

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
  const run = await d.run(['run', '-d', '--name', 'box', '-e', 'FROM_RUN=1', '-w', '/srv', 'busybox', 'sleep', '600']);
  assert.equal(run.code, 0, run.stderr + d.log);
  ctr = run.stdout.trim();
});
after(async () => {
  await d?.cleanup();
});

const cli = (c: Cli, args: string[], input?: string): Promise<RunResult> => d.run(args, { cli: c, input });

// Polls a real condition (a file the detached exec writes), bounded.
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const c of clis) {
  test(`${c}: output on both streams and the exit code come back`, async () => {
    const r = await cli(c, ['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const ok = await cli(c, ['exec', 'box', 'echo', 'hello']);
    assert.deepEqual(ok, { code: 0, stdout: 'hello\n', stderr: '' });
  });

  test(`${c}: -e over the container env, -w, default workdir, -u nobody`, async () => {
    const env = await cli(c, ['exec', '-e', 'FOO=bar', '-e', 'FROM_RUN=2', 'box', 'env']);
    assert.equal(env.code, 0, env.stderr);
    const lines = env.stdout.trim().split('\n');
    assert.ok(lines.includes('FOO=bar'), env.stdout);
    assert.ok(lines.includes('FROM_RUN=2'), env.stdout);
    assert.ok(lines.includes(`HOSTNAME=${ctr.slice(0, 12)}`), env.stdout);
    assert.ok(lines.includes('HOME=/root'), env.stdout);
    assert.ok(!lines.some((l) => l.startsWith('TERM=')), 'no TERM without a tty');
    assert.equal((await cli(c, ['exec', 'box', 'pwd'])).stdout, '/srv\n');
    assert.equal((await cli(c, ['exec', '-w', '/tmp', 'box', 'pwd'])).stdout, '/tmp\n');
    const id = await cli(c, ['exec', '-u', 'nobody', 'box', 'id', '-u']);
    assert.deepEqual(id, { code: 0, stdout: '65534\n', stderr: '' });
    assert.equal((await cli(c, ['exec', '-u', '1234:5678', 'box', 'sh', '-c', 'echo $(id -u):$(id -g)'])).stdout, '1234:5678\n');
  });

  test(`${c}: -i feeds piped stdin and closes it at EOF`, async () => {
    const r = await cli(c, ['exec', '-i', 'box', 'sh', '-c', 'wc -c; echo done'], 'twelve bytes');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '12\ndone\n');
    // Binary input passes as it is: the detach keys (ctrl-p ctrl-q) only count on a tty.
    const bin = await cli(c, ['exec', '-i', 'box', 'od', '-An', '-tx1'], 'a\x10\x11b\x00');
    assert.equal(bin.stdout.trim(), '61 10 11 62 00');
    // Without -i the command reads nothing.
    const no = await cli(c, ['exec', 'box', 'wc', '-c'], 'ignored');
    assert.equal(no.stdout.trim(), '0');
  });

  test(`${c}: -d returns at once and the command runs`, async () => {
    const file = `/tmp/detached-${c}`;
    const r = await cli(c, ['exec', '-d', 'box', 'sh', '-c', `echo made > ${file}.tmp && mv ${file}.tmp ${file}`]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    await until(async () => (await d.run(['exec', 'box', 'cat', file])).stdout === 'made\n', 'the detached exec to write its file');
  });

  test(`${c}: a command that does not exist exits 127, one that cannot run 126`, async () => {
    const r = await cli(c, ['exec', 'box', 'nosuch']);
    assert.equal(r.code, 127);
    assert.equal(r.stdout, 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown\r\n');
    const dir = await cli(c, ['exec', 'box', '/etc']);
    assert.equal(dir.code, 126);
    assert.match(dir.stdout, /permission denied/);
    const detached = await cli(c, ['exec', '-d', 'box', 'nosuch']);
    assert.equal(detached.code, 1);
    assert.match(detached.stderr, /^Error response from daemon: OCI runtime exec failed: .*"nosuch": executable file not found in \$PATH: unknown\n$/);
    const user = await cli(c, ['exec', '-u', 'nosuchuser', 'box', 'id']);
    assert.equal(user.code, 1);
    assert.equal(user.stderr, 'Error response from daemon: unable to find user nosuchuser: no matching entries in passwd file\n');
  });

  test(`${c}: -it runs in a pty`, async () => {
    const base = c === 'berth' ? [process.execPath, berthEntry] : ['docker'];
    const cmd = [...base, '-H', d.host, 'exec', '-it', 'box', 'sh'].join(' ');
    // `script` gives the CLI a pty of its own; the shell's answers prove one inside too.
    const r = await runCommand('script', ['-qec', cmd, '/dev/null'], 'tty; echo $TERM; echo $((6*7)); exit 4\n', {
      ...process.env,
      DOCKER_CONFIG: join(d.dir, 'docker-config'),
    });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    // Line ends: the container's pty adds \r; berth's CLI (libuv's raw mode keeps ONLCR)
    // may add another on the way out, where docker's does not.
    assert.match(r.stdout, /\/dev\/pts\/\d+\r+\n/);
    assert.match(r.stdout, /\nxterm\r+\n/);
    assert.match(r.stdout, /\n42\r+\n/);
  });
}

test('-it: the detach keys leave the exec running; resize reaches its pty', async () => {
  const runningIds = async (): Promise<string[]> =>
    (JSON.parse((await d.run(['inspect', '-f', '{{json .ExecIDs}}', 'box'])).stdout) as string[] | null) ?? [];
  const before = await runningIds();
  for (const c of clis) {
    const base = c === 'berth' ? [process.execPath, berthEntry] : ['docker'];
    const cmd = [...base, '-H', d.host, 'exec', '-it', '--detach-keys', 'ctrl-x,x', 'box', 'sh'].join(' ');
    const r = await runCommand('script', ['-qec', cmd, '/dev/null'], '\x18x', { ...process.env, DOCKER_CONFIG: join(d.dir, 'docker-config') });
    // As docker: the CLI reports the detach as an error and exits 1.
    assert.equal(r.code, 1, `${c}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /read escape sequence/);
  }
  const detached = (await runningIds()).filter((id) => !before.includes(id));
  assert.equal(detached.length, clis.length);

  // A tty exec started detached, resized through the API, seen from another exec.
  const dt = await d.run(['exec', '-d', '-t', 'box', 'sh', '-c', 'exec sleep 120']);
  assert.equal(dt.code, 0, dt.stderr);
  const sleeper = (await runningIds()).find((id) => !before.includes(id) && !detached.includes(id))!;
  const tty = async (): Promise<string> =>
    (await d.run(['exec', 'box', 'sh', '-c', 'for p in $(pidof sleep); do [ $p = 1 ] || readlink /proc/$p/fd/0; done'])).stdout.trim();
  const pts = await tty();
  assert.match(pts, /^\/dev\/pts\/\d+$/);
  const res = await fetchUnix(d.sock, 'POST', `/v1.44/exec/${sleeper}/resize?h=40&w=120`);
  assert.equal(res, 200);
  await until(async () => (await d.run(['exec', 'box', 'stty', '-F', pts, 'size'])).stdout === '40 120\n', 'the resize');
  const bad = await fetchUnix(d.sock, 'POST', `/v1.44/exec/${sleeper}/resize?h=x&w=120`);
  assert.equal(bad, 400);
  // The shells wait on ptys nobody reads; end them and the sleeper.
  await d.run(['exec', 'box', 'sh', '-c', 'for p in $(pidof sh sleep); do [ $p = 1 ] || [ $p = $$ ] || kill -9 $p; done']);
  await until(async () => (await runningIds()).length === before.length, 'the detached execs to end');
});

function fetchUnix(socketPath: string, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('exec into a stopped or paused container fails with Docker\'s messages', async () => {
  const created = await d.run(['create', '--name', 'idle', 'busybox', 'true']);
  const id = created.stdout.trim();
  const run = await d.run(['run', '-d', '--name', 'frozen', 'busybox', 'sleep', '600']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal((await d.run(['pause', 'frozen'])).code, 0);
  try {
    for (const c of clis) {
      const stopped = await cli(c, ['exec', 'idle', 'true']);
      assert.deepEqual(stopped, { code: 1, stdout: '', stderr: `Error response from daemon: container ${id} is not running\n` }, c);
      const paused = await cli(c, ['exec', 'frozen', 'true']);
      assert.deepEqual(paused, { code: 1, stdout: '', stderr: 'Error response from daemon: Container frozen is paused, unpause the container before exec\n' }, c);
    }
    assert.equal((await d.run(['unpause', 'frozen'])).code, 0);
    assert.equal((await d.run(['exec', 'frozen', 'echo', 'thawed'])).stdout, 'thawed\n');
  } finally {
    await d.run(['rm', '-f', 'idle', 'frozen']);
  }
});

test('--privileged gets the host\'s capabilities, a plain exec the container\'s', async () => {
  const capEff = async (args: string[]): Promise<bigint> => {
    const r = await d.run(['exec', ...args, 'box', 'sh', '-c', 'grep CapEff /proc/self/status']);
    assert.equal(r.code, 0, r.stderr);
    return BigInt('0x' + r.stdout.trim().split(/\s+/)[1]);
  };
  const plain = await capEff([]);
  const priv = await capEff(['--privileged']);
  assert.equal(plain, 0xa80425fbn); // Docker's default set
  const host = BigInt('0x' + /^CapBnd:\s*(\S+)$/m.exec(execFileSync('cat', ['/proc/self/status'], { encoding: 'utf8' }))![1]);
  assert.equal(priv, host);
});

test('the exec joins the container: its pid namespace, its cgroup, its rootfs', async () => {
  const inside = await d.run(['exec', 'box', 'sh', '-c', 'readlink /proc/1/ns/pid; readlink /proc/self/ns/pid; tr "\\0" " " </proc/1/cmdline; echo; grep -m1 :pids: /proc/self/cgroup']);
  assert.equal(inside.code, 0, inside.stderr);
  const [ns1, nsSelf, cmd1, cg] = inside.stdout.trim().split('\n');
  assert.equal(ns1, nsSelf);
  assert.equal(cmd1!.trim(), 'sleep 600');
  assert.match(cg!, new RegExp(`${d.cgroupParent}/${ctr}$`));
});

test('inspect: ExecIDs of running execs; exec inspect; events as moby emits them', async () => {
  const since = Math.floor(Date.now() / 1000);
  const r = await d.run(['exec', '-d', 'box', 'sleep', '300']);
  assert.equal(r.code, 0, r.stderr);
  let ids: string[] | null = null;
  await until(async () => {
    ids = JSON.parse((await d.run(['inspect', '-f', '{{json .ExecIDs}}', 'box'])).stdout) as string[] | null;
    return ids !== null;
  }, 'ExecIDs');
  assert.equal(ids!.length, 1);
  const [execId] = ids!;
  const done = await d.run(['exec', 'box', 'sh', '-c', 'exit 5']);
  assert.equal(done.code, 5);
  // The sleep is still there and listed; kill it and it goes from ExecIDs.
  const ps = await d.run(['exec', 'box', 'sh', '-c', 'kill $(pidof sleep | tr " " "\\n" | grep -vx 1)']);
  assert.equal(ps.code, 0, ps.stderr);
  await until(async () => (await d.run(['inspect', '-f', '{{json .ExecIDs}}', 'box'])).stdout.trim() === 'null', 'ExecIDs to empty');

  const ev = await d.run(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--format', '{{.Action}}|{{.Actor.Attributes.execID}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.name}}']);
  assert.equal(ev.code, 0, ev.stderr);
  const lines = ev.stdout.trim().split('\n');
  // Go templates print a missing map key as <no value>.
  assert.ok(lines.includes(`exec_create: sleep 300|${execId}|<no value>|box`), ev.stdout);
  assert.ok(lines.includes(`exec_start: sleep 300|${execId}|<no value>|box`), ev.stdout);
  assert.ok(lines.includes(`exec_die|${execId}|143|box`), ev.stdout);
  assert.ok(lines.some((l) => /^exec_die\|[0-9a-f]{64}\|5\|box$/.test(l)), ev.stdout);
});
