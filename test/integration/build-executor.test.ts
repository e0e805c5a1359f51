import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, type RunResult } from '../helpers/daemon.js';

// The legacy builder end to end: real builds on a real berthd, driven by the docker CLI
// (DOCKER_BUILDKIT=0, as users and scripts run it) and by raw POST /build requests.

let d: TestDaemon;
let work: string;

before(async () => {
  d = await TestDaemon.start();
  work = await mkdtemp(join(tmpdir(), 'build-it-'));
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
  await rm(work, { recursive: true, force: true });
});

let n = 0;
async function context(files: Record<string, string | Buffer>): Promise<string> {
  const dir = join(work, `ctx${n++}`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

const dockerBuild = (args: string[]): Promise<RunResult> => d.run(['build', ...args], { cli: 'docker', env: { DOCKER_BUILDKIT: '0' } });
const docker = (args: string[]): Promise<RunResult> => d.run(args, { cli: 'docker' });

async function ok(p: Promise<RunResult>): Promise<string> {
  const r = await p;
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Lines of a build's output with IDs made stable.
const steps = (out: string): string[] => out.split('\n').map((l) => l.replace(/[0-9a-f]{12}/g, 'ID'));

async function psAll(): Promise<string[]> {
  return (await ok(docker(['ps', '-aq', '--no-trunc']))).split('\n').filter(Boolean);
}

async function mountsUnderDaemon(): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').map((l) => l.split(' ')[4] ?? '').filter((p) => p.startsWith(d.dir));
}

async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

interface RawBuild {
  status: number;
  body: string;
  messages: Array<Record<string, unknown>>;
}

function rawBuild(query: string, body: Buffer, onData?: (text: string, req: ReturnType<typeof request>) => void): Promise<RawBuild> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.sock, method: 'POST', path: `/v1.41/build?${query}`, headers: { 'Content-Type': 'application/x-tar' } }, (res: IncomingMessage) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        onData?.(text, req);
      });
      const done = (): void => {
        const messages = res.headers['content-type'] === 'application/json' ? text.split('\r\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
        resolve({ status: res.statusCode ?? 0, body: text, messages });
      };
      res.on('end', done);
      res.on('close', done);
      res.on('error', done);
    });
    req.on('error', (err) => (onData ? resolve({ status: 0, body: String(err), messages: [] }) : reject(err)));
    req.end(body);
  });
}

const streamText = (b: RawBuild): string => b.messages.map((m) => (typeof m.stream === 'string' ? m.stream : '')).join('');

test('a multi-step build through the docker CLI: steps, RUN output, the image, its history', async () => {
  const dir = await context({
    Dockerfile: 'FROM busybox\nENV GREETING=hello\nWORKDIR /app\nCOPY msg.txt ./\nRUN echo "$GREETING from RUN" && cat msg.txt && echo to-stderr >&2\nCMD ["cat", "/app/msg.txt"]\n',
    'msg.txt': 'the message\n',
  });
  const r = await dockerBuild(['-t', 'bx-multi:1', '-t', 'bx-multi:2', dir]);
  assert.equal(r.code, 0, r.stderr);
  const lines = steps(r.stdout);
  for (const want of ['Step 1/6 : FROM busybox', 'Step 2/6 : ENV GREETING=hello', 'Step 4/6 : COPY msg.txt ./', ' ---> Running in ID', 'hello from RUN', 'the message', 'Successfully built ID', 'Successfully tagged bx-multi:1', 'Successfully tagged bx-multi:2']) {
    assert.ok(lines.includes(want), `${want}\n${r.stdout}`);
  }
  // RUN's stderr comes in red, as dockerd sends it; the removal follows the output.
  assert.match(r.stdout, /\x1b\[91mto-stderr\n\x1b\[0mRemoving intermediate container [0-9a-f]{12}\n/);
  assert.equal(await ok(docker(['run', '--rm', 'bx-multi:1'])), 'the message\n');
  const inspect = JSON.parse(await ok(docker(['image', 'inspect', 'bx-multi:2'])))[0];
  assert.equal(inspect.Config.WorkingDir, '/app');
  assert.deepEqual(inspect.Config.Cmd, ['cat', '/app/msg.txt']);
  assert.ok(inspect.Config.Env.includes('GREETING=hello'));
  const history = (await ok(docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Size}}', 'bx-multi:1']))).split('\n');
  assert.equal(history[0], '/bin/sh -c #(nop)  CMD ["cat" "/app/msg.txt"]|0B');
  assert.match(history[1]!, /^\/bin\/sh -c echo "\$GREETING from RUN" && cat msg.txt && echo to-stderr >&2\|0B$/);
  assert.match(history[2]!, /^\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \.\/ \|12B$/);
  assert.equal(history[3], '/bin/sh -c #(nop) WORKDIR /app|0B');
  assert.equal(history[4], '/bin/sh -c #(nop)  ENV GREETING=hello|0B');
  const raw = JSON.parse(await ok(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'bx-multi:1'])));
  assert.equal(raw.length, 3, 'busybox, WORKDIR /app, COPY: config-only steps add no layer');
  assert.deepEqual(await psAll(), [], '--rm is the default');
});

