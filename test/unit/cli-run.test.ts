import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { frame } from '../../src/client/stdcopy.js';
import { FakeDaemon, json, runBerth } from './cli-fake-daemon.js';

const ID = 'a'.repeat(64);

// A daemon that creates, attaches, waits and starts like dockerd; `exitCode` is
// what the wait answers, `output` what the attach stream carries.
function runDaemon(opts: { exitCode?: number; output?: Buffer[]; startError?: string; onStdin?: (data: string, ended: boolean) => void } = {}): FakeDaemon {
  const d = new FakeDaemon();
  let releaseWait: (() => void) | undefined;
  let attachSocket: import('node:net').Socket | undefined;
  d.on('POST', /^\/containers\/create$/, (_req, res) => json(res, 201, { Id: ID, Warnings: [] }));
  d.onUpgrade(/^\/containers\/[^/]+\/attach$/, (socket, call) => {
    attachSocket = socket;
    if (call.query.get('stdin') === '1') {
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('end', () => opts.onStdin?.(data, true));
    }
  });
  d.on('POST', /^\/containers\/[^/]+\/wait$/, (_req, res) => {
    // Headers at once (the CLI starts the container only after this), body at exit.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    releaseWait = () => res.end(JSON.stringify({ StatusCode: opts.exitCode ?? 0, Error: null }));
  });
  d.on('POST', /^\/containers\/[^/]+\/start$/, (_req, res) => {
    if (opts.startError) {
      json(res, 400, { message: opts.startError });
      return;
    }
    res.writeHead(204);
    res.end();
    // The container runs: output, then exit.
    setImmediate(() => {
      for (const b of opts.output ?? []) attachSocket?.write(b);
      attachSocket?.end();
      releaseWait?.();
    });
  });
  return d;
}

test('run: create, attach, wait, start in docker order; exit code and output pass through', async (t) => {
  const d = await runDaemon({ exitCode: 3, output: [frame(1, 'hello\n'), frame(2, 'oops\n')] }).start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['run', '--rm', 'busybox', 'sh', '-c', 'echo hello']);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.stderr, 'oops\n');
  assert.deepEqual(d.paths(), [
    'POST /containers/create',
    `POST /containers/${ID}/attach`,
    `POST /containers/${ID}/wait`,
    `POST /containers/${ID}/start`,
  ]);
  const attach = d.calls[1].query;
  assert.equal(attach.get('stream'), '1');
  assert.equal(attach.get('stdout'), '1');
  assert.equal(attach.get('stderr'), '1');
  assert.equal(attach.get('stdin'), null);
  assert.equal(d.calls[2].query.get('condition'), 'removed');
  const body = JSON.parse(d.calls[0].body);
  assert.deepEqual(body.Cmd, ['sh', '-c', 'echo hello']);
  assert.equal(body.Image, 'busybox');
  assert.equal(body.HostConfig.AutoRemove, true);
  assert.equal(body.AttachStdout, true);
});

