import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { frame } from '../../src/client/stdcopy.js';
import { FakeDaemon, json, runBerth } from './cli-fake-daemon.js';

const ID = 'c'.repeat(64);

test('rm of several containers: one error line per failure, exit 1; -f only reports missing ones', async (t) => {
  const d = new FakeDaemon();
  d.on('DELETE', /^\/containers\/ok$/, (_q, res) => {
    res.writeHead(204);
    res.end();
  });
  d.on('DELETE', /^\/containers\/running$/, (_q, res) =>
    json(res, 409, { message: 'cannot remove container "/running": container is running: stop the container before removing or force remove' }),
  );
  d.on('DELETE', /^\/containers\/[^/]+$/, (_q, res, call) => json(res, 404, { message: `No such container: ${call.path.split('/').pop()}` }));
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['rm', 'ok', 'nope1', 'running']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'ok\n');
  assert.equal(
    r.stderr,
    'Error response from daemon: No such container: nope1\n' +
      'Error response from daemon: cannot remove container "/running": container is running: stop the container before removing or force remove\n',
  );
  r = await runBerth(d, ['rm', '-f', 'nope2', 'ok']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'ok\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: nope2\n');
  const del = d.calls.filter((c) => c.method === 'DELETE' && c.path === '/containers/ok').pop();
  assert.equal(del?.query.get('force'), '1');
});

test('stop/kill/restart print names; -t and -s become query parameters', async (t) => {
  const d = new FakeDaemon();
  for (const op of ['stop', 'kill', 'restart']) {
    d.on('POST', new RegExp(`^/containers/[^/]+/${op}$`), (_q, res) => {
      res.writeHead(204);
      res.end();
    });
  }
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['stop', '-t', '3', '-s', 'SIGINT', 'a', 'b']);
  assert.deepEqual([r.code, r.stdout], [0, 'a\nb\n']);
  assert.equal(d.calls[0].query.get('t'), '3');
  assert.equal(d.calls[0].query.get('signal'), 'SIGINT');
  r = await runBerth(d, ['kill', '-s', 'HUP', 'a']);
  assert.deepEqual([r.code, r.stdout], [0, 'a\n']);
  assert.equal(d.calls[2].query.get('signal'), 'HUP');
  r = await runBerth(d, ['container', 'restart', 'a']);
  assert.deepEqual([r.code, r.stdout], [0, 'a\n']);
  assert.equal(d.calls[3].query.get('t'), null);
  r = await runBerth(d, ['stop', '--time', '1', '--timeout', '2', 'a']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'conflicting options: cannot specify both --timeout and --time\n');
});

test('start prints names; failures listed at the end', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/containers\/good\/start$/, (_q, res) => {
    res.writeHead(204);
    res.end();
  });
  d.on('POST', /^\/containers\/bad\/start$/, (_q, res) => json(res, 404, { message: 'No such container: bad' }));
  await d.start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['start', 'good', 'bad']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'good\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: bad\nError: failed to start containers: bad\n');
});

test('ps asks for all/limit/filters and prints the table', async (t) => {
  const d = new FakeDaemon();
  d.on('GET', /^\/containers\/json$/, (_q, res) =>
    json(res, 200, [
      {
        Id: ID, Names: ['/web'], Image: 'busybox', ImageID: 'sha256:' + 'd'.repeat(64), Command: 'sleep 100',
        Created: Math.floor(Date.now() / 1000) - 5, Ports: [], Labels: {}, State: 'running', Status: 'Up 4 seconds', Mounts: [],
      },
    ]),
  );
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['ps', '-a', '-n', '2', '-f', 'status=running', '--filter', 'name=web']);
  assert.equal(r.code, 0);
  const q = d.calls[0].query;
  assert.equal(q.get('all'), '1');
  assert.equal(q.get('limit'), '2');
  assert.deepEqual(JSON.parse(q.get('filters') ?? ''), { status: { running: true }, name: { web: true } });
  assert.equal(
    r.stdout,
    'CONTAINER ID   IMAGE     COMMAND       CREATED         STATUS         PORTS     NAMES\n' +
      'cccccccccccc   busybox   "sleep 100"   5 seconds ago   Up 4 seconds             web\n',
  );
  r = await runBerth(d, ['container', 'ls', '-q', '--no-trunc']);
  assert.equal(r.stdout, `${ID}\n`);
  r = await runBerth(d, ['ps', '--format', '{{.Names}} {{.Size}}']);
  assert.equal(d.calls.at(-1)?.query.get('size'), '1');
  assert.equal(r.stdout, 'web 0B\n');
  r = await runBerth(d, ['ps', '-q', '--format', '{{.Names}}']);
  assert.equal(r.stderr, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  assert.equal(r.stdout, 'cccccccccccc\n');
  r = await runBerth(d, ['ps', '-f', 'bad']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^invalid argument "bad" for "-f, --filter" flag: bad format of filter \(expected name=value\)\n\nUsage:  berth ps \[OPTIONS\]\n/);
  r = await runBerth(d, ['ps', 'extra']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "berth: 'berth ps' accepts no arguments\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n");
});

