import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TestDaemon, runCommand } from '../helpers/daemon.js';

// `berth build` end to end through a real berthd, and the same context through the
// real docker CLI's legacy builder client (DOCKER_BUILDKIT=0), which must agree.
let d: TestDaemon;
let ctx: string;
const legacy = { DOCKER_BUILDKIT: '0' };

const DOCKERFILE = `# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM $BASE
ARG GREETING=hello
ENV APP=/app
WORKDIR $APP
COPY hello.txt ./
COPY sub/ ./sub/
RUN echo "$GREETING from $APP" > built.txt \\
  # a comment inside a continuation
  && ls -A > listing.txt
LABEL com.example.kind=test
CMD ["cat", "built.txt"]
`;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
  ctx = await mkdtemp(path.join(tmpdir(), 'berth-build-it-'));
  await mkdir(path.join(ctx, 'sub'));
  await mkdir(path.join(ctx, 'secret'));
  await writeFile(path.join(ctx, 'Dockerfile'), DOCKERFILE);
  await writeFile(path.join(ctx, 'hello.txt'), 'hello file\n');
  await writeFile(path.join(ctx, 'sub/inner.txt'), 'inner\n');
  await writeFile(path.join(ctx, 'sub/skip.log'), 'log\n');
  await writeFile(path.join(ctx, 'secret/key'), 'k\n');
  await writeFile(path.join(ctx, '.dockerignore'), 'secret\n**/*.log\nDockerfile\n');
});
after(async () => {
  await d?.cleanup();
  if (ctx) await rm(ctx, { recursive: true, force: true });
});

async function runImage(image: string, ...cmd: string[]): Promise<string> {
  const r = await d.run(['run', '--rm', image, ...cmd]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('berth build: steps streamed, build args, .dockerignore honoured, image tagged', async () => {
  const r = await d.run(['build', '-t', 'bp-it-berth:1', '--build-arg', 'GREETING=hi', '--label', 'extra=1', ctx]);
  assert.equal(r.code, 0, r.stderr + d.log);
  assert.match(r.stdout, /^Sending build context to Docker daemon {2}\S+\r\r\n/);
  assert.match(r.stdout, /Step 1\/\d+ : ARG BASE=busybox\n/);
  assert.match(r.stdout, /Step \d+\/\d+ : FROM \$BASE\n/);
  assert.match(r.stdout, /Successfully tagged bp-it-berth:1\n$/);
  assert.equal(await runImage('bp-it-berth:1'), 'hi from /app\n');
  // The shell creates listing.txt before ls runs.
  assert.equal(await runImage('bp-it-berth:1', 'cat', 'listing.txt'), 'built.txt\nhello.txt\nlisting.txt\nsub\n');
  assert.equal(await runImage('bp-it-berth:1', 'ls', 'sub'), 'inner.txt\n');
  const labels = JSON.parse((await d.run(['image', 'inspect', '-f', '{{json .Config.Labels}}', 'bp-it-berth:1'])).stdout);
  assert.deepEqual(labels, { 'com.example.kind': 'test', extra: '1' });
});

test('the docker CLI builds the same context against berthd', async () => {
  const r = await d.run(['build', '-q', '-t', 'bp-it-docker:1', ctx], { cli: 'docker', env: legacy });
  assert.equal(r.code, 0, r.stderr + d.log);
  assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
  assert.equal(await runImage('bp-it-docker:1'), 'hello from /app\n');
  assert.equal(await runImage('bp-it-docker:1', 'cat', 'listing.txt'), 'built.txt\nhello.txt\nlisting.txt\nsub\n');
  // Same inputs, same cache: berth's own -q build finds every step cached.
  const again = await d.run(['build', '-q', ctx]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, r.stdout);
});

test('-q and --iidfile print and write the image ID', async () => {
  const iid = path.join(ctx, '..', `${path.basename(ctx)}.iid`);
  try {
    const r = await d.run(['build', '-q', '--iidfile', iid, ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await readFile(iid, 'utf8'), r.stdout);
    const inspect = await d.run(['image', 'inspect', '-f', '{{.Id}}', r.stdout.trim()]);
    assert.equal(inspect.stdout.trim(), r.stdout.trim());
  } finally {
    await rm(iid, { force: true });
  }
});

// The whole context: the Dockerfile sent under a random name is not part of it, and
// the one .dockerignore lists stays out since stdin replaces it.
const COPY_ALL = 'FROM busybox\nCOPY . /ctx\nCMD ["ls", "-A", "/ctx"]\n';

// The docker CLI appends the random-named Dockerfile with archive.ReplaceFileTarWrapper,
// whose tar stops right after the last file's bytes (no padding, no end blocks); dockerd's
// Go tar reader takes that, and so does berthd's context reader.
test('docker build -f - PATH (Dockerfile from stdin)', async () => {
  const r = await d.run(['build', '-q', '-t', 'bp-it-stdin-docker', '-f', '-', ctx], { cli: 'docker', env: legacy, input: COPY_ALL });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await runImage('bp-it-stdin-docker'), '.dockerignore\nhello.txt\nsub\n');
});

test('Dockerfile from stdin, from outside the context, and a tar context on stdin', async () => {
  const df = 'FROM busybox\nCOPY hello.txt /h\nCMD ["cat", "/h"]\n';
  const r0 = await d.run(['build', '-q', '-t', 'bp-it-stdin-berth', '-f', '-', ctx], { input: COPY_ALL });
  assert.equal(r0.code, 0, r0.stderr);
  assert.equal(await runImage('bp-it-stdin-berth'), '.dockerignore\nhello.txt\nsub\n');
  const outside = `${ctx}.Dockerfile`;
  await writeFile(outside, df);
  try {
    const r = await d.run(['build', '-q', '-t', 'bp-it-outside', '-f', outside, ctx]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await runImage('bp-it-outside'), 'hello file\n');
  } finally {
    await rm(outside, { force: true });
  }
  const tarPath = `${ctx}.tgz`;
  assert.equal((await runCommand('tar', ['-C', ctx, '-czf', tarPath, 'Dockerfile', 'hello.txt', 'sub'])).code, 0);
  try {
    const r = await runCommand('sh', ['-c', `node '${path.resolve('dist/berth.mjs')}' -H '${d.host}' build -q -t bp-it-tar - < '${tarPath}'`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await runImage('bp-it-tar'), 'hello from /app\n');
  } finally {
    await rm(tarPath, { force: true });
  }
});

test('a failing step: its exit code and message, through both CLIs', async () => {
  const failing = path.join(ctx, 'Dockerfile.fail');
  await writeFile(failing, 'FROM busybox\nRUN echo about to fail && exit 3\n');
  for (const cli of ['berth', 'docker'] as const) {
    const r = await d.run(['build', '-f', failing, ctx], { cli, env: legacy });
    assert.equal(r.code, 3, `${cli}: ${r.stdout} ${r.stderr}`);
    assert.match(r.stdout, /about to fail\n/);
    assert.match(r.stderr, /The command '\/bin\/sh -c echo about to fail && exit 3' returned a non-zero code: 3\n$/);
  }
  const bad = await d.run(['build', '-f', '-', ctx], { input: 'FROM busybox\nFOO bar\n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /dockerfile parse error line 2: unknown instruction: FOO\n$/);
});
