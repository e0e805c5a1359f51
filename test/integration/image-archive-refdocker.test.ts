import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import tar from 'tar-stream';
import { TestDaemon, berthEntry, runCommand } from '../helpers/daemon.js';

// Interop with a real Docker (dockerd 20.10 from Debian, scripts/reference-dockerd.sh):
// what berth saves, Docker loads and runs; what Docker saves, berth loads and runs, with
// the same image IDs; and for the same image both write the same manifest.json.
// BERTH_TEST_REFDOCKER=1 runs it; it starts and stops its own reference dockerd.

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repoRoot, 'scripts/reference-dockerd.sh');
const haveDockerd = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;
const skip = process.env.BERTH_TEST_REFDOCKER !== '1' ? 'set BERTH_TEST_REFDOCKER=1 (starts a reference dockerd)' : !haveDockerd && 'dockerd is not installed';

async function entry(file: string, name: string): Promise<Buffer | null> {
  const ex = tar.extract();
  Readable.from([await readFile(file)]).pipe(ex);
  let found: Buffer | null = null;
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    if (e.header.name === name) found = Buffer.concat(parts);
  }
  return found;
}

test('save/load interop with dockerd 20.10, both ways', { skip }, async (t) => {
  const refDir = await mkdtemp('/tmp/refdocker-archive-');
  const env = { ...process.env, REFDOCKER_DIR: refDir };
  const sh = (action: string) => runCommand('bash', [script, action], undefined, env);
  const refSock = `unix://${join(refDir, 'docker.sock')}`;
  const d = await TestDaemon.start();
  t.after(async () => {
    await d.cleanup().catch(() => {});
    // stop unmounts and deletes the reference's state; if it could not, its dir stays.
    if ((await sh('stop')).code === 0) await rm(refDir, { recursive: true, force: true });
  });
  const started = await sh('start');
  assert.equal(started.code, 0, started.stderr);
  const ref = async (...args: string[]) => {
    const r = await runCommand('docker', ['-H', refSock, ...args], undefined, env);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const berth = async (...args: string[]) => {
    const r = await d.run(args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}${d.log.slice(-2000)}`);
    return r.stdout;
  };
  const pipe = (from: string, to: string) => runCommand('sh', ['-c', `${from} | ${to}`]);
  const berthCli = `${process.execPath} ${berthEntry} -H ${d.host}`;

  // berth → Docker: `berth save | docker load`, and Docker runs it.
  await berth('image', 'bootstrap', 'busybox');
  await berth('tag', 'busybox', 'berthbox:1');
  const berthId = (await berth('image', 'inspect', '--format', '{{.Id}}', 'berthbox:1')).trim();
  const toRef = await pipe(`${berthCli} save berthbox:1`, `docker -H ${refSock} load`);
  assert.equal(toRef.code, 0, toRef.stderr);
  assert.equal(toRef.stdout, 'Loaded image: berthbox:1\n');
  assert.equal((await ref('image', 'inspect', '--format', '{{.Id}}', 'berthbox:1')).trim(), berthId);
  assert.equal(await ref('run', '--rm', 'berthbox:1', 'echo', 'berth image on docker'), 'berth image on docker\n');

  // Docker → berth: a two-layer image with a whiteout, committed on the reference.
  await ref('run', '--name', 'layered', 'busybox', 'sh', '-c', 'echo layered > /f; rm /bin/vi');
  await ref('commit', '-c', 'CMD ["cat","/f"]', 'layered', 'refbox:two');
  await ref('rm', 'layered');
  const refId = (await ref('image', 'inspect', '--format', '{{.Id}}', 'refbox:two')).trim();
  const refFile = join(d.dir, 'ref.tar');
  await ref('save', '-o', refFile, 'refbox:two');
  assert.equal(await berth('load', '-i', refFile), 'Loaded image: refbox:two\n');
  assert.equal((await berth('image', 'inspect', '--format', '{{.Id}}', 'refbox:two')).trim(), refId);
  assert.equal(await berth('run', '--rm', 'refbox:two'), 'layered\n');
  assert.equal((await d.run(['run', '--rm', 'refbox:two', 'ls', '/bin/vi'])).code, 1, 'the whiteout hides /bin/vi');

  // The docker-archive part berth writes is what dockerd writes for the same image.
  const berthFile = join(d.dir, 'berth.tar');
  await berth('save', '-o', berthFile, 'refbox:two');
  for (const name of ['manifest.json', 'repositories']) {
    assert.deepEqual((await entry(berthFile, name))?.toString(), (await entry(refFile, name))?.toString(), name);
  }
  // And it goes back into Docker (after Docker forgets it) with the same ID.
  await ref('rmi', 'refbox:two');
  const back = await pipe(`${berthCli} save refbox:two`, `docker -H ${refSock} load`);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((await ref('image', 'inspect', '--format', '{{.Id}}', 'refbox:two')).trim(), refId);
  assert.equal(await ref('run', '--rm', 'refbox:two'), 'layered\n');
});
