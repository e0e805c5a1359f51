import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TestDaemon, berthEntry, type RunResult } from '../helpers/daemon.js';
import { freePort, waitHttp } from './network-fixtures.js';

// The tutorial's "通过Dockerfile创建镜像" walkthrough, offline: its app.py,
// requirements.txt and Dockerfile, with only the FROM image made here instead of pulled
// (scripts/python-image.sh tags Debian's python3 + Flask as python:2.7-slim, so even the
// FROM line stays as written). `RUN pip install ... -r requirements.txt` passes without
// any index: Flask is already installed, pip only says "Requirement already satisfied".
//
// The base image costs a debootstrap (minutes), done once per machine: the script keeps
// it as a `save` archive under /var/cache/berth/images and later runs only load it
// (seconds). Without that archive the test runs only with BERTH_TEST_DEBOOTSTRAP=1, the
// rule for every debootstrap in the suite, and then leaves the archive behind.

const repo = resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root';
const fillCache = process.env.BERTH_TEST_DEBOOTSTRAP === '1';

const APP_PY = `from flask import Flask
import socket
import os

app = Flask(__name__)

@app.route('/')
def hello():
    html = "<h3>Hello {name}!</h3>" \\
           "<b>Hostname:</b> {hostname}<br/>"
    return html.format(name=os.getenv("NAME", "world"), hostname=socket.gethostname())

if __name__ == "__main__":
    app.run(host='0.0.0.0', port=80)
`;

const DOCKERFILE = `FROM python:2.7-slim
WORKDIR /app
ADD . /app
RUN pip install --trusted-host pypi.python.org -r requirements.txt
EXPOSE 80
ENV NAME World
CMD ["python", "app.py"]
`;

// A command run from the build context directory, as the tutorial types it (`build .`).
function runIn(cwd: string, cmd: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((done, fail) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', fail);
    p.on('close', (code) => done({ code: code ?? 128, stdout, stderr }));
  });
}

// Seconds a step took, reported with t.diagnostic (never a pass/fail condition).
async function timed<T>(t: { diagnostic: (m: string) => void }, what: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const v = await fn();
  t.diagnostic(`${what}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  return v;
}

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('the seed’s Python web app: build, run -p, curl, ps; and the same build through docker', {
  skip,
  timeout: (fillCache ? 40 : 5) * 60_000,
}, async (t) => {
  const d = await TestDaemon.start();
  const ctx = await mkdtemp('/tmp/berth-seed-python-');
  t.after(async () => {
    await d.cleanup();
    await rm(ctx, { recursive: true, force: true });
  });

  const berthCli = [process.execPath, berthEntry, '-H', d.host];
  const script = join(repo, 'scripts/python-image.sh');
  const base = await timed(t, 'base image', () => runIn(ctx, 'bash', [script, ...(fillCache ? [] : ['--cached-only']), '-t', 'python:2.7-slim', ...berthCli]));
  if (base.code === 3) {
    t.skip('no cached python base image: run scripts/python-image.sh once, or set BERTH_TEST_DEBOOTSTRAP=1');
    return;
  }
  ok(base, 'python-image.sh');

  await writeFile(join(ctx, 'app.py'), APP_PY);
  await writeFile(join(ctx, 'requirements.txt'), 'Flask\n');
  await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);

  // docker build -t helloworld .
  const built = ok(await timed(t, 'berth build', () => runIn(ctx, process.execPath, [berthEntry, '-H', d.host, 'build', '-t', 'helloworld', '.'])), 'berth build');
  assert.match(built, /^Step 1\/7 : FROM python:2\.7-slim$/m);
  assert.match(built, /^Step 4\/7 : RUN pip install --trusted-host pypi\.python\.org -r requirements\.txt$/m);
  assert.match(built, /^Requirement already satisfied: Flask in \/usr\/lib\/python3\/dist-packages/m);
  assert.match(built, /^Step 7\/7 : CMD \["python", "app\.py"\]$/m);
  assert.match(built, /^Successfully tagged helloworld:latest$/m);

  const ins = JSON.parse(ok(await d.run(['image', 'inspect', 'helloworld']), 'inspect'))[0];
  assert.deepEqual(ins.Config.Cmd, ['python', 'app.py']);
  assert.equal(ins.Config.WorkingDir, '/app');
  assert.deepEqual(ins.Config.ExposedPorts, { '80/tcp': {} });
  assert.ok(ins.Config.Env.includes('NAME=World'), ins.Config.Env.join(' '));

  // docker run -p 4000:80 helloworld (detached here, so the test can go on)
  const port = await freePort();
  const id = ok(await d.run(['run', '-d', '-p', `${port}:80`, 'helloworld']), 'run').trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const short = id.slice(0, 12);

  // curl http://localhost:4000
  assert.equal(await timed(t, 'run until the app answers', () => waitHttp('127.0.0.1', port)), `<h3>Hello World!</h3><b>Hostname:</b> ${short}<br/>`);

  // docker ps: CONTAINER ID / IMAGE / COMMAND as the tutorial shows them
  const ps = ok(await d.run(['ps']), 'ps').split('\n');
  const row = ps.find((l) => l.startsWith(short));
  assert.ok(row, ps.join('\n'));
  assert.match(row, new RegExp(`^${short}\\s+helloworld\\s+"python app\\.py"\\s+`));
  assert.match(row, new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp`));

  // The same build through the real docker CLI's legacy builder, with no cache and no
  // network at all for RUN: the pip step really needs nothing from outside.
  const dbuilt = await timed(t, 'docker build --no-cache', () =>
    runIn(ctx, 'docker', ['-H', d.host, 'build', '--no-cache', '--network', 'none', '-t', 'helloworld-docker', '.'], {
      DOCKER_BUILDKIT: '0',
      DOCKER_CONFIG: join(d.dir, 'docker-config'),
    }),
  );
  const dout = ok(dbuilt, 'docker build');
  assert.match(dout, /^Requirement already satisfied: Flask/m);
  assert.match(dout, /^Successfully tagged helloworld-docker:latest$/m);
  const dins = JSON.parse(ok(await d.docker(['image', 'inspect', 'helloworld-docker']), 'docker inspect'))[0];
  for (const k of ['Cmd', 'Entrypoint', 'Env', 'WorkingDir', 'ExposedPorts', 'User']) {
    assert.deepEqual(dins.Config[k], ins.Config[k], `Config.${k}`);
  }
  assert.equal(dins.RootFS.Layers.length, ins.RootFS.Layers.length);
  assert.notEqual(dins.Id, ins.Id, '--no-cache made a new image');

  // And run through docker, with NAME from -e as the app's code reads it.
  const dport = await freePort();
  const did = ok(await d.docker(['run', '-d', '-e', 'NAME=Docker', '-p', `${dport}:80`, 'helloworld-docker']), 'docker run').trim();
  assert.equal(await waitHttp('127.0.0.1', dport), `<h3>Hello Docker!</h3><b>Hostname:</b> ${did.slice(0, 12)}<br/>`);
  const dps = ok(await d.docker(['ps', '--no-trunc', '--format', '{{.ID}} {{.Command}}']), 'docker ps');
  assert.ok(dps.split('\n').includes(`${did} "python app.py"`), dps);
});
