import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashStrings, SourceHasher } from '../../src/build/source-hash.js';

// The COPY/ADD cache key of a source must not change with how it is read (chunk sizes,
// walk order, yields): computed here the plain way, whole files at once.
function referenceEntry(abs: string, rel: string): string {
  const st = lstatSync(abs);
  const type = st.isFile() ? '0' : st.isSymbolicLink() ? '2' : st.isDirectory() ? '5' : '?';
  const h = createHash('sha256');
  h.update(`name${rel}mode${st.mode & 0o7777}uid${st.uid}gid${st.gid}size${st.isFile() ? st.size : 0}typeflag${type}linkname${st.isSymbolicLink() ? readlinkSync(abs) : ''}devmajor${st.rdev}`);
  if (st.isFile()) h.update(readFileSync(abs));
  return h.digest('hex');
}

function referenceDir(abs: string, rel: string): string {
  const sums: string[] = [];
  const walk = (a: string, r: string): void => {
    sums.push(referenceEntry(a, r));
    if (!lstatSync(a).isDirectory()) return;
    for (const name of readdirSync(a)) walk(`${a}/${name}`, `${r}/${name}`);
  };
  walk(abs, rel);
  return hashStrings('dir', sums.sort());
}

async function tree(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'build-source-hash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('file and directory hashes are the plain whole-file computation', async (t) => {
  const dir = await tree(t);
  await mkdir(join(dir, 'src', 'deep', 'er'), { recursive: true });
  // Bigger than one read slice (1 MiB), and not a multiple of it.
  const big = Buffer.alloc(3 * (1 << 20) + 5, 7);
  await writeFile(join(dir, 'src', 'big.bin'), big);
  await writeFile(join(dir, 'src', 'empty'), '');
  await writeFile(join(dir, 'src', 'deep', 'er', 'x.sh'), '#!/bin/sh\n');
  await chmod(join(dir, 'src', 'deep', 'er', 'x.sh'), 0o755);
  await symlink('../big.bin', join(dir, 'src', 'deep', 'link'));
  // More entries than one walk slice (256).
  await mkdir(join(dir, 'src', 'many'));
  for (let i = 0; i < 300; i++) await writeFile(join(dir, 'src', 'many', `f${i}`), `${i}`);

  const h = new SourceHasher();
  assert.equal(await h.dir(join(dir, 'src'), 'src'), referenceDir(join(dir, 'src'), 'src'));
  assert.equal(await h.file(join(dir, 'src', 'big.bin'), 'src/big.bin'), `file:${referenceEntry(join(dir, 'src', 'big.bin'), 'src/big.bin')}`);
  assert.equal(await h.file(join(dir, 'src', 'deep', 'link'), 'src/deep/link'), `file:${referenceEntry(join(dir, 'src', 'deep', 'link'), 'src/deep/link')}`, 'a symlink is hashed, not followed');
});

test('a change in the last slice of a big file, or a mode, misses', async (t) => {
  const dir = await tree(t);
  const big = Buffer.alloc(2 * (1 << 20) + 100, 1);
  await writeFile(join(dir, 'big'), big);
  const before = await new SourceHasher().file(join(dir, 'big'), 'big');
  big[big.length - 1] = 2;
  await writeFile(join(dir, 'big'), big);
  const edited = await new SourceHasher().file(join(dir, 'big'), 'big');
  assert.notEqual(edited, before);
  await chmod(join(dir, 'big'), 0o600);
  assert.notEqual(await new SourceHasher().file(join(dir, 'big'), 'big'), edited);
});

test('hashing several sources at once gives each its own hash (the read buffer is shared)', async (t) => {
  const dir = await tree(t);
  for (const n of ['a', 'b', 'c']) {
    await mkdir(join(dir, n));
    await writeFile(join(dir, n, 'data'), Buffer.alloc((1 << 20) + 17, n.charCodeAt(0)));
  }
  const h = new SourceHasher();
  const got = await Promise.all(['a', 'b', 'c'].map((n) => h.dir(join(dir, n), n)));
  assert.deepEqual(got, ['a', 'b', 'c'].map((n) => referenceDir(join(dir, n), n)));
});

test('a missing source fails', async (t) => {
  const dir = await tree(t);
  await assert.rejects(new SourceHasher().file(join(dir, 'nope'), 'nope'), { code: 'ENOENT' });
  await assert.rejects(new SourceHasher().dir(join(dir, 'nope'), 'nope'), { code: 'ENOENT' });
});
