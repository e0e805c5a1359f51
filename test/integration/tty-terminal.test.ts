import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { TestDaemon, berthEntry } from '../helpers/daemon.js';
import { Tmux, shq } from './tty-tmux.js';

// `run -it`, `start -ai` and `attach` in real terminals (tmux panes), driven by keys as a
// user types them, with berth's CLI and with the real docker CLI against berthd.

const has = (cmd: string, versionFlag: string): boolean => {
  try {
    execFileSync(cmd, [versionFlag], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const noTmux = !has('tmux', '-V') && 'tmux is not installed';
const noDocker = (!has('docker', '--version') && 'the docker CLI is not installed') || noTmux;

let d: TestDaemon;
let tmux: Tmux;

before(async () => {
  if (noTmux) return;
  d = await TestDaemon.start();
  tmux = await Tmux.create(d.dir);
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  // The sessions first: their CLIs hold attach connections to the daemon.
  await tmux?.killServer();
  await d?.cleanup();
});

type Cli = 'berth' | 'docker';

// The CLI's command line inside a pane; env picks the config file it reads (null unsets).
function cli(which: Cli, args: string[], env: Record<string, string | null> = {}): string {
  const base = which === 'berth' ? [process.execPath, berthEntry] : ['docker'];
  const all: Record<string, string | null> = { BERTH_CONFIG: null, DOCKER_CLI_HINTS: 'false', DOCKER_CONFIG: join(d.dir, 'docker-config'), ...env };
  const unset = Object.keys(all).filter((k) => all[k] === null).map((k) => `-u ${k}`);
  const set = Object.entries(all).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${shq(v!)}`);
  return ['env', ...unset, ...set, ...base.map(shq), '-H', shq(d.host), ...args.map(shq)].join(' ');
}

interface State {
  Status: string;
  Running: boolean;
  ExitCode: number;
}

async function inspect(name: string): Promise<{ State: State; Config: { Tty: boolean; OpenStdin: boolean; StdinOnce: boolean } }> {
  const r = await d.run(['inspect', name]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

const PROMPT = /^\/ # ?$/m;
const lastLineIsPrompt = (s: string): boolean => /\/ #\s*$/.test(s.trimEnd());

// The shell answers: what `line` prints shows up as a line of its own.
async function shell(pane: string, line: string, want: RegExp): Promise<string> {
  await tmux.type(pane, line);
  return tmux.waitFor(pane, want);
}

let probes = 0;

// The container's tty reaches the expected size. A resize travels CLI → berthd → conmon
// while the test types, so the size is asked again until it is right (or the wait ends).
async function expectSize(pane: string, height: number, width: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let seen = '';
  while (Date.now() < deadline) {
    const probe = `size${++probes}:`;
    const screen = await shell(pane, `echo ${probe} $(stty size)`, new RegExp(`^${probe} \\d+ \\d+$`, 'm'));
    seen = new RegExp(`^${probe} (\\d+ \\d+)$`, 'm').exec(screen)![1]!;
    if (seen === `${height} ${width}`) return;
  }
  assert.fail(`${pane}: tty size ${seen}, want ${height} ${width}`);
}

for (const which of ['berth', 'docker'] as Cli[]) {
  test(`${which}: run -it is a real terminal; detach, re-attach, exit code`, { skip: which === 'docker' ? noDocker : noTmux }, async (t) => {
    const name = `tty-${which}`;
    const run = `${name}-run`;
    const att = `${name}-attach`;
    t.after(async () => {
      await tmux.kill(run);
      await tmux.kill(att);
    });
    await tmux.start(run, cli(which, ['run', '-it', '--name', name, 'busybox', 'sh']), { width: 100, height: 30 });
    await tmux.waitFor(run, PROMPT);
    let c = await inspect(name);
    assert.deepEqual([c.State.Status, c.Config.Tty, c.Config.OpenStdin], ['running', true, true]);

    await shell(run, 'echo $((6*7))', /^42$/m);
    // The size the terminal had when the container was created, and the new one after a resize.
    await expectSize(run, 30, 100);
    await tmux.resize(run, 120, 40);
    await expectSize(run, 40, 120);

    // ctrl-p ctrl-q: the CLI leaves with 0, the shell goes on.
    await tmux.keys(run, 'C-p', 'C-q');
    assert.equal(await tmux.exitStatus(run), 0, await tmux.screen(run));
    c = await inspect(name);
    assert.deepEqual([c.State.Status, c.State.Running], ['running', true]);

    // A re-attach shows the live shell at once (its prompt, redrawn on the resize) at this
    // terminal's size, and its input still works: the detach closed no stdin.
    await tmux.start(att, cli(which, ['attach', name]), { width: 90, height: 25 });
    await tmux.waitFor(att, PROMPT);
    await expectSize(att, 25, 90);
    await shell(att, 'echo $((6*7)) again', /^42 again$/m);
    c = await inspect(name);
    assert.equal(c.State.Status, 'running');

    await tmux.type(att, 'exit 3');
    assert.equal(await tmux.exitStatus(att), 3, await tmux.screen(att));
    c = await inspect(name);
    assert.deepEqual([c.State.Status, c.State.Running, c.State.ExitCode], ['exited', false, 3]);
  });
}

test('start -ai of a created -it container; ctrl-c goes to the shell, not the CLI', { skip: noTmux }, async (t) => {
  const name = 'tty-start';
  const pane = 'start-ai';
  t.after(() => tmux.kill(pane));
  const created = await d.run(['create', '-it', '--name', name, 'busybox', 'sh']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal((await inspect(name)).State.Status, 'created');

  await tmux.start(pane, cli('berth', ['start', '-ai', name]), { width: 70, height: 20 });
  await tmux.waitFor(pane, PROMPT);
  await expectSize(pane, 20, 70);
  // Raw mode: ctrl-c is a byte for the container's tty, whose line discipline interrupts
  // `sleep`; the CLI and the container live on.
  await tmux.type(pane, 'sleep 600; echo not-interrupted');
  await tmux.waitFor(pane, /sleep 600; echo not-interrupted\s*$/);
  await tmux.keys(pane, 'C-c');
  await tmux.waitFor(pane, (s) => /\^C/.test(s) && lastLineIsPrompt(s));
  await shell(pane, 'echo alive-$((1+1))', /^alive-2$/m);
  assert.equal((await inspect(name)).State.Status, 'running');
  assert.doesNotMatch(await tmux.screen(pane), /^not-interrupted$/m);

  await tmux.type(pane, 'exit 4');
  assert.equal(await tmux.exitStatus(pane), 4, await tmux.screen(pane));
  const c = await inspect(name);
  assert.deepEqual([c.State.Status, c.State.ExitCode], ['exited', 4]);
});

test('--detach-keys, and detachKeys from the client config file', { skip: noDocker }, async (t) => {
  const name = 'tty-keys';
  const panes = ['keys-run', 'keys-docker-config', 'keys-berth-home', 'keys-docker-cli'];
  t.after(async () => {
    for (const p of panes) await tmux.kill(p);
  });
  await tmux.start(panes[0]!, cli('berth', ['run', '-it', '--detach-keys', 'ctrl-x,x', '--name', name, 'busybox', 'sh']));
  await tmux.waitFor(panes[0]!, PROMPT);
  // The default sequence is now plain input; ctrl-u clears whatever it did to the line.
  await tmux.keys(panes[0]!, 'C-p', 'C-q', 'C-u');
  await shell(panes[0]!, 'echo $((5+5))', /^10$/m);
  await tmux.keys(panes[0]!, 'C-x', 'x');
  assert.equal(await tmux.exitStatus(panes[0]!), 0, await tmux.screen(panes[0]!));
  assert.equal((await inspect(name)).State.Status, 'running');

  // $DOCKER_CONFIG/config.json, as docker reads it.
  const dockerConfig = join(d.dir, 'keys-docker-config');
  await mkdir(dockerConfig, { recursive: true });
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-a,d' }));
  await tmux.start(panes[1]!, cli('berth', ['attach', name], { DOCKER_CONFIG: dockerConfig }));
  await tmux.waitFor(panes[1]!, PROMPT);
  await tmux.keys(panes[1]!, 'C-a', 'd');
  // `attach` reports a detach as docker does: the error text and status 1.
  assert.equal(await tmux.exitStatus(panes[1]!), 1);
  assert.match(await tmux.screen(panes[1]!), /read escape sequence$/m);

  // ~/.berth/config.json over ~/.docker/config.json when no directory is named.
  const home = join(d.dir, 'keys-home');
  await mkdir(join(home, '.berth'), { recursive: true });
  await mkdir(join(home, '.docker'), { recursive: true });
  await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ detachKeys: 'ctrl-a,d' }));
  await writeFile(join(home, '.berth', 'config.json'), JSON.stringify({ detachKeys: 'ctrl-b,b' }));
  await tmux.start(panes[2]!, cli('berth', ['attach', name], { DOCKER_CONFIG: null, HOME: home }));
  await tmux.waitFor(panes[2]!, PROMPT);
  await tmux.keys(panes[2]!, 'C-b', 'b');
  assert.equal(await tmux.exitStatus(panes[2]!), 1);

  // The docker CLI with the same config file, against berthd.
  await tmux.start(panes[3]!, cli('docker', ['attach', name], { DOCKER_CONFIG: dockerConfig }));
  await tmux.waitFor(panes[3]!, PROMPT);
  await tmux.keys(panes[3]!, 'C-a', 'd');
  assert.equal(await tmux.exitStatus(panes[3]!), 1);
  assert.match(await tmux.screen(panes[3]!), /read escape sequence$/m);

  const c = await inspect(name);
  assert.deepEqual([c.State.Status, c.State.Running], ['running', true]);
  await d.run(['rm', '-f', name]);
});

test('-i without -t streams stdin, to its end', { skip: noDocker }, async () => {
  const input = Array.from({ length: 20000 }, (_, i) => `line ${i}\n`).join('');
  for (const which of ['berth', 'docker'] as Cli[]) {
    const r = await d.run(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'wc -l; echo bye >&2; exit 7'], { cli: which, input });
    assert.equal(r.stdout.trim(), '20000', `${which}: ${r.stderr}`);
    assert.equal(r.stderr, 'bye\n');
    assert.equal(r.code, 7);
  }
});

// sh as pid 1 only dies of a signal it traps.
const TRAPPER = ['busybox', 'sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; while true; do sleep 0.1; done'];

for (const which of ['berth', 'docker'] as Cli[]) {
  test(`${which}: without a TTY, ctrl-c reaches the container through --sig-proxy`, { skip: which === 'docker' ? noDocker : noTmux }, async (t) => {
    const name = `tty-sig-${which}`;
    const panes = [`sig-attach-${which}`, `sig-run-${which}`];
    t.after(async () => {
      for (const p of panes) await tmux.kill(p);
      await d.run(['rm', '-f', name, `${name}-run`]);
    });
    const r = await d.run(['run', '-d', '--name', name, ...TRAPPER]);
    assert.equal(r.code, 0, r.stderr);
    await tmux.start(panes[0]!, cli(which, ['attach', name]));
    // attach shows only what comes after it: wait until the CLI is attached and started
    // its signal proxy (the pane's foreground process is the CLI, which has caught SIGINT
    // once the daemon saw the attach).
    await waitForAttach(name);
    await tmux.keys(panes[0]!, 'C-c');
    await tmux.waitFor(panes[0]!, /got INT$/m);
    assert.equal(await tmux.exitStatus(panes[0]!), 5);
    assert.deepEqual(pick(await inspect(name)), ['exited', 5]);

    await tmux.start(panes[1]!, cli(which, ['run', '--name', `${name}-run`, ...TRAPPER]));
    await tmux.waitFor(panes[1]!, /^ready$/m);
    await tmux.keys(panes[1]!, 'C-c');
    await tmux.waitFor(panes[1]!, /got INT$/m);
    assert.equal(await tmux.exitStatus(panes[1]!), 5);
    assert.deepEqual(pick(await inspect(`${name}-run`)), ['exited', 5]);
  });
}

test('attach --sig-proxy=false: ctrl-c leaves the container alone; the third one ends the CLI', { skip: noTmux }, async (t) => {
  const name = 'tty-nosig';
  const pane = 'nosig';
  t.after(async () => {
    await tmux.kill(pane);
    await d.run(['rm', '-f', name]);
  });
  const r = await d.run(['run', '-d', '--name', name, ...TRAPPER]);
  assert.equal(r.code, 0, r.stderr);
  await tmux.start(pane, cli('berth', ['attach', '--sig-proxy=false', name]));
  await waitForAttach(name);
  await tmux.keys(pane, 'C-c');
  await tmux.waitFor(pane, /\^C/);
  await tmux.keys(pane, 'C-c');
  await tmux.keys(pane, 'C-c');
  await tmux.waitFor(pane, /^got 3 SIGTERM\/SIGINTs, forcefully exiting$/m);
  assert.equal(await tmux.exitStatus(pane), 1);
  assert.doesNotMatch(await tmux.screen(pane), /got INT/);
  assert.deepEqual(pick(await inspect(name)), ['running', 0]);
});

function pick(c: { State: State }): [string, number] {
  return [c.State.Status, c.State.ExitCode];
}

// The daemon reports each attach as an event; the CLI sets up its signal handling before
// it asks to attach, so once the event is out, a ctrl-c is handled as the test expects.
async function waitForAttach(name: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const r = await d.run(['events', '--since', '0', '--until', String(Date.now() / 1000), '--filter', `container=${name}`, '--filter', 'event=attach', '--format', '{{.Action}}']);
    if (r.stdout.includes('attach')) return;
    if (Date.now() > deadline) throw new Error(`no attach event for ${name}: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, delay));
  }
}