test('inspect: JSON array of the daemon objects, -f templates, missing objects', async (t) => {
  const d = new FakeDaemon();
  d.on('GET', /^\/containers\/web\/json$/, (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"Id":"abc","State":{"Running":true,"Pid":42},"Config":{"Env":["A=1","B=2"],"Labels":{"x":"y"}},"NetworkSettings":{"IPAddress":"172.17.0.2"}}');
  });
  d.on('GET', /^\/containers\/[^/]+\/json$/, (_q, res, call) => json(res, 404, { message: `No such container: ${call.path.split('/')[2]}` }));
  d.on('GET', /^\/images\/busybox\/json$/, (_q, res) => json(res, 200, { Id: 'sha256:1', RepoTags: ['busybox:latest'] }));
  d.on('GET', /^\/images\/[^/]+\/json$/, (_q, res, call) => json(res, 404, { message: `No such image: ${call.path.split('/')[2]}` }));
  d.on('GET', /^\/(networks|volumes)\/.*$/, (_q, res) => json(res, 404, { message: 'not found' }));
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['inspect', 'web']);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(
    r.stdout,
    '[\n    {\n        "Id": "abc",\n        "State": {\n            "Running": true,\n            "Pid": 42\n        },\n' +
      '        "Config": {\n            "Env": [\n                "A=1",\n                "B=2"\n            ],\n' +
      '            "Labels": {\n                "x": "y"\n            }\n        },\n        "NetworkSettings": {\n' +
      '            "IPAddress": "172.17.0.2"\n        }\n    }\n]\n',
  );
  r = await runBerth(d, ['inspect', '-f', '{{.State.Pid}} {{.Config.Env}} {{.NetworkSettings.IPAddress}} {{index .Config.Labels "x"}}', 'web']);
  assert.equal(r.stdout, '42 [A=1 B=2] 172.17.0.2 y\n');
  // An image has no State: docker's raw fallback runs with missingkey=error.
  r = await runBerth(d, ['inspect', '--format', '{{json .State}}', 'web', 'busybox']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '{"Running":true,"Pid":42}\n');
  assert.equal(r.stderr, 'template parsing error: template: :1:7: executing "" at <.State>: map has no entry for key "State"\n');
  r = await runBerth(d, ['inspect', 'nothere', 'busybox']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error: No such object: nothere\n');
  assert.match(r.stdout, /^\[\n    \{\n        "Id": "sha256:1"/);
  r = await runBerth(d, ['container', 'inspect', 'nothere']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '[]\n');
  assert.equal(r.stderr, 'Error response from daemon: No such container: nothere\n');
  r = await runBerth(d, ['inspect', '-f', '{{.Nope}}', 'web']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '\n');
  assert.equal(r.stderr, 'template parsing error: template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"\n');
  r = await runBerth(d, ['inspect', '-f', '{{.Nope', 'web']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /^template parsing error: template: :1: /);
  r = await runBerth(d, ['inspect', '--type', 'bogus', 'web']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'unknown type: "bogus": must be one of "config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"\n');
});

test('logs: framed output demultiplexed; raw with a TTY; options as query', async (t) => {
  const d = new FakeDaemon();
  d.on('GET', /^\/containers\/plain\/json$/, (_q, res) => json(res, 200, { Id: 'plainid', Config: { Tty: false } }));
  d.on('GET', /^\/containers\/tty\/json$/, (_q, res) => json(res, 200, { Id: 'ttyid', Config: { Tty: true } }));
  d.on('GET', /^\/containers\/plainid\/logs$/, (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
    res.end(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]));
  });
  d.on('GET', /^\/containers\/ttyid\/logs$/, (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream' });
    res.end('raw tty text\r\n');
  });
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['logs', '-n', '5', '-t', '--since', '1700000000', 'plain']);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'out\n', 'err\n']);
  const q = d.calls[1].query;
  assert.deepEqual([q.get('tail'), q.get('timestamps'), q.get('since'), q.get('stdout'), q.get('stderr'), q.get('follow')], ['5', '1', '1700000000', '1', '1', null]);
  r = await runBerth(d, ['logs', 'tty']);
  assert.deepEqual([r.code, r.stdout], [0, 'raw tty text\r\n']);
  assert.equal(d.calls.at(-1)?.query.get('tail'), 'all');
});

