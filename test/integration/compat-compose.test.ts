import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, runCommand, type RunResult } from '../helpers/daemon.js';
import { freePort, ok, waitFor, waitHttp } from './network-fixtures.js';

// docker-compose 1.29 (Debian's, on docker-py) against berthd: the calls it makes are
// not the docker CLI's (it disconnects a created container from its network and connects
// it again with aliases; it reads logs only for json-file; it sends nulls for unset fields).
// `run` goes through the docker CLI (`docker start --attach`), as compose does by default.
let d: TestDaemon;
let dir = '';
let port = 0;

function compose(args: string[]): Promise<RunResult> {
  return runCommand('docker-compose', ['--no-ansi', '-p', 'cmpt', ...args], undefined, {
    ...process.env, DOCKER_HOST: d.host,
  }).then((r) => ({ ...r }));
}

async function composeOk(args: string[]): Promise<string> {
  const r = await compose(args);
  assert.equal(r.code, 0, `docker-compose ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  d = await TestDaemon.start();
  await ok(d, ['image', 'bootstrap', 'busybox']);
  dir = await mkdtemp('/tmp/berth-compose-');
  port = await freePort();
  await writeFile(join(dir, 'docker-compose.yml'), `version: "3.8"
services:
  web:
    image: busybox
    command: sh -c "echo hello from compose > /www/index.html && exec httpd -f -p 80 -h /www"
    ports: ["127.0.0.1:${port}:80"]
    volumes: [data:/www]
    networks: [front]
    environment:
      GREETING: hi
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  client:
    image: busybox
    command: sh -c "until wget -qO- http://web/; do sleep 0.2; done; exec sleep 600"
    depends_on: [web]
    networks: [front]
volumes:
  data:
networks:
  front:
`);
});

after(async () => {
  if (d && dir) await compose(['-f', join(dir, 'docker-compose.yml'), 'down', '-v', '-t', '1']).catch(() => undefined);
  await d?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('docker-compose up, ps, exec, logs, run, down against berthd', async () => {
  const f = ['-f', join(dir, 'docker-compose.yml')];
  await composeOk([...f, 'up', '-d']);
  assert.equal(await waitHttp('127.0.0.1', port), 'hello from compose\n');
  // The client found web by its service name on the compose network.
  const logs = await waitFor('client logs', async () => {
    const out = await composeOk([...f, 'logs', 'client']);
    return out.includes('hello from compose') ? out : null;
  });
  assert.match(logs, /client_1\s+\| hello from compose/);
  await waitFor('healthy web', async () => /Up \(healthy\)/.test(await composeOk([...f, 'ps', 'web'])));
  assert.equal(await composeOk([...f, 'exec', '-T', 'web', 'sh', '-c', 'echo $GREETING']), 'hi\n');
  assert.equal(await composeOk([...f, 'run', '--rm', '-T', 'client', 'echo', 'one-off']), 'one-off\n');
  await composeOk([...f, 'down', '-v', '-t', '1']);
  assert.equal(await ok(d, ['ps', '-aq']), '');
  assert.doesNotMatch(await ok(d, ['network', 'ls', '--format', '{{.Name}}']), /cmpt_front/);
  assert.doesNotMatch(await ok(d, ['volume', 'ls', '-q']), /cmpt_data/);
});