test('cache: a rebuild hits, a changed file misses from its step on, --no-cache builds everything', async () => {
  const dir = await context({ Dockerfile: 'FROM busybox\nENV A=1\nCOPY f.txt /f.txt\nRUN cat /f.txt\n', 'f.txt': 'v1\n' });
  const first = await ok(dockerBuild(['-t', 'bx-cache', dir]));
  assert.doesNotMatch(first, /Using cache/);
  const id = (s: string): string => /Successfully built ([0-9a-f]{12})/.exec(s)![1]!;
  const again = await ok(dockerBuild(['-t', 'bx-cache', dir]));
  assert.equal(again.match(/ ---> Using cache/g)?.length, 3);
  assert.equal(id(again), id(first));
  await writeFile(join(dir, 'f.txt'), 'v2\n');
  const changed = await ok(dockerBuild(['-t', 'bx-cache', dir]));
  assert.equal(changed.match(/Using cache/g)?.length, 1, 'ENV hits, COPY and RUN miss');
  assert.match(changed, /\nv2\n/);
  const none = await ok(dockerBuild(['--no-cache', '-t', 'bx-cache', dir]));
  assert.doesNotMatch(none, /Using cache/);
  assert.notEqual(id(none), id(changed));
});

test('multi-stage: COPY --from a stage by name and by index, --target stops at a stage', async () => {
  const dir = await context({
    Dockerfile: [
      'FROM busybox AS build',
      'RUN mkdir /out && echo built > /out/artifact && echo second > /out/other',
      'FROM busybox AS unused',
      'RUN echo unused > /u',
      'FROM busybox',
      'COPY --from=build /out/artifact /artifact',
      'COPY --from=0 /out/*er /from-index/',
      'CMD cat /artifact /from-index/other',
      '',
    ].join('\n'),
  });
  const r = await ok(dockerBuild(['-t', 'bx-stages', dir]));
  assert.equal(r.match(/Step \d+\/8 : FROM/g)?.length, 3, 'the legacy builder runs every stage in order');
  assert.equal(await ok(docker(['run', '--rm', 'bx-stages'])), 'built\nsecond\n');
  const target = await ok(dockerBuild(['--target', 'build', '-t', 'bx-stage-build', dir]));
  assert.doesNotMatch(target, /unused/);
  assert.equal(await ok(docker(['run', '--rm', 'bx-stage-build', 'cat', '/out/artifact'])), 'built\n');
  const bad = await dockerBuild(['--target', 'nope', dir]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /failed to reach build target nope in Dockerfile/);
  const badFrom = await dockerBuild([await context({ Dockerfile: 'FROM busybox\nCOPY --from=5 /x /x\n' })]);
  assert.match(badFrom.stderr, /invalid from flag value 5: index out of bounds/);
});

