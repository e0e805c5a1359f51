import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm, readdir, readlink, readFile, copyFile, symlink, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ConmonRuntime, OciRuntimeError, type ConmonCreateOptions } from '../../src/runtime/conmon-runtime.js';
import { setUpRuntimes } from '../../src/runtime/oci-runtimes.js';
import { readLog } from '../../src/runtime/log-reader.js';
import { readBoundingCaps } from '../../src/runtime/capabilities.js';
import type { ExitInfo, SpecInput } from '../../src/runtime/types.js';

// Real containers through conmon and the runtime berthd would default to here (crun where it
// works, else runc) on a busybox rootfs. Needs root.
const skip = process.getuid?.() !== 0 ? 'needs root' : false;

let tmp = '';
let rootfs = '';
let execRoot = '';
let rt: ConmonRuntime;
const cgroupParent = `/berth-test-${randomBytes(4).toString('hex')}`;
const created = new Set<string>();

async function makeBusyboxRootfs(dir: string): Promise<void> {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root']) await mkdir(join(dir, d), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin/busybox'));
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  await Promise.all(applets.map((a) => symlink('busybox', join(dir, 'bin', a))));
  await writeFile(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  await writeFile(join(dir, 'etc/group'), 'root:x:0:\nwheel:x:10:app\napp:x:1000:\n');
}

before(async () => {
  if (skip) return;
  tmp = await mkdtemp(join(tmpdir(), 'berth-rt-'));
  rootfs = join(tmp, 'rootfs');
  execRoot = join(tmp, 'exec');
  await makeBusyboxRootfs(rootfs);
  rt = new ConmonRuntime({ execRoot, runtimes: await setUpRuntimes({ execRoot, cgroupParent, runtimes: {}, log: () => {} }) });
});

after(async () => {
  if (skip) return;
  for (const id of created) await rt.delete(id).catch(() => {});
  // Whatever survived a failed test: its conmon processes, then its cgroups.
  for (const pid of await readdir('/proc').then((l) => l.filter((p) => /^\d+$/.test(p)))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('conmon\0') || cmd.includes('/conmon\0')) {
      if (cmd.includes(execRoot)) process.kill(Number(pid), 'SIGKILL');
    }
  }
  for (const h of await readdir('/sys/fs/cgroup')) {
    const parent = join('/sys/fs/cgroup', h, cgroupParent);
    const kids = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const k of kids) if (k.isDirectory()) await rmdir(join(parent, k.name)).catch(() => {});
    await rmdir(parent).catch(() => {});
  }
  await rm(tmp, { recursive: true, force: true });
});

function spec(args: string[], over: Partial<SpecInput> = {}): SpecInput {
  const id = randomBytes(32).toString('hex');
  created.add(id);
  return {
    id, rootfs, args, env: [], cwd: '/', user: '', hostname: id.slice(0, 12), domainname: '',
    tty: false, readonlyRootfs: false, privileged: false, capAdd: [], capDrop: [], mounts: [],
    cgroupsPath: `${cgroupParent}/${id}`, netns: { mode: 'new' }, shmSize: 0, groupAdd: [], ...over,
  };
}

function opts(s: SpecInput, over: Partial<ConmonCreateOptions> = {}): ConmonCreateOptions {
  return { logPath: join(tmp, 'logs', `${s.id}.log`), tty: s.tty, openStdin: false, ...over };
}

// Resolves with the container's exit: registered before checking the exit file, so an exit
// between the two is not missed.
function exitOf(id: string): Promise<ExitInfo> {
  return new Promise((resolve, reject) => {
    const off = rt.onExit((info) => {
      if (info.id !== id) return;
      off();
      resolve(info);
    });
    rt.exitInfo(id).then((info) => {
      if (info) { off(); resolve(info); }
    }, reject);
  });
}

async function readAll(r: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

// Reads until `re` matches what arrived so far.
function waitFor(r: Readable, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (c: Buffer): void => {
      text += c.toString();
      if (re.test(text)) { r.off('data', onData); r.off('end', onEnd); resolve(text); }
    };
    const onEnd = (): void => reject(new Error(`stream ended before ${re}; got ${JSON.stringify(text)}`));
    r.on('data', onData);
    r.on('end', onEnd);
  });
}

async function run(args: string[], over: Partial<SpecInput> = {}): Promise<{ out: string; err: string; exit: ExitInfo; id: string }> {
  const s = spec(args, over);
  await rt.create(s, opts(s));
  const session = await rt.attach(s.id, { stdin: false, stdout: true, stderr: true });
  const exited = exitOf(s.id);
  await rt.start(s.id);
  const [out, err] = await Promise.all([readAll(session.stdout), readAll(session.stderr)]);
  await session.closed;
  const exit = await exited;
  return { out, err, exit, id: s.id };
}

