import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { decompress, detectCompression } from '../../src/image/archive-decompress.js';
import { cleanArchivePath, readArchive } from '../../src/image/archive-reader.js';
import { sha256Digest } from '../../src/image/digest.js';
import { makeTar, type TarSpec as Spec } from './image-archive-tar.js';

async function withSpool(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'archive-reader-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('cleanArchivePath: relative inside the archive, never above it', () => {
  const ok: Array<[string, string]> = [
    ['manifest.json', 'manifest.json'],
    ['./manifest.json', 'manifest.json'],
    ['/abs/x', 'abs/x'],
    ['a//b/', 'a/b'],
    ['a/../b', 'b'],
    ['./', ''],
  ];
  for (const [i, want] of ok) assert.equal(cleanArchivePath(i), want, i);
  for (const bad of ['../x', 'a/../../x', '/..', '..']) assert.throws(() => cleanArchivePath(bad), /points outside the archive/, bad);
});

test('detectCompression by magic bytes', () => {
  assert.equal(detectCompression(gzipSync(Buffer.from('x'))), 'gzip');
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0])), 'zstd');
  assert.equal(detectCompression(Buffer.from('BZh91AY')), 'bzip2');
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
  assert.equal(detectCompression(Buffer.from('manifest.json')), 'none');
  assert.equal(detectCompression(Buffer.alloc(0)), 'none');
});

test('decompress: gzip undone, plain passed through, short input kept whole', async () => {
  const read = async (r: Readable): Promise<string> => {
    const parts: Buffer[] = [];
    for await (const c of r) parts.push(c as Buffer);
    return Buffer.concat(parts).toString();
  };
  const gz = await decompress(Readable.from([gzipSync(Buffer.from('hello world'))]));
  assert.equal(gz.compression, 'gzip');
  assert.equal(await read(gz.stream), 'hello world');
  const plain = await decompress(Readable.from([Buffer.from('ab'), Buffer.from('cdefgh'), Buffer.from('ij')]));
  assert.equal(plain.compression, 'none');
  assert.equal(await read(plain.stream), 'abcdefghij');
  const tiny = await decompress(Readable.from([Buffer.from('abc')]));
  assert.equal(await read(tiny.stream), 'abc');
});

test('readArchive: files in memory or spooled, hashed; symlinks and hardlinks resolve inside', async () => {
  await withSpool(async (dir) => {
    const big = Buffer.alloc(5000, 7);
    const buf = await makeTar([
      { name: 'dir/', type: 'directory' },
      { name: './dir/small', body: 'hello' },
      { name: 'dir/big', body: big },
      { name: 'alias', type: 'symlink', linkname: 'dir/small' },
      { name: 'dir/up', type: 'symlink', linkname: '../dir/big' },
      { name: 'hard', type: 'link', linkname: 'dir/small' },
      { name: 'fifo', type: 'fifo' },
    ]);
    const a = await readArchive(Readable.from([buf]), { spoolDir: dir, inMemoryMax: 1000 });
    const small = a.file('dir/small', 'f');
    assert.equal(small.digest, sha256Digest('hello'));
    assert.equal((await a.read(small, 100, 'f')).toString(), 'hello');
    const bigFile = a.file('dir/big', 'f');
    assert.equal(bigFile.data, null);
    assert.ok(bigFile.path?.startsWith(dir));
    assert.ok((await a.read(bigFile, 10_000, 'f')).equals(big));
    assert.equal(a.file('alias', 'f'), small);
    assert.equal(a.file('dir/up', 'f'), bigFile);
    assert.equal(a.file('hard', 'f'), small);
    assert.throws(() => a.file('alias', 'f', false), /is a symlink/);
    assert.throws(() => a.file('dir', 'f'), /not a regular file/);
    assert.throws(() => a.file('fifo', 'f'), /not in the archive/);
    assert.throws(() => a.file('missing', 'layer'), /layer "missing" is not in the archive/);
    await assert.rejects(a.read(bigFile, 10, 'big one'), /too large/);
    assert.deepEqual(await readdir(dir), ['1']);
  });
});

test('readArchive: memory budget sends later files to the spool', async () => {
  await withSpool(async (dir) => {
    const buf = await makeTar([
      { name: 'a', body: Buffer.alloc(600) },
      { name: 'b', body: Buffer.alloc(600) },
    ]);
    const a = await readArchive(Readable.from([buf]), { spoolDir: dir, inMemoryMax: 1000, memoryBudget: 1000 });
    assert.notEqual(a.file('a', 'f').data, null);
    assert.equal(a.file('b', 'f').data, null);
  });
});

test('readArchive: links that leave the archive are refused when followed', async () => {
  await withSpool(async (dir) => {
    const buf = await makeTar([
      { name: 'up', type: 'symlink', linkname: '../../etc/passwd' },
      { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'loop1', type: 'symlink', linkname: 'loop2' },
      { name: 'loop2', type: 'symlink', linkname: 'loop1' },
      { name: 'sub/', type: 'directory' },
      { name: 'sub/x', type: 'symlink', linkname: '../../x' },
    ]);
    const a = await readArchive(Readable.from([buf]), { spoolDir: dir });
    assert.throws(() => a.file('up', 'layer'), /layer "up" points outside the archive/);
    assert.throws(() => a.file('abs', 'layer'), /points outside the archive/);
    assert.throws(() => a.file('sub/x', 'layer'), /points outside the archive/);
    assert.throws(() => a.file('loop1', 'layer'), /too many levels of symbolic links/);
  });
});

test('readArchive: crafted archives are refused while reading', async () => {
  const hex = 'a'.repeat(64);
  const cases: Array<[Spec[], RegExp]> = [
    [[{ name: '../evil', body: 'x' }], /"\.\.\/evil" points outside the archive/],
    [[{ name: 'a/../../evil', body: 'x' }], /points outside the archive/],
    [[{ name: `blobs/sha256/${hex}`, body: 'not that' }], /blob blobs\/sha256\/a{64} does not match its digest/],
    [[{ name: 'h', type: 'link', linkname: 'nothing' }], /hard link "h" to "nothing": no such file earlier/],
    [[{ name: 'h', type: 'link', linkname: '../../etc/shadow' }], /hard link "h"/],
    [[{ name: './', type: 'symlink', linkname: 'x' }], /archive root is a symlink/],
  ];
  for (const [entries, re] of cases) {
    await withSpool(async (dir) => {
      await assert.rejects(readArchive(Readable.from([await makeTar(entries)]), { spoolDir: dir }), re);
    });
  }
  await withSpool(async (dir) => {
    const whole = await makeTar([{ name: 'f', body: Buffer.alloc(4000, 1) }]);
    // A tar cut inside an entry: the parser's reason, not the entry stream's "Stream was destroyed".
    await assert.rejects(readArchive(Readable.from([whole.subarray(0, 2048)]), { spoolDir: dir }), (e: Error) => e.message === 'invalid archive: Unexpected end of data');
    await assert.rejects(readArchive(Readable.from([Buffer.alloc(1024, 0x41)]), { spoolDir: dir }), /invalid archive/);
    await assert.rejects(readArchive(Readable.from([await makeTar([{ name: 'a' }, { name: 'b' }])]), { spoolDir: dir, maxEntries: 1 }), /more than 1 entries/);
  });
});