test('run -d prints the full ID and does not attach', async (t) => {
  const d = await runDaemon().start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['run', '-d', '--name', 'web', 'busybox', 'sleep', '100']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${ID}\n`);
  assert.equal(r.stderr, '');
  assert.deepEqual(d.paths(), ['POST /containers/create', `POST /containers/${ID}/start`]);
  assert.equal(d.calls[0].query.get('name'), 'web');
  const body = JSON.parse(d.calls[0].body);
  assert.equal(body.AttachStdout, false);
  assert.equal(body.AttachStderr, false);
});

test('run -i sends stdin up the hijacked connection and half-closes at EOF', async (t) => {
  let got: string | undefined;
  const d = await runDaemon({ onStdin: (data) => (got = data), output: [frame(1, 'echoed\n')] }).start();
  t.after(() => d.stop());
  const stdin = new PassThrough();
  stdin.end('some input');
  const r = await runBerth(d, ['run', '-i', 'busybox', 'cat'], { stdin });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'echoed\n');
  assert.equal(got, 'some input');
  assert.equal(d.calls[1].query.get('stdin'), '1');
  const body = JSON.parse(d.calls[0].body);
  assert.equal(body.OpenStdin, true);
  assert.equal(body.StdinOnce, true);
  assert.equal(body.AttachStdin, true);
});

test('run pulls a missing image, then creates again', async (t) => {
  const d = new FakeDaemon();
  let creates = 0;
  d.on('POST', /^\/containers\/create$/, (_req, res) => {
    creates++;
    if (creates === 1) json(res, 404, { message: 'No such image: busybox:latest' });
    else json(res, 201, { Id: ID, Warnings: null });
  });
  d.on('POST', /^\/images\/create$/, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"status":"Pulling from library/busybox","id":"latest"}\n');
    res.end('{"status":"Status: Downloaded newer image for busybox:latest"}\n');
  });
  d.on('POST', /\/start$/, (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  await d.start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['run', '-d', 'busybox']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `${ID}\n`);
  assert.equal(
    r.stderr,
    "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nStatus: Downloaded newer image for busybox:latest\n",
  );
  const pull = d.calls.find((c) => c.path === '/images/create');
  assert.equal(pull?.query.get('fromImage'), 'docker.io/library/busybox');
  assert.equal(pull?.query.get('tag'), 'latest');
});

test('run: a failed pull is a daemon error with exit status 125', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/containers\/create$/, (_req, res) => json(res, 404, { message: 'No such image: nope:latest' }));
  d.on('POST', /^\/images\/create$/, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"errorDetail":{"message":"pull access denied for nope"},"error":"pull access denied for nope"}\n');
  });
  await d.start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['run', 'nope']);
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    "Unable to find image 'nope:latest' locally\nberth: pull access denied for nope\n\nRun 'berth run --help' for more information\n",
  );
});

test('run maps start failures to 127 / 126 / 125 as docker does', async (t) => {
  const cases: Array<[string, number]> = [
    ['failed to create task: exec: "nosuch": executable file not found in $PATH', 127],
    ['exec: "/etc": permission denied', 126],
    ['some other failure', 125],
  ];
  for (const [msg, code] of cases) {
    const d = await runDaemon({ startError: msg }).start();
    try {
      const r = await runBerth(d, ['run', 'busybox', 'nosuch']);
      assert.equal(r.code, code, msg);
      assert.equal(r.stderr, `berth: Error response from daemon: ${msg}\n\nRun 'berth run --help' for more information\n`);
    } finally {
      await d.stop();
    }
  }
  void t;
});

test('run without a daemon: connection error, wrapped as docker wraps run errors', async () => {
  const r = await runBerth(undefined, ['run', 'busybox'], { env: { BERTH_HOST: 'unix:///nonexistent/berth.sock' } });
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    "berth: Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n\nRun 'berth run --help' for more information\n",
  );
});

test('ps without a daemon: the connection error alone, exit 1', async () => {
  const r = await runBerth(undefined, ['ps'], { env: { BERTH_HOST: 'unix:///nonexistent/berth.sock' } });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Cannot connect to the berth daemon at unix:///nonexistent/berth.sock. Is the berth daemon running?\n');
});

test('run: usage errors', async () => {
  let r = await runBerth(undefined, ['run']);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth run --help' for more information\n",
  );
  r = await runBerth(undefined, ['run', '--foo', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n");
  r = await runBerth(undefined, ['run', '-m', '1x', 'busybox']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^invalid argument "1x" for "-m, --memory" flag: invalid suffix: 'x'\n/);
  r = await runBerth(undefined, ['run', '--rm', '--restart=always', 'busybox']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "berth: conflicting options: cannot specify both --restart and --rm\n\nRun 'berth run --help' for more information\n");
  r = await runBerth(undefined, ['run', '-it', 'busybox']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'the input device is not a TTY\n');
});
