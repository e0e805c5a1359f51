import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { FakeDaemon, json, type Call } from './cli-fake-daemon.js';
import { runBerth } from './cli-fake-daemon.js';

const ID = `sha256:${'b'.repeat(64)}`;

// A daemon whose /build answers with the given JSON messages.
async function daemon(t: { after(fn: () => Promise<void>): void }, messages: unknown[]): Promise<FakeDaemon> {
  const d = new FakeDaemon();
  d.on('POST', /^\/build$/, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(messages.map((m) => JSON.stringify(m) + '\r\n').join(''));
  });
  await d.start();
  t.after(() => d.stop());
  return d;
}

async function contextDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-build-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM busybox\n');
  await writeFile(path.join(dir, 'hello.txt'), 'hi\n');
  return dir;
}

// The context tar the CLI sent (all of it is ASCII, so the fake daemon's text body is exact).
async function sentNames(call: Call): Promise<string[]> {
  const extract = tar.extract();
  const names: string[] = [];
  const done = (async () => {
    for await (const e of extract) {
      names.push(e.header.name);
      for await (const _ of e) void _;
    }
  })();
  extract.end(Buffer.from(call.body, 'utf8'));
  await done;
  return names;
}

const stepMessages = [{ stream: 'Step 1/1 : FROM busybox' }, { stream: '\n' }, { stream: ' ---> 0123456789ab\n' }, { aux: { ID } }, { stream: 'Successfully built 0123456789ab\n' }];

test('build sends the context and the options, prints the stream, writes --iidfile', async (t) => {
  const d = await daemon(t, stepMessages);
  const dir = await contextDir(t);
  const iid = path.join(dir, 'iid');
  const r = await runBerth(
    d,
    ['build', '-t', 'a/b:1', '-t', 'c', '--build-arg', 'X=1', '--build-arg', 'FROMENV', '--build-arg', 'UNSET', '--label', 'l=v', '--label', 'bare',
      '--no-cache', '--rm=false', '--force-rm', '--pull', '--target', 'base', '--network', 'host', '--add-host', 'h:1.2.3.4', '--shm-size', '64m',
      '-m', '1g', '--memory-swap', '-1', '--cpu-shares', '512', '--cpuset-cpus', '0', '--ulimit', 'nofile=10:20', '--cache-from', 'x,y', '--platform', 'Linux/AMD64',
      '--iidfile', iid, dir],
    { env: { FROMENV: 'from-env' } },
  );
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Sending build context to Docker daemon {2}\d+(\.\d+)?kB\r\r\nStep 1\/1 : FROM busybox\n ---> 0123456789ab\nSuccessfully built 0123456789ab\n$/);
  assert.equal(await readFile(iid, 'utf8'), ID);
  const call = d.calls.find((c) => c.path === '/build')!;
  const q = Object.fromEntries([...new Set(call.query.keys())].map((k) => [k, call.query.getAll(k).join('|')]));
  assert.deepEqual(q, {
    t: 'a/b:1|c',
    buildargs: '{"FROMENV":"from-env","UNSET":null,"X":"1"}',
    labels: '{"bare":"","l":"v"}',
    nocache: '1',
    rm: '0',
    forcerm: '1',
    pull: '1',
    target: 'base',
    networkmode: 'host',
    extrahosts: 'h:1.2.3.4',
    shmsize: String(64 * 1024 * 1024),
    memory: String(1024 ** 3),
    memswap: '-1',
    cpushares: '512',
    cpusetcpus: '0',
    ulimits: '[{"Name":"nofile","Hard":20,"Soft":10}]',
    cachefrom: '["x","y"]',
    platform: 'linux/amd64',
    dockerfile: 'Dockerfile',
    version: '1',
  });
  assert.deepEqual(await sentNames(call), ['Dockerfile', 'hello.txt']);
});

test('-q prints only the image ID; a failing step exits with its code and shows the buffered output', async (t) => {
  let d = await daemon(t, [{ stream: `${ID}\n` }]);
  const dir = await contextDir(t);
  let r = await runBerth(d, ['build', '-q', '--iidfile', path.join(dir, 'iid'), dir]);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, `${ID}\n`, '']);
  assert.equal(d.calls.find((c) => c.path === '/build')?.query.get('q'), '1');
  // As docker: with -q the iidfile gets the printed line.
  assert.equal(await readFile(path.join(dir, 'iid'), 'utf8'), `${ID}\n`);

  const failing = [{ stream: 'Step 1/2 : RUN exit 3\n' }, { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: 'x' }];
  d = await daemon(t, failing);
  r = await runBerth(d, ['build', dir]);
  assert.equal(r.code, 3);
  assert.equal(r.stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n");
  r = await runBerth(d, ['build', '-q', dir]);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Sending build context to Docker daemon .*\r\r\nStep 1\/2 : RUN exit 3\nThe command '\/bin\/sh -c exit 3' returned a non-zero code: 3\n$/s);

  d = await daemon(t, [{ errorDetail: { message: 'no code' }, error: 'no code' }]);
  r = await runBerth(d, ['build', dir]);
  assert.deepEqual([r.code, r.stderr], [1, 'no code\n']);
});

test('daemon refusals and bad arguments', async (t) => {
  const d = new FakeDaemon();
  d.on('POST', /^\/build$/, (_req, res) => json(res, 500, { message: 'Cannot locate specified Dockerfile: Dockerfile' }));
  await d.start();
  t.after(() => d.stop());
  const dir = await contextDir(t);
  let r = await runBerth(d, ['build', dir]);
  assert.deepEqual([r.code, r.stderr], [1, 'Error response from daemon: Cannot locate specified Dockerfile: Dockerfile\n']);

  r = await runBerth(d, ['build', '-t', 'UPPER', dir]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^invalid argument "UPPER" for "-t, --tag" flag: invalid reference format: repository name \(library\/UPPER\) must be lowercase\n/);
  r = await runBerth(d, ['build', '--label', '=x', dir]);
  assert.match(r.stderr, /^invalid argument "=x" for "--label" flag: invalid label '=x': empty name\n/);
  r = await runBerth(d, ['build', '--build-arg', '=x', dir]);
  assert.match(r.stderr, /^invalid argument "=x" for "--build-arg" flag: invalid environment variable: =x\n/);
  r = await runBerth(d, ['build']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^berth: 'berth build' requires 1 argument\n/);

  r = await runBerth(d, ['build', path.join(dir, 'nope')]);
  assert.deepEqual([r.code, r.stderr], [1, `unable to prepare context: path "${path.join(dir, 'nope')}" not found\n`]);
  r = await runBerth(d, ['build', '-f', 'missing', dir]);
  assert.equal(r.stderr, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path.resolve('missing')}: no such file or directory\n`);
  r = await runBerth(d, ['build', '-f', '-', '-']);
  assert.deepEqual([r.code, r.stderr], [1, "invalid argument: can't use stdin for both build context and dockerfile\n"]);
  assert.equal(d.calls.filter((c) => c.path === '/build').length, 1);
});

test('a Dockerfile on stdin becomes a one-file context', async (t) => {
  const d = await daemon(t, stepMessages);
  const stdin = new PassThrough();
  stdin.end('FROM busybox\nRUN true\n');
  const r = await runBerth(d, ['build', '-'], { stdin });
  assert.equal(r.code, 0, r.stderr);
  const call = d.calls.find((c) => c.path === '/build')!;
  assert.equal(call.query.get('dockerfile'), 'Dockerfile');
  assert.deepEqual(await sentNames(call), ['Dockerfile']);
});
