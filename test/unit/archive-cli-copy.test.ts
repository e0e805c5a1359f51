import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { extractTo } from '../../src/cli/copy-untar.js';
import { getRebaseName, prepareArchiveCopy, rebaseName } from '../../src/cli/copy-archive.js';

// The client end of `cp` out of a container: the archive comes from the container and may
// be hostile. Nothing may land outside the destination, whatever its symlinks say.

type Item = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string; body?: string };

function archive(items: Item[]): Readable {
  const pack = tar.pack();
  for (const it of items) pack.entry({ name: it.name, type: it.type ?? 'file', linkname: it.linkname }, it.body ?? '');
  pack.finalize();
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

async function fixture(t: { after(fn: () => Promise<void>): void }): Promise<{ top: string; dest: string }> {
  const top = await mkdtemp(join(tmpdir(), 'berth-archive-cli-'));
  t.after(() => rm(top, { recursive: true, force: true }));
  const dest = join(top, 'a/b/dest');
  await mkdir(dest, { recursive: true });
  return { top, dest };
}

const exists = (p: string): Promise<boolean> => lstat(p).then(() => true, () => false);

test('symlinks pointing out, names climbing out, hardlinks to outside: refused', async (t) => {
  const { dest } = await fixture(t);
  const cases: Array<[Item[], RegExp]> = [
    [[{ name: '../x' }], /"\.\.\/x" is outside of/],
    [[{ name: 'evil', type: 'symlink', linkname: '../../..' }], /invalid symlink ".*\/dest\/evil" -> "\.\.\/\.\.\/\.\."/],
    // An absolute target is joined to the destination (as moby does): the link is made,
    // but nothing goes through it to the host's /etc.
    [[{ name: 'abs', type: 'symlink', linkname: '/etc' }, { name: 'abs/passwd', body: 'x' }], /"abs\/passwd" is outside of/],
    [[{ name: 'h', type: 'link', linkname: '../../../etc/passwd' }], /invalid hardlink/],
  ];
  for (const [items, err] of cases) await assert.rejects(extractTo(archive(items), dest), err);
});

test('a chain of symlinks, each inside on paper, cannot carry an entry out', async (t) => {
  const { top, dest } = await fixture(t);
  const items: Item[] = [
    { name: 'a/', type: 'directory' },
    { name: 'a/l1', type: 'symlink', linkname: '..' }, // dest/a/.. = dest: fine
    { name: 'a/l1/l2', type: 'symlink', linkname: '..' }, // lexically dest/a: fine; really dest/..
    { name: 'a/l1/l2/x/pwned', body: 'pwned' },
  ];
  await assert.rejects(extractTo(archive(items), dest), /is outside of/);
  assert.equal(await exists(join(top, 'a/b/x')), false, 'nothing was created outside');
});

test('an existing symlink is replaced, not written through; no dir/non-dir overwrite', async (t) => {
  const { top, dest } = await fixture(t);
  await writeFile(join(top, 'outside'), 'untouched');
  await symlink(join(top, 'outside'), join(dest, 'f'));
  await extractTo(archive([{ name: 'f', body: 'new' }]), dest);
  assert.equal(await readFile(join(top, 'outside'), 'utf8'), 'untouched');
  assert.equal(await readFile(join(dest, 'f'), 'utf8'), 'new');
  await mkdir(join(dest, 'd'));
  await assert.rejects(extractTo(archive([{ name: 'd' }]), dest), /cannot overwrite directory ".*\/dest\/d" with non-directory/);
  await assert.rejects(extractTo(archive([{ name: 'f/', type: 'directory' }]), dest), /cannot overwrite non-directory/);
  await extractTo(archive([{ name: 'ok', type: 'symlink', linkname: 'f' }]), dest);
  assert.equal(await readlink(join(dest, 'ok')), 'f');
});

test('rebase and rename rules of the docker CLI', () => {
  assert.equal(rebaseName('/bin/sh', '/', 'out'), 'out/bin/sh'); // a copy of "/"
  assert.equal(rebaseName('/', '/', 'out'), 'out/');
  assert.equal(rebaseName('./x', '.', 'out'), 'out/x');
  assert.deepEqual(getRebaseName('/tmp/link/', '/data'), { path: '/data/', rebaseName: 'link' });
  assert.deepEqual(getRebaseName('/tmp/link/.', '/data'), { path: '/data/.' });
  assert.deepEqual(getRebaseName('/tmp/data', '/data'), { path: '/data' });
  assert.throws(() => prepareArchiveCopy({ path: '/f', exists: true, isDir: false }, { path: '/new/', exists: false, isDir: false }), /^Error: no such directory$/);
});
