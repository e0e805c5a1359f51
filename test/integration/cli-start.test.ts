import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCommand } from '../helpers/daemon.js';

// How `berth` starts (bin/berth, scripts/build.mjs): the CommonJS bundle compiled with the
// V8 code cache made at build time, and modules few commands need loaded on first use.
// Needs the build (dist/), as the other integration tests.

const repo = resolve(import.meta.dirname, '../..');
const bin = join(repo, 'bin/berth');
const node = process.execPath;

// Whether V8 took the cache, from a child process as the CLI itself runs.
async function cacheAccepted(binPath: string): Promise<boolean> {
  const r = await runCommand(node, ['-e', `const { script } = require(${JSON.stringify(binPath)}).load(true); process.stdout.write(String(!script.cachedDataRejected && script.cachedDataRejected !== undefined))`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout === 'true';
}

test('the build leaves a code cache that V8 accepts for the bundle', async () => {
  assert.equal(await cacheAccepted(bin), true);
});

test('bin/berth and dist/berth.mjs behave the same', async () => {
  for (const args of [['--version'], ['--help'], ['run', '--help'], ['no-such-command'], ['-H', 'unix:///nonexistent/berth.sock', 'ps']]) {
    const a = await runCommand(node, [bin, ...args]);
    const b = await runCommand(node, [join(repo, 'dist/berth.mjs'), ...args]);
    assert.deepEqual(a, b, args.join(' '));
    assert.ok(a.stdout.length + a.stderr.length > 0, args.join(' '));
  }
  const down = await runCommand(node, [bin, '-H', 'unix:///nonexistent/berth.sock', 'ps']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^Cannot connect to the berth daemon at unix:\/\/\/nonexistent\/berth\.sock/);
});

test('a cache made for another build of the bundle is not used', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cli-start-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(join(repo, 'bin'), join(dir, 'bin'), { recursive: true });
  await cp(join(repo, 'dist'), join(dir, 'dist'), { recursive: true });
  const bundle = join(dir, 'dist/berth.cjs');
  const copyBin = join(dir, 'bin/berth');
  assert.equal(await cacheAccepted(copyBin), true);
  // Same length, another build id: V8 alone would take the cache (it checks the length).
  const src = await readFile(bundle, 'utf8');
  const id = /\/\/# berth-build ([0-9a-f]+)\n$/.exec(src)?.[1];
  assert.ok(id);
  const other = id.replace(/./g, (c) => (c === '0' ? '1' : '0'));
  await writeFile(bundle, src.slice(0, src.length - id.length - 1) + other + '\n');
  assert.equal(await cacheAccepted(copyBin), false);
  const r = await runCommand(node, [copyBin, '--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^berth version /);
  // No cache at all: the same.
  await rm(join(dir, 'dist/berth.cache'));
  assert.equal((await runCommand(node, [copyBin, '--version'])).stdout, r.stdout);
});

test('start-up loads none of the modules that only some commands use', async () => {
  // tar-stream is bundled: its code runs only from the stand-in that loads it on first use.
  const bundle = await readFile(join(repo, 'dist/berth.cjs'), 'utf8');
  const calls = [...bundle.matchAll(/require_tar_stream\(\)/g)].map((m) => m.index);
  assert.equal(calls.length, 1);
  assert.match(bundle.slice(bundle.lastIndexOf('// lazy:', calls[0]), calls[0]), /^\/\/ lazy:tar-stream\n/);

  const script = `
    const exit = process.exit;
    process.exit = (code) => {
      const loaded = process.moduleLoadList.filter((m) => /^NativeModule (crypto|zlib|https|tls|child_process)$/.test(m));
      process.stdout.write(JSON.stringify(loaded));
      exit(code);
    };
    process.argv = [process.argv[0], ${JSON.stringify(bin)}, '-H', 'unix:///nonexistent/berth.sock', 'run', '--rm', 'busybox', 'true'];
    require(${JSON.stringify(bin)}).main();`;
  const scriptFile = join(await mkdtemp(join(tmpdir(), 'berth-cli-start-')), 'probe.cjs');
  await writeFile(scriptFile, script);
  try {
    const r = await runCommand(node, [scriptFile]);
    assert.deepEqual(JSON.parse(r.stdout), [], r.stderr);
  } finally {
    await rm(resolve(scriptFile, '..'), { recursive: true, force: true });
  }
});
