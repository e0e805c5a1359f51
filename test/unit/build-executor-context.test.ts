import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { receiveContext, contextPath } from '../../src/build/build-context-daemon.js';
import { decompressAny, isArchiveFile, isTarHeader } from '../../src/build/decompress.js';

// The daemon side of a build context: a tar in any compression or a lone Dockerfile,
// extracted under a temp root it never leaves, the Dockerfile found as dockerd finds it.

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) {
    if (content === '<dir>') pack.entry({ name, type: 'directory', mode: 0o755 });
    else if (content.startsWith('<link>')) pack.entry({ name, type: 'symlink', linkname: content.slice(6) });
    else pack.entry({ name, mode: 0o644 }, content);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const compressWith = (tool: string, data: Buffer): Buffer => execFileSync(tool, ['-c'], { input: data });

async function withTmp(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'build-ctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a tar in every compression dockerd takes', async (t) => {
  const tmpRoot = await withTmp(t);
  const plain = await tarOf({ Dockerfile: 'FROM busybox\n', 'app/a.txt': 'a' });
  const bodies: Array<[string, Buffer]> = [
    ['plain', plain],
    ['gzip', gzipSync(plain)],
    ['bzip2', compressWith('bzip2', plain)],
    ['xz', compressWith('xz', plain)],
  ];
  for (const [what, body] of bodies) {
    const ctx = await receiveContext(Readable.from([body]), { tmpRoot, dockerfile: '' });
    assert.equal(ctx.dockerfile, 'FROM busybox\n', what);
    assert.equal(await readFile(join(ctx.root, 'app/a.txt'), 'utf8'), 'a', what);
    await ctx.close();
  }
  assert.deepEqual(await readdir(tmpRoot), [], 'close removes everything');
});

test('a body that is not a tar is the Dockerfile; finding the Dockerfile as dockerd does', async (t) => {
  const tmpRoot = await withTmp(t);
  const lone = await receiveContext(Readable.from([Buffer.from('FROM busybox\nRUN true\n')]), { tmpRoot, dockerfile: '' });
  assert.equal(lone.dockerfile, 'FROM busybox\nRUN true\n');
  assert.deepEqual(await readdir(lone.root), []);
  await lone.close();

  const lower = await receiveContext(Readable.from([await tarOf({ dockerfile: 'FROM a\n' })]), { tmpRoot, dockerfile: '' });
  assert.equal(lower.dockerfileName, 'dockerfile');
  await lower.close();

  const custom = await receiveContext(Readable.from([await tarOf({ 'sub/Build.df': 'FROM b\n' })]), { tmpRoot, dockerfile: 'sub/Build.df' });
  assert.equal(custom.dockerfile, 'FROM b\n');
  await custom.close();

  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ other: 'x' }, '', /: Cannot locate specified Dockerfile: Dockerfile$/],
    [{ dockerfile: 'x' }, 'Dockerfile.x', /: Cannot locate specified Dockerfile: Dockerfile\.x$/],
    [{ Dockerfile: '' }, '', /: the Dockerfile \(Dockerfile\) cannot be empty$/],
    [{ Dockerfile: 'x' }, '../Dockerfile', /: forbidden path outside the build context: \.\.\/Dockerfile \(\)$/],
  ];
  for (const [files, name, want] of cases) {
    await assert.rejects(receiveContext(Readable.from([await tarOf(files)]), { tmpRoot, dockerfile: name }), want);
  }
  await assert.rejects(receiveContext(Readable.from([Buffer.alloc(0)]), { tmpRoot, dockerfile: '' }), /Cannot locate specified Dockerfile/);
  assert.deepEqual(await readdir(tmpRoot), [], 'failures leave nothing');
});

test('hostile archives stay inside the context', async (t) => {
  const tmpRoot = await withTmp(t);
  const outside = join(tmpRoot, 'escaped');
  await assert.rejects(receiveContext(Readable.from([await tarOf({ Dockerfile: 'FROM a\n', '../escaped': 'x' })]), { tmpRoot, dockerfile: '' }), /outside of the layer root/);
  // A symlink pointing out, then a file through it: lands inside.
  const ctx = await receiveContext(Readable.from([await tarOf({ Dockerfile: 'FROM a\n', link: `<link>${tmpRoot}`, 'link/escaped': 'x' })]), { tmpRoot, dockerfile: '' });
  await assert.rejects(stat(outside), { code: 'ENOENT' });
  assert.ok((await contextPath(ctx.root, 'link/escaped')).startsWith(ctx.root));
  await assert.rejects(contextPath(ctx.root, 'a/../../x'), /forbidden path outside the build context: a\/\.\.\/\.\.\/x \(\)/);
  await ctx.close();
});