test('images, rmi, tag, history against the daemon', async (t) => {
  const d = new FakeDaemon();
  const created = Math.floor(Date.now() / 1000) - 3600 * 3;
  d.on('GET', /^\/images\/json$/, (_q, res, call) =>
    json(res, 200, call.query.get('filters')?.includes('nomatch') ? [] : [
      { Id: 'sha256:' + 'a1'.repeat(32), ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: [], Created: created, Size: 4_264_000, SharedSize: -1, Labels: null, Containers: -1 },
    ]),
  );
  d.on('DELETE', /^\/images\/busybox$/, (_q, res) => json(res, 200, [{ Untagged: 'busybox:latest' }, { Deleted: 'sha256:' + 'a1'.repeat(32) }]));
  d.on('DELETE', /^\/images\/inuse$/, (_q, res) => json(res, 409, { message: 'conflict: unable to remove repository reference "inuse" (must force) - container 123 is using its referenced image abc' }));
  d.on('DELETE', /^\/images\/[^/]+$/, (_q, res, call) => json(res, 404, { message: `No such image: ${call.path.split('/')[2]}:latest` }));
  d.on('POST', /^\/images\/.*\/tag$/, (_q, res) => {
    res.writeHead(201);
    res.end();
  });
  d.on('GET', /^\/images\/busybox\/history$/, (_q, res) =>
    json(res, 200, [
      { Id: 'sha256:' + 'a1'.repeat(32), Created: created, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Tags: ['busybox:latest'], Size: 0, Comment: '' },
      { Id: '<missing>', Created: created, CreatedBy: '/bin/sh -c #(nop) ADD file:abc in / ', Tags: null, Size: 4_264_000, Comment: '' },
    ]),
  );
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['images']);
  assert.equal(r.stdout, 'REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\nbusybox      latest    a1a1a1a1a1a1   3 hours ago   4.26MB\n');
  r = await runBerth(d, ['image', 'ls', '-q']);
  assert.equal(r.stdout, 'a1a1a1a1a1a1\n');
  r = await runBerth(d, ['images', 'nomatch']);
  assert.equal(JSON.parse(d.calls.at(-1)?.query.get('filters') ?? '').reference.nomatch, true);
  assert.equal(r.stdout, 'REPOSITORY   TAG       IMAGE ID   CREATED   SIZE\n');
  r = await runBerth(d, ['rmi', 'busybox', 'gone']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, `Untagged: busybox:latest\nDeleted: sha256:${'a1'.repeat(32)}\n`);
  assert.equal(r.stderr, 'Error response from daemon: No such image: gone:latest\n');
  r = await runBerth(d, ['rmi', '-f', 'gone']);
  assert.deepEqual([r.code, r.stderr], [0, 'Error response from daemon: No such image: gone:latest\n']);
  r = await runBerth(d, ['rmi', '-f', 'inuse']);
  assert.equal(r.code, 1);
  r = await runBerth(d, ['tag', 'busybox', 'localhost:5000/mybox']);
  assert.equal(r.code, 0);
  const tag = d.calls.at(-1);
  assert.equal(tag?.path, '/images/busybox/tag');
  assert.deepEqual([tag?.query.get('repo'), tag?.query.get('tag')], ['localhost:5000/mybox', 'latest']);
  r = await runBerth(d, ['tag', 'busybox', 'Bad:x']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Error parsing reference: "Bad:x" is not a valid repository/tag: invalid reference format: repository name (library/Bad) must be lowercase\n');
  r = await runBerth(d, ['history', 'busybox']);
  assert.equal(
    r.stdout,
    'IMAGE          CREATED       CREATED BY                             SIZE      COMMENT\n' +
      'a1a1a1a1a1a1   3 hours ago   /bin/sh -c #(nop)  CMD ["sh"]          0B        \n' +
      '<missing>      3 hours ago   /bin/sh -c #(nop) ADD file:abc in /    4.26MB    \n',
  );
});

