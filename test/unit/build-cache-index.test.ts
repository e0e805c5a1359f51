import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCacheIndex } from '../../src/build/build-cache.js';

// The builder adds each step's image without waiting and flushes once per build.

test('adds made without waiting all reach the file by flush, and read back', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'build-cache-index-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const index = new BuildCacheIndex(dir);
  await index.init();
  const ids = Array.from({ length: 20 }, (_, i) => `sha256:${String(i).padStart(64, '0')}`);
  for (const id of ids) void index.add(id);
  assert.ok(ids.every((id) => index.has(id)), 'the set is updated at once');
  await index.flush();
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'built-images.json'), 'utf8')).sort(), ids);
  const again = new BuildCacheIndex(dir);
  await again.init();
  assert.deepEqual(again.all().sort(), ids);
  await index.forget((id) => id !== ids[0]);
  await index.flush();
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'built-images.json'), 'utf8')).sort(), ids.slice(1));
});

test('a failed write is reported by flush; the next change writes again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'build-cache-index-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A file where the index's directory would be: writing fails with ENOTDIR.
  await writeFile(join(dir, 'blocker'), '');
  const index = new BuildCacheIndex(join(dir, 'blocker', 'builder'));
  await index.init();
  await assert.rejects(index.add('sha256:a'), { code: 'ENOTDIR' });
  await assert.rejects(index.flush(), { code: 'ENOTDIR' });
  await rm(join(dir, 'blocker'));
  await index.add('sha256:b');
  await index.flush();
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'blocker', 'builder', 'built-images.json'), 'utf8')).sort(), ['sha256:a', 'sha256:b']);
});