test('echo hi: output through attach and through the log', { skip, timeout: 60_000 }, async () => {
  const { out, err, exit, id } = await run(['sh', '-c', 'echo hi; echo oops >&2']);
  assert.equal(out, 'hi\n');
  assert.equal(err, 'oops\n');
  assert.equal(exit.exitCode, 0);
  assert.ok(Date.now() - exit.finishedAt.getTime() < 60_000);
  const entries = [];
  for await (const e of readLog(join(tmp, 'logs', `${id}.log`))) entries.push([e.stream, e.data.toString()]);
  assert.deepEqual(entries.sort(), [['stderr', 'oops\n'], ['stdout', 'hi\n']]);
  await rt.delete(id);
  assert.equal(await rt.state(id), null);
  assert.equal(await rt.exitInfo(id), null);
  await assert.rejects(stat(rt.bundleDir(id)), { code: 'ENOENT' });
});

test('exit code of the container process', { skip, timeout: 60_000 }, async () => {
  const { exit } = await run(['sh', '-c', 'exit 3']);
  assert.equal(exit.exitCode, 3);
});

test('the process is PID 1 in namespaces of its own; env and user as Docker sets them', { skip, timeout: 60_000 }, async () => {
  const { out } = await run(['sh', '-c', 'echo $$; for n in pid net ipc uts mnt; do readlink /proc/1/ns/$n; done; echo "$HOSTNAME $HOME"; id -u']);
  const [pid, ...rest] = out.trim().split('\n');
  assert.equal(pid, '1');
  const nsLinks = rest.slice(0, 5);
  for (const [i, n] of ['pid', 'net', 'ipc', 'uts', 'mnt'].entries()) {
    assert.notEqual(nsLinks[i], await readlink(`/proc/self/ns/${n}`), `${n} namespace is the host's`);
    assert.match(nsLinks[i], new RegExp(`^${n}:\\[\\d+\\]$`));
  }
  assert.match(rest[5], /^[0-9a-f]{12} \/root$/);
  assert.equal(rest[6], '0');
  const asApp = await run(['id'], { user: 'app', groupAdd: ['77'] });
  // moby's getUser lists the primary group among the supplementary ones.
  assert.equal(asApp.out.trim(), 'uid=1000(app) gid=1000(app) groups=10(wheel),77,1000(app)');
});

test('host network namespace and --privileged', { skip, timeout: 60_000 }, async () => {
  const host = await run(['readlink', '/proc/1/ns/net'], { netns: { mode: 'host' } });
  assert.equal(host.out.trim(), await readlink('/proc/self/ns/net'));
  const priv = await run(['sh', '-c', 'grep CapEff /proc/self/status; ls /dev | wc -l'], { privileged: true });
  const capEff = /CapEff:\s*([0-9a-f]+)/.exec(priv.out)?.[1];
  const mask = (await readBoundingCaps()).length;
  assert.equal(priv.exit.exitCode, 0);
  assert.ok(capEff && BigInt('0x' + capEff).toString(2).replace(/0/g, '').length === mask, priv.out);
  const plain = await run(['grep', 'CapEff', '/proc/self/status']);
  assert.match(plain.out, /CapEff:\s*00000000a80425fb/); // Docker's 14 default capabilities
});

test('a missing command fails create with runc\'s message and exit code 127', { skip, timeout: 60_000 }, async () => {
  const s = spec(['nosuch']);
  await assert.rejects(rt.create(s, opts(s)), (err: unknown) => {
    assert.ok(err instanceof OciRuntimeError);
    assert.equal(err.exitCode, 127);
    assert.match(err.message, /exec: "nosuch": executable file not found in \$PATH/);
    return true;
  });
  assert.equal(await rt.state(s.id), null);
  await assert.rejects(stat(rt.bundleDir(s.id)), { code: 'ENOENT' });
});