test('import streams the tarball as the request body', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/images\/create$/, (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"status":"sha256:' + 'b'.repeat(64) + '"}\n');
  });
  await d.start();
  t.after(() => d.stop());
  const stdin = new PassThrough();
  stdin.end('TARBYTES');
  let r = await runBerth(d, ['import', '-c', 'CMD ["sh"]', '-m', 'hello', '-', 'mine:1'], { stdin });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `sha256:${'b'.repeat(64)}\n`);
  const call = d.calls[0];
  assert.equal(call.body, 'TARBYTES');
  assert.deepEqual([call.query.get('fromSrc'), call.query.get('repo'), call.query.get('message'), call.query.getAll('changes')], ['-', 'mine:1', 'hello', ['CMD ["sh"]']]);
  r = await runBerth(d, ['import', '/nonexistent.tar']);
  assert.deepEqual([r.code, r.stderr], [1, 'open /nonexistent.tar: no such file or directory\n']);
});

test('image bootstrap streams progress like a pull; -q prints only the image ID', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/berth\/images\/bootstrap$/, (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"status":"Running debootstrap"}\n');
    res.end('{"aux":{"ID":"sha256:' + 'e'.repeat(64) + '"}}\n');
  });
  d.on('POST', /^\/berth\/images\/fail$/, (_q, res) => json(res, 500, { message: 'x' }));
  await d.start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['image', 'bootstrap', 'debian', '--tag', 'deb:1', '--include', 'python3,python3-flask', '--include', 'curl']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Running debootstrap\n');
  const q = d.calls[0].query;
  assert.deepEqual([q.get('kind'), q.get('tag'), q.get('include'), q.get('suite')], ['debian', 'deb:1', 'python3,python3-flask,curl', null]);
  const quiet = await runBerth(d, ['image', 'bootstrap', '-q', 'busybox']);
  assert.equal(quiet.stdout, `sha256:${'e'.repeat(64)}\n`);
});

test('bootstrap errors in the stream end the command with the message', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/berth\/images\/bootstrap$/, (_q, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"errorDetail":{"message":"debootstrap failed"},"error":"debootstrap failed"}\n');
  });
  await d.start();
  t.after(() => d.stop());
  const r = await runBerth(d, ['image', 'bootstrap', 'busybox']);
  assert.deepEqual([r.code, r.stderr], [1, 'debootstrap failed\n']);
});

test('prune: prompt, cancel quietly, or -f with the report', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/containers\/prune$/, (_q, res) => json(res, 200, { ContainersDeleted: ['x1', 'x2'], SpaceReclaimed: 1234 }));
  d.on('POST', /^\/images\/prune$/, (_q, res) => json(res, 200, { ImagesDeleted: [{ Untagged: 'a:1' }, { Deleted: 'sha256:z' }], SpaceReclaimed: 0 }));
  await d.start();
  t.after(() => d.stop());
  let stdin = new PassThrough();
  stdin.end('n\n');
  let r = await runBerth(d, ['container', 'prune'], { stdin });
  assert.deepEqual([r.code, r.stdout], [0, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ']);
  assert.equal(d.calls.length, 0);
  stdin = new PassThrough();
  stdin.end('y\n');
  r = await runBerth(d, ['container', 'prune'], { stdin });
  assert.equal(r.stdout, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Deleted Containers:\nx1\nx2\n\nTotal reclaimed space: 1.234kB\n');
  r = await runBerth(d, ['image', 'prune', '-a', '-f']);
  assert.equal(r.stdout, 'Deleted Images:\nuntagged: a:1\ndeleted: sha256:z\n\nTotal reclaimed space: 0B\n');
  assert.deepEqual(JSON.parse(d.calls.at(-1)?.query.get('filters') ?? ''), { dangling: { false: true } });
});

test('version prints the client even without a daemon; info says why the server part is missing', async () => {
  const env = { BERTH_HOST: 'unix:///nonexistent/b.sock' };
  let r = await runBerth(undefined, ['version'], { env });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Client:\n Version: {11}0\.1\.0\n API version: {7}1\.41\n/);
  assert.equal(r.stderr, 'Cannot connect to the berth daemon at unix:///nonexistent/b.sock. Is the berth daemon running?\n');
  r = await runBerth(undefined, ['info'], { env });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'Client:\n Version:    0.1.0\n Context:    default\n Debug Mode: false\n\nServer:\n');
});