test('a failing RUN: its code and message, no image tagged; its container stays unless --force-rm', async () => {
  const dir = await context({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN echo failing; exit 3\n' });
  const r = await dockerBuild(['-t', 'bx-fail', dir]);
  assert.equal(r.code, 3, 'the docker CLI exits with the RUN code');
  assert.match(r.stdout, /failing\n/);
  assert.match(r.stderr, /The command '\/bin\/sh -c echo failing; exit 3' returned a non-zero code: 3/);
  assert.notEqual((await docker(['image', 'inspect', 'bx-fail'])).code, 0, 'nothing tagged');
  // As dockerd: --rm removes only after a successful step, so the failed one is kept for
  // inspection (exited, code 3); the container of the step before was removed.
  const left = await psAll();
  assert.equal(left.length, 1);
  const state = JSON.parse(await ok(docker(['inspect', left[0]!])))[0].State;
  assert.equal(state.ExitCode, 3);
  await ok(docker(['rm', left[0]!]));
  const forced = await dockerBuild(['--force-rm', '-t', 'bx-fail', dir]);
  assert.equal(forced.code, 3);
  assert.match(forced.stdout, /Removing intermediate container [0-9a-f]{12}\n/);
  assert.deepEqual(await psAll(), [], '--force-rm leaves no container');
  assert.deepEqual((await mountsUnderDaemon()).filter((m) => m.endsWith('/merged')), [], 'no rootfs left mounted');
});

test('ADD unpacks local tars in every compression, COPY does not; ADD from a URL', async (t) => {
  const inner = await tarOf({ 'pkg/file.txt': 'packed\n' });
  const dir = await context({
    Dockerfile: [
      'FROM busybox',
      'ADD plain.tar /plain/',
      'ADD gz.tar.gz /gz',
      'ADD bz.tar.bz2 /bz/',
      'ADD xz.tar.xz /xz/',
      'COPY gz.tar.gz /copied/',
      'ADD notatar.gz /n/',
      'RUN cat /plain/pkg/file.txt /gz/pkg/file.txt /bz/pkg/file.txt /xz/pkg/file.txt && ls /copied /n',
      '',
    ].join('\n'),
    'plain.tar': inner,
    'gz.tar.gz': gzipSync(inner),
    'bz.tar.bz2': execFileSync('bzip2', ['-c'], { input: inner }),
    'xz.tar.xz': execFileSync('xz', ['-c'], { input: inner }),
    'notatar.gz': gzipSync(Buffer.from('just text')),
  });
  const r = await ok(dockerBuild(['-t', 'bx-add', dir]));
  assert.match(r, /packed\npacked\npacked\npacked\n\/copied:\ngz\.tar\.gz\n\n\/n:\nnotatar\.gz\n/);

  // A loopback HTTP server: the file's name, mode 0600 and Last-Modified time.
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' });
    res.end(`served ${req.url}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as { port: number }).port;
  const url = await context({ Dockerfile: `FROM busybox\nADD http://127.0.0.1:${port}/dl/data.txt /srv/\nRUN cat /srv/data.txt && stat -c '%a %Y' /srv/data.txt\n` });
  const u = await ok(dockerBuild([url]));
  assert.match(u, /served \/dl\/data\.txt\n600 1445412480\n/);
});

test('.dockerignore: what it lists never reaches the build', async () => {
  const dir = await context({
    Dockerfile: 'FROM busybox\nCOPY . /ctx/\nRUN find /ctx -type f | sort\n',
    '.dockerignore': 'secret\n*.log\n!keep.log\n',
    'secret/key': 'x',
    'debug.log': 'x',
    'keep.log': 'x',
    'app.txt': 'x',
  });
  const r = await ok(dockerBuild([dir]));
  assert.match(r, /\/ctx\/\.dockerignore\n\/ctx\/Dockerfile\n\/ctx\/app\.txt\n\/ctx\/keep\.log\n/);
  assert.doesNotMatch(r, /secret|debug\.log/);
  const missing = await dockerBuild([await context({ Dockerfile: 'FROM busybox\nCOPY secret/key /k\n', '.dockerignore': 'secret', 'secret/key': 'x' })]);
  assert.match(missing.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat secret\/key: file does not exist/);
  const outside = await dockerBuild([await context({ Dockerfile: 'FROM busybox\nCOPY ../x /x\n' })]);
  assert.match(outside.stderr, /COPY failed: forbidden path outside the build context: \.\.\/x \(\)/);
});

test('build args: defaults, --build-arg, in RUN but not in the image, in history; unused ones warned about', async () => {
  const dir = await context({
    Dockerfile: 'ARG TAG=latest\nFROM busybox:${TAG}\nARG WHO=world\nARG ALSO\nRUN echo "hello $WHO $ALSO proxy=$HTTP_PROXY"\n',
  });
  const r = await ok(dockerBuild(['--build-arg', 'WHO=berth', '--build-arg', 'HTTP_PROXY=http://proxy:3128', '--build-arg', 'EXTRA=1', '-t', 'bx-args', dir]));
  assert.match(r, /hello berth  proxy=http:\/\/proxy:3128\n/);
  assert.match(r, /\[Warning\] One or more build-args \[EXTRA\] were not consumed/);
  const env = JSON.parse(await ok(docker(['image', 'inspect', '--format', '{{json .Config.Env}}', 'bx-args'])));
  assert.ok(!env.some((e: string) => /^(WHO|HTTP_PROXY)=/.test(e)), 'build args are not persisted');
  const history = await ok(docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'bx-args']));
  assert.match(history, /^\|1 WHO=berth \/bin\/sh -c echo "hello \$WHO \$ALSO proxy=\$HTTP_PROXY"$/m, 'the proxy arg stays out');
  const same = await ok(dockerBuild(['--build-arg', 'WHO=berth', dir]));
  assert.match(same, /Using cache/);
  const other = await ok(dockerBuild(['--build-arg', 'WHO=other', dir]));
  assert.match(other, /hello other/, 'another value misses the cache');
});

test('ONBUILD triggers run at the start of the child build', async () => {
  await ok(dockerBuild(['-t', 'bx-onbuild-base', await context({ Dockerfile: 'FROM busybox\nONBUILD COPY marker /marker\nONBUILD RUN echo triggered\n' })]));
  const child = await ok(dockerBuild(['-t', 'bx-onbuild-child', await context({ Dockerfile: 'FROM bx-onbuild-base\nRUN cat /marker\n', marker: 'from child context\n' })]));
  assert.match(child, /# Executing 2 build triggers\n/);
  assert.match(child, /triggered\n[\s\S]*from child context\n/);
  const onbuild = JSON.parse(await ok(docker(['image', 'inspect', '--format', '{{json .Config.OnBuild}}', 'bx-onbuild-child'])));
  assert.equal(onbuild, null, 'triggers are consumed, not inherited');
});

test('heredocs, --chown and --chmod, USER and VOLUME in the image', async () => {
  const dir = await context({
    Dockerfile: [
      'FROM busybox',
      'RUN <<EOF',
      'echo heredoc $((40+2))',
      'EOF',
      'RUN <<EOF',
      '#!/bin/sh',
      'echo "script $0"',
      'EOF',
      'COPY <<EOF /etc/made.conf',
      'made=yes',
      'EOF',
      'COPY --chown=nobody:nobody --chmod=0640 f.txt /owned/',
      'USER nobody',
      'VOLUME /data',
      'RUN stat -c "%U:%G %a" /owned/f.txt && cat /etc/made.conf && id -un',
      '',
    ].join('\n'),
    'f.txt': 'x',
  });
  const r = await ok(dockerBuild(['-t', 'bx-heredoc', dir]));
  assert.match(r, /heredoc 42\n/);
  assert.match(r, /script \/dev\/pipes\/EOF\n/);
  assert.match(r, /nobody:nobody 640\nmade=yes\nnobody\n/);
  const cfg = JSON.parse(await ok(docker(['image', 'inspect', '--format', '{{json .Config}}', 'bx-heredoc'])));
  assert.equal(cfg.User, 'nobody');
  assert.deepEqual(cfg.Volumes, { '/data': {} });
  const badChown = await dockerBuild([await context({ Dockerfile: 'FROM busybox\nCOPY --chown=nosuch f /f\n', f: 'x' })]);
  assert.match(badChown.stderr, /unable to convert uid\/gid chown string to host mapping: can't find uid for user nosuch: no such user: nosuch/);
});

test('POST /build: a lone Dockerfile, q=1, JSON errors with codes, HTTP errors before any output', async () => {
  const lone = await rawBuild('t=bx-lone', Buffer.from('FROM busybox\nRUN echo lone\n'));
  assert.equal(lone.status, 200);
  assert.match(streamText(lone), /Step 1\/2 : FROM busybox\n[\s\S]*lone\n[\s\S]*Successfully tagged bx-lone:latest\n/);
  const aux = lone.messages.filter((m) => m.aux);
  assert.equal(aux.length, 1);
  assert.match(String((aux[0]!.aux as { ID: string }).ID), /^sha256:[0-9a-f]{64}$/);

  const quiet = await rawBuild('q=1', await tarOf({ Dockerfile: 'FROM busybox\nRUN echo hidden\n' }));
  assert.equal(quiet.messages.length, 1);
  assert.match(String(quiet.messages[0]!.stream), /^sha256:[0-9a-f]{64}\n$/);

  const failing = await rawBuild('q=1', await tarOf({ Dockerfile: 'FROM busybox\nRUN exit 7\n' }));
  const last = failing.messages.at(-1)!;
  assert.deepEqual(last.errorDetail, { code: 7, message: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" });
  assert.ok(failing.messages.some((m) => m.stream === 'Step 1/2 : FROM busybox'), 'q=1 shows what was held back on failure');
  for (const id of await psAll()) await docker(['rm', '-f', id]);

  const missing = await rawBuild('dockerfile=nope', await tarOf({ Dockerfile: 'FROM busybox\n' }));
  assert.equal(missing.status, 500);
  assert.deepEqual(JSON.parse(missing.body), { message: 'Cannot locate specified Dockerfile: nope' });
  const parse = await rawBuild('', await tarOf({ Dockerfile: 'FROM busybox\nBOGUS x\n' }));
  assert.equal(parse.status, 400);
  assert.match(parse.body, /unknown instruction: BOGUS/);
  const noBase = await rawBuild('', await tarOf({ Dockerfile: 'FROM busybox\nRUN true\nFROM scratch\nCOPY --from=nosuchstage /x /x\n' }));
  assert.match(String(noBase.messages.at(-1)!.error), /invalid from flag value nosuchstage/);
});

test('--squash: the layers above the base become one; history keeps every step', async () => {
  const dir = await tarOf({ Dockerfile: 'FROM busybox\nRUN echo a > /a && echo b > /b\nRUN rm /a && rm /bin/true\nENV S=1\n' });
  const r = await rawBuild('t=bx-squash&squash=1', dir);
  assert.equal(r.status, 200, r.body);
  assert.ok(r.messages.some((m) => m.id === 'moby.image.id'));
  const layers = JSON.parse(await ok(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'bx-squash'])));
  const base = JSON.parse(await ok(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'busybox'])));
  assert.equal(layers.length, base.length + 1);
  assert.equal(await ok(docker(['run', '--rm', 'bx-squash', 'sh', '-c', 'cat /b; ls /a /bin/true 2>&1 | wc -l; echo $S'])), 'b\n2\n1\n');
  const history = await ok(docker(['history', '--format', '{{.Comment}}', 'bx-squash']));
  assert.match(history.split('\n')[0]!, /^merge sha256:[0-9a-f]{64} to sha256:[0-9a-f]{64}$/);
});

test('a client that goes away cancels the build: the RUN container goes, nothing is tagged, nothing stays mounted', async () => {
  const body = await tarOf({ Dockerfile: 'FROM busybox\nRUN echo $((6*7)); sleep 60; echo $((6*8))\n' });
  const r = await rawBuild('t=bx-cancelled', body, (text, req) => {
    if (text.includes('"42\\n"')) req.destroy();
  });
  assert.match(r.body, /"42\\n"/);
  assert.doesNotMatch(r.body, /"48\\n"/);
  const deadline = Date.now() + 20_000;
  while ((await psAll()).length > 0 && Date.now() < deadline) await new Promise((res) => setImmediate(res));
  assert.deepEqual(await psAll(), []);
  assert.notEqual((await docker(['image', 'inspect', 'bx-cancelled'])).code, 0);
  assert.deepEqual((await mountsUnderDaemon()).filter((m) => m.endsWith('/merged')), []);
});

test('builder prune: dangling build images go, chains under tags stay; -a takes the whole cache', async () => {
  const dir = await context({ Dockerfile: 'FROM busybox\nCOPY f /f\nRUN cat /f\n', f: 'one' });
  await ok(dockerBuild(['-t', 'bx-prune', dir]));
  await writeFile(join(dir, 'f'), 'two');
  await ok(dockerBuild(['-t', 'bx-prune', dir]));
  const berth = (args: string[]): Promise<RunResult> => d.run(args);
  const pruned = await ok(berth(['builder', 'prune', '-f']));
  assert.match(pruned, /^Deleted build cache objects:\n([0-9a-f]{64}\n){2,}\nTotal reclaimed space: \d/, pruned);
  const hits = await ok(dockerBuild(['-t', 'bx-prune', dir]));
  assert.equal(hits.match(/Using cache/g)?.length, 2, 'the tagged image keeps its cache');
  assert.equal(await ok(docker(['run', '--rm', 'bx-prune', 'cat', '/f'])), 'two');
  const all = await ok(docker(['builder', 'prune', '-af']));
  assert.match(all, /Deleted build cache objects:/);
  const cold = await ok(dockerBuild(['-t', 'bx-prune', dir]));
  assert.doesNotMatch(cold, /Using cache/);
  assert.equal(await ok(docker(['run', '--rm', 'bx-prune', 'cat', '/f'])), 'two');
  assert.match(await ok(berth(['builder', 'prune', '-f', '--filter', 'until=1h'])), /Total reclaimed space: 0B/);
});

test('--cache-from: a loaded image (no parent links) serves as the cache', async () => {
  const dir = await context({ Dockerfile: 'FROM busybox\nENV K=v\nCOPY f /f\nRUN cat /f > /g\nCMD ["cat", "/g"]\n', f: 'cached\n' });
  await ok(dockerBuild(['-t', 'bx-cachefrom', dir]));
  const archive = join(work, 'cachefrom.tar');
  await ok(docker(['save', '-o', archive, 'bx-cachefrom']));
  await ok(docker(['rmi', 'bx-cachefrom']));
  await ok(d.run(['builder', 'prune', '-af']));
  await ok(docker(['load', '-i', archive]));
  const plain = await ok(dockerBuild(['-t', 'bx-cachefrom-plain', dir]));
  assert.doesNotMatch(plain, /Using cache/, 'a loaded image is no local cache');
  await ok(d.run(['builder', 'prune', '-af']));
  await ok(docker(['rmi', 'bx-cachefrom-plain']));
  const r = await ok(dockerBuild(['--cache-from', 'bx-cachefrom', '-t', 'bx-cachefrom-2', dir]));
  assert.equal(r.match(/Using cache/g)?.length, 4, r);
  const ids = await ok(docker(['image', 'inspect', '--format', '{{.Id}}', 'bx-cachefrom', 'bx-cachefrom-2']));
  const [a, b] = ids.trim().split('\n');
  assert.equal(a, b, 'the last step is the loaded image itself');
  assert.equal(await ok(docker(['run', '--rm', 'bx-cachefrom-2'])), 'cached\n');
});

test('limits and network of the request apply to RUN containers', async () => {
  const dir = await context({ Dockerfile: 'FROM busybox\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes; ls /sys/class/net | sort | tr "\\n" " "; grep myhost /etc/hosts\n' });
  const r = await ok(dockerBuild(['--no-cache', '--memory', '64m', '--network', 'none', '--add-host', 'myhost:10.9.8.7', dir]));
  assert.match(r, /\n67108864\nlo 10\.9\.8\.7\tmyhost\n/);
});