test('kill: SIGKILL gives 137, SIGTERM to every process gives 143', { skip, timeout: 60_000 }, async () => {
  const a = spec(['sleep', '1000']);
  const created = await rt.create(a, opts(a));
  assert.ok(created.pid > 0 && created.conmonPid > 0);
  assert.equal((await rt.state(a.id))?.status, 'created');
  await rt.start(a.id);
  assert.equal((await rt.state(a.id))?.status, 'running');
  assert.equal(await rt.monitorAlive(a.id), true);
  await rt.pause(a.id);
  assert.equal((await rt.state(a.id))?.status, 'paused');
  await rt.resume(a.id);
  assert.equal((await rt.state(a.id))?.status, 'running');
  const exitA = exitOf(a.id);
  await rt.kill(a.id, 9);
  assert.equal((await exitA).exitCode, 137);

  // PID 1 ignores SIGTERM without a handler (as in Docker): sh waits for a child that doesn't.
  const b = spec(['sh', '-c', 'sleep 1000; exit $?']);
  await rt.create(b, opts(b));
  const exitB = exitOf(b.id);
  await rt.start(b.id);
  await rt.kill(b.id, 15, true);
  assert.equal((await exitB).exitCode, 143);
  await rt.delete(b.id);
  assert.equal(await rt.monitorAlive(b.id), false);
});

test('stdin through attach: EOF closes it when stdinOnce', { skip, timeout: 60_000 }, async () => {
  const s = spec(['cat']);
  await rt.create(s, opts(s, { openStdin: true, stdinOnce: true }));
  const session = await rt.attach(s.id, { stdin: true, stdout: true, stderr: true });
  const exited = exitOf(s.id);
  await rt.start(s.id);
  const big = 'x'.repeat(100_000) + '\n';
  session.stdin!.write('hello\n');
  session.stdin!.end(big);
  const out = await readAll(session.stdout);
  assert.equal(out, 'hello\n' + big);
  assert.equal((await exited).exitCode, 0);
});

test('stdin stays open across attaches without stdinOnce', { skip, timeout: 60_000 }, async () => {
  const s = spec(['cat']);
  await rt.create(s, opts(s, { openStdin: true }));
  await rt.start(s.id);
  const first = await rt.attach(s.id, { stdin: true, stdout: true, stderr: false });
  first.stdin!.end('one\n');
  assert.match(await waitFor(first.stdout, /one\n/), /one/);
  first.close();
  await first.closed;
  const second = await rt.attach(s.id, { stdin: true, stdout: true, stderr: false });
  second.stdin!.write('two\n');
  assert.equal(await waitFor(second.stdout, /two\n/), 'two\n');
  const exited = exitOf(s.id);
  await rt.kill(s.id, 9);
  assert.equal((await exited).exitCode, 137);
  await second.closed;
});

test('tty session: resize, interactive shell, exit code', { skip, timeout: 60_000 }, async () => {
  const s = spec(['sh'], { tty: true });
  await rt.create(s, opts(s, { openStdin: true, stdinOnce: true }));
  const session = await rt.attach(s.id, { stdin: true, stdout: true, stderr: true });
  const exited = exitOf(s.id);
  await rt.start(s.id);
  await rt.resize(s.id, 40, 123);
  session.stdin!.write('stty size; echo "term=$TERM"; tty\n');
  const text = await waitFor(session.stdout, /\/dev\/pts\/\d+/);
  assert.match(text, /\r\n40 123\r\n/);
  assert.match(text, /term=xterm/);
  await rt.resize(s.id, 10, 20);
  session.stdin!.write('stty size\n');
  assert.match(await waitFor(session.stdout, /10 20/), /10 20/);
  session.stdin!.write('exit 7\n');
  await session.closed;
  assert.equal(await readAll(session.stderr), '');
  assert.equal((await exited).exitCode, 7);
});

