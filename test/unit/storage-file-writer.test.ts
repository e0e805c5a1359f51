import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWriter } from '../../src/storage/file-writer.js';

async function tmp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-filewriter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('chunks of any size land in order, however many are in flight', async (t) => {
  const dir = await tmp(t);
  for (const sizes of [[], [1], [0, 5, 0], Array(40).fill(1 << 20), Array.from({ length: 300 }, (_, i) => (i * 7919) % 70_000)]) {
    const chunks = sizes.map((n) => randomBytes(n));
    const path = join(dir, `f-${sizes.length}`);
    const fd = openSync(path, 'wx');
    try {
      const w = new FileWriter(fd);
      for (const c of chunks) await w.write(c);
      await w.finish();
      assert.equal(w.bytesWritten, chunks.reduce((n, c) => n + c.length, 0));
    } finally {
      closeSync(fd);
    }
    assert.ok((await readFile(path)).equals(Buffer.concat(chunks)), `sizes ${sizes.length}`);
  }
});

test('a failing write is reported by write or finish', async (t) => {
  const dir = await tmp(t);
  const fd = openSync(join(dir, 'ro'), 'wx');
  closeSync(fd);
  const ro = openSync(join(dir, 'ro'), 'r');
  try {
    const w = new FileWriter(ro);
    const failed = await (async () => {
      await w.write(Buffer.alloc(1000));
      await w.finish();
    })().then(
      () => null,
      (err: NodeJS.ErrnoException) => err.code,
    );
    assert.equal(failed, 'EBADF');
    await assert.rejects(w.write(Buffer.alloc(1)), { code: 'EBADF' });
  } finally {
    closeSync(ro);
  }
});