test('version with a daemon', async (t) => {
  const d = new FakeDaemon();
  d.on('GET', /^\/version$/, (_q, res) =>
    json(res, 200, {
      Platform: { Name: 'berth Engine' },
      Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.44', MinAPIVersion: '1.24', GitCommit: 'abc', GoVersion: 'node20', Os: 'linux', Arch: 'amd64', BuildTime: '2024-01-02T03:04:05.000000000+00:00', Experimental: 'false' } }],
      Version: '0.1.0', ApiVersion: '1.44', MinAPIVersion: '1.24', GitCommit: 'abc', GoVersion: 'node20', Os: 'linux', Arch: 'amd64',
    }),
  );
  await d.start();
  t.after(() => d.stop());
  let r = await runBerth(d, ['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /\n\nServer: berth Engine\n Engine:\n  Version: {10}0\.1\.0\n  API version: {6}1\.44 \(minimum version 1\.24\)\n/);
  assert.match(r.stdout, /\n  Experimental: {5}false\n$/);
  r = await runBerth(d, ['version', '--format', '{{.Server.Version}} {{.Client.APIVersion}}']);
  assert.deepEqual([r.code, r.stdout], [0, '0.1.0 1.41\n']);
});

test('global flags, unknown commands and help', async () => {
  let r = await runBerth(undefined, ['--foo']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr, "unknown flag: --foo\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n");
  r = await runBerth(undefined, ['frobnicate']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "berth: unknown command: berth frobnicate\n\nRun 'berth --help' for more information\n");
  r = await runBerth(undefined, ['container', 'frobnicate']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "berth: unknown command: berth container frobnicate\n\nUsage:  berth container\n\nRun 'berth container --help' for more information\n");
  r = await runBerth(undefined, []);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /^Usage:  berth \[OPTIONS\] COMMAND\n\nA self-sufficient runtime for containers\n\nCommon Commands:\n  run         Create and run a new container from an image\n  exec        Execute a command in a running container\n  ps          List containers\n/);
  r = await runBerth(undefined, ['-v']);
  assert.deepEqual([r.code, r.stdout], [0, 'berth version 0.1.0, build unknown\n']);
  r = await runBerth(undefined, ['help', 'rm']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage:  berth rm \[OPTIONS\] CONTAINER \[CONTAINER\.\.\.\]\n\nRemove one or more containers\n\nAliases:\n  berth container rm, berth container remove, berth rm\n\nOptions:\n  -f, --force /);
  r = await runBerth(undefined, ['rm', '-h']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Flag shorthand -h has been deprecated, use --help\nUsage:  berth rm /);
  r = await runBerth(undefined, ['image', 'rm', '--help']);
  assert.match(r.stdout, /^Usage:  berth image rm \[OPTIONS\] IMAGE \[IMAGE\.\.\.\]\n\nRemove one or more images\n\nAliases:\n  berth image rm, berth image remove, berth rmi\n/);
  r = await runBerth(undefined, ['logs']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "berth: 'berth logs' requires 1 argument\n\nUsage:  berth logs [OPTIONS] CONTAINER\n\nRun 'berth logs --help' for more information\n");
  r = await runBerth(undefined, ['-H', 'bogus://x', 'ps']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'invalid bind address format: bogus://x\n');
});

test('help pages have docker layout', async () => {
  let r = await runBerth(undefined, ['wait', '--help']);
  assert.equal(
    r.stdout,
    'Usage:  berth wait CONTAINER [CONTAINER...]\n\nBlock until one or more containers stop, then print their exit codes\n\n' +
      'Aliases:\n  berth container wait, berth wait\n',
  );
  r = await runBerth(undefined, ['container', 'kill', '--help']);
  assert.equal(
    r.stdout,
    'Usage:  berth container kill [OPTIONS] CONTAINER [CONTAINER...]\n\nKill one or more running containers\n\n' +
      'Aliases:\n  berth container kill, berth kill\n\nOptions:\n  -s, --signal string   Signal to send to the container\n',
  );
  r = await runBerth(undefined, ['image', 'prune', '--help']);
  assert.equal(
    r.stdout,
    'Usage:  berth image prune [OPTIONS]\n\nRemove unused images\n\nOptions:\n' +
      '  -a, --all             Remove all unused images, not just dangling ones\n' +
      '      --filter filter   Provide filter values (e.g. "until=<timestamp>")\n' +
      '  -f, --force           Do not prompt for confirmation\n',
  );
  r = await runBerth(undefined, ['stop', '--help']);
  assert.match(r.stdout, /\nOptions:\n  -s, --signal string   Signal to send to the container\n  -t, --timeout int     Seconds to wait before killing the container\n$/);
});