test('conmon keeps the container, its log and its exit file when its creator is SIGKILLed', { skip, timeout: 60_000 }, async (t) => {
  const s = spec(['sh', '-c', 'trap "echo bye; exit 5" TERM; echo started; while true; do sleep 0.1; done']);
  const logPath = opts(s).logPath;
  const here = dirname(fileURLToPath(import.meta.url));
  const script = join(tmp, 'creator.mts');
  await writeFile(script, `
    import { ConmonRuntime } from ${JSON.stringify(join(here, '../../src/runtime/conmon-runtime.ts'))};
    const [execRoot, specJson, logPath] = process.argv.slice(2);
    const rt = new ConmonRuntime({ execRoot });
    const r = await rt.create(JSON.parse(specJson), { logPath, tty: false, openStdin: false });
    await rt.start(JSON.parse(specJson).id);
    process.stdout.write(JSON.stringify(r) + '\\n');
    setInterval(() => {}, 1 << 30);
  `);
  const child = spawn(process.execPath, ['--import', 'tsx', script, execRoot, JSON.stringify(s), logPath], {
    cwd: join(here, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => { child.kill('SIGKILL'); });
  const line = await waitFor(child.stdout, /\n/);
  const { pid, conmonPid } = JSON.parse(line) as { pid: number; conmonPid: number };
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;

  assert.equal(await rt.monitorAlive(s.id), true);
  assert.equal((await rt.state(s.id))?.status, 'running');
  assert.equal((await rt.state(s.id))?.pid, pid);
  assert.ok(Number((await readFile(join(rt.bundleDir(s.id), 'conmon.pid'), 'utf8'))) === conmonPid);
  const exited = exitOf(s.id);
  await rt.kill(s.id, 15);
  const info = await exited;
  assert.equal(info.exitCode, 5);
  const lines: string[] = [];
  for await (const e of readLog(logPath)) lines.push(e.data.toString());
  assert.deepEqual(lines, ['started\n', 'bye\n']);
});

test('large output and many sessions at once through the one poller', { skip, timeout: 60_000 }, async () => {
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => run(['sh', '-c', `yes line-${i} | head -n 50000; echo done-${i} >&2`])),
  );
  for (const [i, r] of results.entries()) {
    assert.equal(r.out.length, `line-${i}\n`.length * 50000);
    assert.equal(r.out, `line-${i}\n`.repeat(50000));
    assert.equal(r.err, `done-${i}\n`);
    assert.equal(r.exit.exitCode, 0);
  }
  let count = 0;
  for await (const e of readLog(join(tmp, 'logs', `${results[0].id}.log`), { tail: 3 })) {
    count++;
    assert.match(e.data.toString(), /^(line-0|done-0)\n$/);
  }
  assert.equal(count, 3);
});

test('a session whose output stream is destroyed does not hold the container up', { skip, timeout: 60_000 }, async () => {
  const s = spec(['sh', '-c', 'yes | head -n 200000 >/dev/stdout; echo end']);
  await rt.create(s, opts(s));
  const session = await rt.attach(s.id, { stdin: false, stdout: true, stderr: false });
  const exited = exitOf(s.id);
  session.stdout.destroy();
  await rt.start(s.id);
  assert.equal((await exited).exitCode, 0);
  await session.closed;
});

// Which of runc's traces of a container are on disk: its state dir and its cgroups.
async function runcTraces(id: string): Promise<string[]> {
  const found: string[] = [];
  if (await stat(join(rt.runtimes.default.root, id)).then(() => true, () => false)) found.push('state');
  for (const h of await readdir('/sys/fs/cgroup')) {
    if (await stat(join('/sys/fs/cgroup', h, cgroupParent, id)).then(() => true, () => false)) found.push(h);
  }
  return found;
}

test('start and delete without spawning runc leave runc nothing of the container', { skip, timeout: 60_000 }, async () => {
  const s = spec(['sh', '-c', 'echo ran']);
  await rt.create(s, opts(s));
  assert.equal((await rt.state(s.id))?.status, 'created');
  assert.ok((await runcTraces(s.id)).includes('memory'), 'runc made the cgroups');
  const session = await rt.attach(s.id, { stdin: false, stdout: true, stderr: false });
  const exited = exitOf(s.id);
  await rt.start(s.id);
  await assert.rejects(stat(join(rt.runtimes.default.root, s.id, 'exec.fifo')), { code: 'ENOENT' }, 'the runtime reports it as started');
  assert.equal(await readAll(session.stdout), 'ran\n');
  assert.equal((await exited).exitCode, 0);
  assert.equal((await rt.state(s.id))?.status, 'stopped');
  await rt.delete(s.id);
  assert.deepEqual(await runcTraces(s.id), []);
  assert.equal(await rt.state(s.id), null);
  await rt.delete(s.id); // again: nothing left to do
});

test('a container never started, or whose process died before start, is still cleaned up', { skip, timeout: 60_000 }, async () => {
  // Created only: its init waits on the exec fifo, so delete needs runc's --force.
  const a = spec(['true']);
  await rt.create(a, opts(a));
  await rt.delete(a.id);
  assert.deepEqual(await runcTraces(a.id), []);
  assert.equal(await rt.monitorAlive(a.id), false);

  // Init killed between create and start: start fails as runc says, delete still cleans.
  const b = spec(['true']);
  const { pid } = await rt.create(b, opts(b));
  const exited = exitOf(b.id);
  process.kill(pid, 'SIGKILL');
  await exited;
  await assert.rejects(rt.start(b.id), /stopped|not running|already dead|cannot start/);
  await rt.delete(b.id);
  assert.deepEqual(await runcTraces(b.id), []);
});