test('.dockerignore that lists itself or the Dockerfile takes them out of the context', async (t) => {
  const tmpRoot = await withTmp(t);
  const ignored = (rules: string, path: string): boolean => rules.split('\n').includes(path);
  const ctx = await receiveContext(Readable.from([await tarOf({ Dockerfile: 'FROM a\n', '.dockerignore': '.dockerignore\nDockerfile', keep: 'k' })]), { tmpRoot, dockerfile: '', ignored });
  assert.equal(ctx.dockerfile, 'FROM a\n', 'read before it goes');
  assert.deepEqual((await readdir(ctx.root)).sort(), ['keep']);
  await ctx.close();
});

test('archive detection: tar headers, compressed tars, not-tars', async (t) => {
  const dir = await withTmp(t);
  const plain = await tarOf({ f: 'x' });
  assert.ok(isTarHeader(plain.subarray(0, 512)));
  assert.equal(isTarHeader(Buffer.alloc(512)), false, 'zeros end an archive');
  assert.equal(isTarHeader(Buffer.from('FROM busybox\n'.padEnd(600, ' '))), false);
  const broken = Buffer.from(plain.subarray(0, 512));
  broken[0] ^= 1;
  assert.equal(isTarHeader(broken), false, 'checksum');
  const files: Array<[string, Buffer, boolean]> = [
    ['t.tar', plain, true],
    ['t.tgz', gzipSync(plain), true],
    ['t.tbz', compressWith('bzip2', plain), true],
    ['t.txz', compressWith('xz', plain), true],
    ['gz-text', gzipSync(Buffer.from('hello')), false],
    ['text', Buffer.from('hello'), false],
    ['empty', Buffer.alloc(0), false],
  ];
  for (const [name, data, want] of files) {
    await writeFile(join(dir, name), data);
    assert.equal(await isArchiveFile(join(dir, name)), want, name);
  }
  const { compression, stream } = await decompressAny(Readable.from([compressWith('xz', Buffer.from('abc'))]));
  assert.equal(compression, 'xz');
  const out: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) out.push(c);
  assert.equal(Buffer.concat(out).toString(), 'abc');
});

test('a writable layer of a build is marked while it lives; a crash\'s leftovers go at start-up', async (t) => {
  const { ScratchLayer, removeLeftoverLayers } = await import('../../src/build/build-layer.js');
  const marks = await withTmp(t);
  const made = new Set<string>();
  const removed: string[] = [];
  const layers = {
    createRw: async (id: string) => void made.add(id),
    mountRw: async (id: string) => `/fake/${id}/merged`,
    unmountRw: async () => {},
    removeRw: async (id: string) => {
      removed.push(id);
      made.delete(id);
    },
    rwDirs: async () => ({ upper: marks, lowers: [] }),
    rwDiffTar: async () => Readable.from([]),
    register: async () => {
      throw new Error('not expected');
    },
  };
  const kept = await ScratchLayer.open(layers, marks, null);
  const done = await ScratchLayer.open(layers, marks, null);
  assert.equal(kept.rootfs, `/fake/${kept.id}/merged`);
  await done.release();
  assert.deepEqual(await readdir(marks), [`layer-${kept.id}`]);
  // "The daemon died": only the marked layer is taken away.
  removed.length = 0;
  await removeLeftoverLayers(layers, marks);
  assert.deepEqual(removed, [kept.id]);
  assert.deepEqual(await readdir(marks), []);
});

test('a tar that stops right after its last file (docker build -f - PATH) is whole enough', async (t) => {
  const tmpRoot = await withTmp(t);
  const full = await tarOf({ Dockerfile: 'FROM busybox\n', '.dockerfile.abc': 'x'.repeat(700) });
  const cut = full.subarray(0, 512 + 512 + 512 + 700);
  const ctx = await receiveContext(Readable.from([cut]), { tmpRoot, dockerfile: '.dockerfile.abc' });
  assert.equal(ctx.dockerfile, 'x'.repeat(700));
  await ctx.close();
});
