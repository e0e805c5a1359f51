import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TestDaemon, type RunResult } from '../helpers/daemon.js';
import { Tmux, shq } from './tty-tmux.js';

// The warm CLI: dist/berth-launcher hands calls to a CLI server (src/cli/server/) on a
// private socket; every call here is also checked against the cold CLI (node bin/berth).
// BERTH_CLI_DEBUG=1 makes the launcher say on stderr when (and why) it ran cold.

const repo = resolve(import.meta.dirname, '../..');
const launcher = join(repo, 'dist/berth-launcher');
const coldBin = join(repo, 'bin/berth');
const noLauncher = !existsSync(launcher) && 'dist/berth-launcher was not built (no C compiler at build time)';
const COLD_NOTE = /^berth-launcher: cold: .*\n/gm;

let d: TestDaemon;
let dir: string;
let sock: string;
let serverLog: string;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    BERTH_HOST: d.host,
    DOCKER_CONFIG: join(d.dir, 'docker-config'),
    BERTH_CLI_SOCKET: sock,
    BERTH_CLI_SERVER_LOG: serverLog,
    BERTH_CLI_DEBUG: '1',
    ...extra,
  };
}

interface CallOptions {
  input?: string | Buffer;
  stdinFile?: string;
  env?: Record<string, string>;
  cwd?: string;
  // Runs through `sh -c 'umask …; exec …'`.
  umask?: string;
  // A command that runs the call (strace).
  wrap?: string[];
}

