import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { posixSpawn } from '../../src/runtime/posix-spawn.js';

async function text(r: Readable | null | undefined): Promise<string> {
  assert.ok(r, 'a pipe was asked for');
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

test('pipes on any fd, env, cwd and the exit code', async (t) => {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'berth-spawn-')));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const p = posixSpawn('/bin/sh', ['-c', 'echo out; echo err >&2; echo three >&3; pwd; echo "$FOO"; exit 7'], {
    env: { FOO: 'bar', PATH: '/usr/bin:/bin', UNSET: undefined },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  assert.ok(p.pid > 0);
  assert.equal(p.pipes[0], null);
  const [out, err, three, exit] = await Promise.all([text(p.pipes[1]), text(p.pipes[2]), text(p.pipes[3]), p.exited]);
  assert.equal(out, `out\n${dir}\nbar\n`);
  assert.equal(err, 'err\n');
  assert.equal(three, 'three\n');
  assert.deepEqual(exit, { code: 7, signal: null });
});

test('a signal death, a new session, default signal dispositions', async () => {
  const killed = posixSpawn('/bin/sh', ['-c', 'kill -TERM $$'], { env: {}, stdio: [] });
  assert.deepEqual(await killed.exited, { code: null, signal: 15 });

  // Node ignores SIGPIPE; the child must not inherit that (nor glibc's internal signals).
  const p = posixSpawn('/bin/sh', ['-c', 'grep -E "^Sig(Ign|Blk)" /proc/self/status; ps -o sid= -p $$ 2>/dev/null || cut -d" " -f6 /proc/$$/stat'], {
    env: { PATH: '/usr/bin:/bin' },
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const out = await text(p.pipes[1]);
  assert.match(out, /SigBlk:\s+0+\n/);
  assert.match(out, /SigIgn:\s+0+\n/);
  assert.equal(Number(out.trim().split('\n').at(-1)), p.pid, 'its own session');
  assert.deepEqual(await p.exited, { code: 0, signal: null });
});

test('a missing program fails at once with ENOENT and leaves no fd behind', async () => {
  const { readdir } = await import('node:fs/promises');
  const before = (await readdir('/proc/self/fd')).length;
  assert.throws(() => posixSpawn('/nonexistent/prog', [], { env: {}, stdio: ['ignore', 'pipe', 'pipe'] }), { code: 'ENOENT' });
  assert.equal((await readdir('/proc/self/fd')).length, before);
});

test('a script on stdin, and a program found through PATH', async () => {
  const p = posixSpawn('tr', ['a-z', 'A-Z'], { env: { PATH: '/usr/bin:/bin' }, searchPath: true, stdio: ['pipe', 'pipe', 'ignore'] });
  assert.ok(p.stdin);
  p.stdin.end('shout\n');
  assert.equal(await text(p.pipes[1]), 'SHOUT\n');
  assert.deepEqual(await p.exited, { code: 0, signal: null });
  assert.throws(() => posixSpawn('no-such-tool-here', [], { env: { PATH: '/usr/bin:/bin' }, searchPath: true, stdio: [] }), { code: 'ENOENT' });
});