interface Running {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

function start(which: 'warm' | 'cold', args: string[], opts: CallOptions = {}): Running {
  let cmd = which === 'warm' ? launcher : process.execPath;
  let argv = which === 'warm' ? args : [coldBin, ...args];
  if (opts.umask) {
    argv = ['-c', `umask ${opts.umask}; exec "$@"`, 'sh', cmd, ...argv];
    cmd = 'sh';
  }
  if (opts.wrap) {
    argv = [...opts.wrap.slice(1), cmd, ...argv];
    cmd = opts.wrap[0]!;
  }
  const stdinFd = opts.stdinFile ? openSync(opts.stdinFile, 'r') : undefined;
  const proc = spawn(cmd, argv, { env: env(opts.env), cwd: opts.cwd ?? dir, stdio: [stdinFd ?? 'pipe', 'pipe', 'pipe'] });
  if (stdinFd !== undefined) closeSync(stdinFd);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  if (proc.stdin) {
    if (opts.input !== undefined) proc.stdin.end(opts.input);
    else proc.stdin.end();
  }
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((res, rej) => {
    proc.on('error', rej);
    proc.on('close', (code, signal) => res({ code: code ?? -1, signal, stdout, stderr }));
  });
  return { proc, stdout: () => stdout, stderr: () => stderr, done };
}

// A warm call: it must not have run cold.
async function warm(args: string[], opts: CallOptions = {}): Promise<RunResult> {
  const r = await start('warm', args, opts).done;
  assert.doesNotMatch(r.stderr, COLD_NOTE, `${args.join(' ')} ran cold; server log:\n${readLog()}`);
  return r;
}

const cold = (args: string[], opts: CallOptions = {}): Promise<RunResult> => start('cold', args, opts).done;

function serverPid(): number | undefined {
  try {
    const pid = Number(readFileSync(`${sock}.lock`, 'utf8').trim());
    if (!pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

// Listening, without connecting: a probe connection would itself be a caller, and keep the
// server busy for a moment.
function listening(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 10; !(await cond()); delay = Math.min(delay * 2, 200)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; server log:\n${readLog()}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

function readLog(): string {
  try {
    return readFileSync(serverLog, 'utf8');
  } catch {
    return '';
  }
}

async function ensureServer(): Promise<number> {
  const running = serverPid();
  if (running && listening(sock)) return running;
  // A server killed by a signal leaves its socket file; the next one replaces it.
  await rm(sock, { force: true });
  const log = openSync(serverLog, 'a');
  const p = spawn(process.execPath, [join(repo, 'bin/berth-cli-server')], { env: env(), stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  p.unref();
  await until('the CLI server', () => serverPid() !== undefined && listening(sock));
  return serverPid()!;
}

async function stopServer(): Promise<void> {
  const pid = serverPid();
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  await until('the CLI server to exit', () => serverPid() === undefined);
  await rm(sock, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  if (noLauncher) return;
  d = await TestDaemon.start();
  dir = await mkdtemp('/tmp/berth-clisrv-');
  await mkdir(join(dir, 'run'), { mode: 0o700 });
  sock = join(dir, 'run', 'cli.sock');
  serverLog = join(dir, 'server.log');
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});

after(async () => {
  if (noLauncher) return;
  await stopServer().catch(() => undefined);
  await d?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('warm and cold print the same and exit the same', { skip: noLauncher }, async () => {
  await ensureServer();
  const cases: Array<[string[], number]> = [
    [['--version'], 0],
    [['--help'], 0],
    [['run', '--help'], 0],
    [['no-such-command'], 1],
    [['run', '--no-such-flag', 'busybox'], 125],
    [['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'], 3],
    [['run', '--rm', 'busybox', 'no-such-binary'], 127],
    [['run', '--rm', 'no-such-image-cliserver'], 125],
    [['inspect', 'no-such-container'], 1],
    [['images', '--format', '{{.Repository}}:{{.Tag}}'], 0],
    [['run', '--rm', 'busybox', 'true'], 0],
  ];
  for (const [args, code] of cases) {
    const w = await warm(args);
    const c = await cold(args);
    assert.equal(w.code, code, `${args.join(' ')}: ${w.stderr}`);
    assert.deepEqual({ ...w, stderr: w.stderr.replace(COLD_NOTE, '') }, c, args.join(' '));
  }
});

test('stdin is the caller\'s: a pipe, a file', { skip: noLauncher }, async () => {
  await ensureServer();
  const r = await warm(['run', '-i', '--rm', 'busybox', 'cat'], { input: 'x\ny\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'x\ny\n');
  const big = Buffer.alloc(300_000, 'a');
  const wc = await warm(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: big });
  assert.equal(wc.stdout.trim(), String(big.length), wc.stderr);
  // No -i: the container gets no stdin, as cold.
  const noI = await warm(['run', '--rm', 'busybox', 'cat'], { input: 'ignored\n' });
  assert.deepEqual([noI.code, noI.stdout], [0, '']);
  const file = join(dir, 'stdin.txt');
  await writeFile(file, 'from a file\n');
  const f = await warm(['run', '-i', '--rm', 'busybox', 'cat'], { stdinFile: file });
  assert.equal(f.stdout, 'from a file\n', f.stderr);
});

test('relative paths, cwd and umask are the caller\'s', { skip: noLauncher }, async () => {
  await ensureServer();
  const work = join(dir, 'work');
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'vars.env'), 'GREETING=from env file\n');
  await writeFile(join(work, 'x.txt'), 'copied in\n');
  const env = await warm(['run', '--rm', '--env-file', './vars.env', 'busybox', 'sh', '-c', 'echo $GREETING'], { cwd: work });
  assert.equal(env.stdout, 'from env file\n', env.stderr);

  const name = `clisrv-cp-${process.pid}`;
  const c = await warm(['run', '-d', '--name', name, '--cidfile', './cid', 'busybox', 'sleep', '600'], { cwd: work });
  assert.equal(c.code, 0, c.stderr);
  try {
    assert.equal((await readFile(join(work, 'cid'), 'utf8')).trim(), c.stdout.trim());
    assert.equal((await warm(['cp', './x.txt', `${name}:/x.txt`], { cwd: work })).code, 0);
    assert.equal((await warm(['cp', `${name}:/x.txt`, './back.txt'], { cwd: work })).code, 0);
    assert.equal(await readFile(join(work, 'back.txt'), 'utf8'), 'copied in\n');
  } finally {
    await d.run(['rm', '-f', name]);
  }

  // -o through the caller's umask; load from a relative path and from stdin (a file).
  const saved = await warm(['save', '-o', 'img.tar', 'busybox'], { cwd: work, umask: '077' });
  assert.equal(saved.code, 0, saved.stderr);
  assert.equal((await stat(join(work, 'img.tar'))).mode & 0o777, 0o600);
  const loadI = await warm(['load', '-i', 'img.tar'], { cwd: work });
  assert.equal(loadI.code, 0, loadI.stderr);
  const loadStdin = await warm(['load'], { cwd: work, stdinFile: join(work, 'img.tar') });
  assert.equal(loadStdin.code, 0, loadStdin.stderr);
  assert.equal(loadStdin.stdout, loadI.stdout);
  assert.equal((await cold(['load'], { cwd: work, stdinFile: join(work, 'img.tar') })).stdout, loadI.stdout);
});

test('signals reach the command: SIGTERM is proxied to the container', { skip: noLauncher }, async () => {
  await ensureServer();
  const r = start('warm', ['run', '--rm', 'busybox', 'sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while true; do sleep 0.1; done']);
  await until('the container to start', () => r.stdout().includes('ready'));
  r.proc.kill('SIGTERM');
  const res = await r.done;
  assert.equal(res.code, 7, res.stderr);
  assert.equal(res.stdout, 'ready\ngot TERM\n');
  assert.doesNotMatch(res.stderr, COLD_NOTE);
});

test('SIGINT without a handler ends the call as killed by SIGINT; the server does not serve on', { skip: noLauncher }, async () => {
  const pid = await ensureServer();
  const name = `clisrv-logs-${process.pid}`;
  assert.equal((await d.run(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo line; exec sleep 600'])).code, 0);
  try {
    const r = start('warm', ['logs', '-f', name]);
    await until('the log line', () => r.stdout().includes('line'));
    r.proc.kill('SIGINT');
    const res = await r.done;
    assert.equal(res.signal, 'SIGINT', JSON.stringify(res));
    // The call's stream was still open: the server exits rather than serve beside it.
    await until('the server to exit', () => !alive(pid));
  } finally {
    await d.run(['rm', '-f', name]);
  }
});

test('a second caller while one call runs is told busy and runs cold', { skip: noLauncher }, async () => {
  const pid = await ensureServer();
  const name = `clisrv-busy-${process.pid}`;
  assert.equal((await d.run(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo line; exec sleep 600'])).code, 0);
  const first = start('warm', ['logs', '-f', name]);
  try {
    await until('the log line', () => first.stdout().includes('line'));
    const second = await start('warm', ['--version']).done;
    assert.match(second.stderr, /^berth-launcher: cold: busy$/m, `second: ${JSON.stringify(second)}; first so far: ${first.stderr()}; server log:\n${readLog()}`);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /^berth version /);
    if (hasStrace()) {
      // A caller slow to send (a loaded machine) finds the server's "busy" already sent and
      // its connection closed (EPIPE): it still runs cold, and says why.
      const slow = await start('warm', ['--version'], { wrap: ['strace', '-o', '/dev/null', '-e', 'trace=sendmsg', '-e', 'inject=sendmsg:delay_enter=500000'] }).done;
      assert.match(slow.stderr, /^berth-launcher: cold: busy$/m, JSON.stringify(slow));
      assert.match(slow.stdout, /^berth version /);
    }
  } finally {
    await d.run(['rm', '-f', name]);
  }
  // The container went away: logs -f ends on its own, cleanly, and the server serves on.
  const res = await first.done;
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, 'line\n');
  assert.equal((await warm(['--version'])).code, 0);
  assert.equal(serverPid(), pid);
});

test('no server: the call runs cold and starts one for the next; BERTH_CLI_SERVER=0 does neither', { skip: noLauncher }, async () => {
  await stopServer();
  const off = await start('warm', ['--version'], { env: { BERTH_CLI_SERVER: '0' } }).done;
  assert.match(off.stderr, /cold: BERTH_CLI_SERVER=0/);
  assert.equal(off.code, 0);
  assert.equal(serverPid(), undefined);
  const first = await start('warm', ['--version']).done;
  assert.match(first.stderr, /cold: no server/);
  assert.equal(first.code, 0);
  await until('the started server', () => serverPid() !== undefined && listening(sock));
  const next = await warm(['--version']);
  assert.equal(next.stdout, first.stdout);
  // With a server there, BERTH_CLI_SERVER=0 still runs cold.
  const off2 = await start('warm', ['--version'], { env: { BERTH_CLI_SERVER: '0' } }).done;
  assert.match(off2.stderr, /cold: BERTH_CLI_SERVER=0/);
});

test('a call that leaves work behind or throws makes the server exit', { skip: noLauncher }, async (t) => {
  const fixtureSock = join(dir, 'run', 'fixture.sock');
  const log = join(dir, 'fixture.log');
  const startFixture = (): ChildProcess => spawn(process.execPath, ['--import', 'tsx', join(repo, 'test/integration/cli-server-fixture.ts'), fixtureSock, log], { cwd: repo, stdio: 'ignore' });
  const call = (args: string[]): Promise<RunResult & { signal: NodeJS.Signals | null }> => start('warm', args, { env: { BERTH_CLI_SOCKET: fixtureSock, BERTH_CLI_SERVER: '1' } }).done;
  const exited = (p: ChildProcess): Promise<number | null> => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (c) => r(c))));

  let p = startFixture();
  t.after(() => p.kill('SIGKILL'));
  await until('the fixture server', () => listening(fixtureSock));
  const ok = await call(['echo', 'a', 'b']);
  assert.deepEqual([ok.code, ok.stdout], [0, 'a b\n'], ok.stderr);
  if (hasStrace()) {
    // A launcher slow to go once it has its status (a loaded machine) is not work the call
    // left behind.
    const slow = await start('warm', ['echo', 'slow'], { env: { BERTH_CLI_SOCKET: fixtureSock, BERTH_CLI_SERVER: '1' }, wrap: ['strace', '-o', '/dev/null', '-e', 'trace=exit_group', '-e', 'inject=exit_group:delay_enter=500000'] }).done;
    assert.deepEqual([slow.code, slow.stdout, slow.stderr], [0, 'slow\n', '']);
  }
  const leak = await call(['leak']);
  assert.deepEqual([leak.code, leak.stdout], [0, 'leaving a timer\n'], leak.stderr);
  await exited(p);
  assert.match(await readFile(log, 'utf8'), /left work behind/);

  p = startFixture();
  await until('the fixture server', () => listening(fixtureSock));
  const thrown = await call(['throw']);
  assert.equal(thrown.code, 1);
  assert.match(thrown.stderr, /Error: boom from an event handler/);
  await exited(p);
});

test('the server refuses another user', { skip: noLauncher || (!hasPython() && 'python3 is missing') }, async () => {
  await ensureServer();
  // The socket is 0600 in a 0700 directory; opened up here so that another uid reaches it.
  await chmod(join(dir, 'run'), 0o755);
  await chmod(sock, 0o666);
  await chmod(dir, 0o755);
  try {
    // A client that sends a request (with its fds) as nobody: the server answers busy.
    const py = [
      'import socket, struct, array',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      `s.connect(${JSON.stringify(sock)})`,
      "p = struct.pack('<IIII', 1, 0o22, 1, 0) + b'/\\0--version\\0'",
      // The server may answer (and close) before the request is even sent.
      'try:',
      "    s.sendmsg([struct.pack('<IB', len(p), 1) + p], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [0, 1, 2]))])",
      'except BrokenPipeError:',
      '    pass',
      'h = s.recv(5); print(h[4], s.recv(64).decode())',
    ].join('\n');
    const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/python3', '-c', py], { encoding: 'utf8' });
    assert.equal(out.trim(), '17 another user');
    // And the launcher, as nobody, does not talk to a server of another uid at all.
    const r = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', launcher, '--version'], { encoding: 'utf8', env: env(), cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(r, /^berth version /);
  } finally {
    await chmod(sock, 0o600).catch(() => undefined);
    await chmod(join(dir, 'run'), 0o700);
  }
});

function hasStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasPython(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['--version'], { stdio: 'ignore' });
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('run -it through the launcher: a terminal, its size, detach keys', { skip: noLauncher || (!hasTmux() && 'tmux is not installed') }, async (t) => {
  await ensureServer();
  const tmux = await Tmux.create(dir);
  t.after(() => tmux.killServer());
  const vars = Object.entries(env()).filter(([k]) => k.startsWith('BERTH_') || k === 'DOCKER_CONFIG' || k === 'PATH');
  const line = (args: string[]): string => ['env', ...vars.map(([k, v]) => `${k}=${shq(v!)}`), shq(launcher), ...args.map(shq)].join(' ');

  await tmux.start('it', line(['run', '-it', '--rm', 'busybox', 'sh']), { width: 90, height: 25 });
  await tmux.waitFor('it', /^\/ #\s*$/m);
  await tmux.type('it', 'stty size; echo $((6*7))');
  await tmux.waitFor('it', /^25 90\r?$[\s\S]*^42\r?$/m);
  await tmux.resize('it', 70, 20);
  await tmux.type('it', 'stty size');
  await tmux.waitFor('it', /^20 70\r?$/m);
  await tmux.type('it', 'exit 5');
  assert.equal(await tmux.exitStatus('it'), 5);
  assert.doesNotMatch(await tmux.screen('it'), /berth-launcher: cold/);

  const name = `clisrv-it-${process.pid}`;
  await tmux.start('detach', line(['run', '-it', '--name', name, 'busybox', 'sh']));
  try {
    await tmux.waitFor('detach', /^\/ #\s*$/m);
    await tmux.keys('detach', 'C-p', 'C-q');
    assert.equal(await tmux.exitStatus('detach'), 0);
    const st = await d.run(['inspect', '--format', '{{.State.Running}}', name]);
    assert.equal(st.stdout.trim(), 'true');
  } finally {
    await d.run(['rm', '-f', name]);
  }
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
