import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locate, openDirAt, openRoot, readFileInRoot } from '../../src/container/archive-rootfs.js';

// A fake rootfs beside a fake "host": every lookup must stay in the rootfs, as a chroot.
async function fixture(t: { after(fn: () => Promise<void>): void }): Promise<{ root: string; host: string }> {
  const top = await mkdtemp(join(tmpdir(), 'berth-archive-rootfs-'));
  t.after(() => rm(top, { recursive: true, force: true }));
  const root = join(top, 'rootfs');
  const host = join(top, 'host');
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(join(root, 'tmp/d'), { recursive: true });
  await mkdir(join(host, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/shadow'), 'container shadow');
  await writeFile(join(host, 'etc/shadow'), 'HOST SHADOW');
  await symlink('/', join(root, 'escape')); // absolute: the container's root, not the host's
  await symlink('/etc', join(root, 'tmp/x'));
  await symlink('../../../../../../..', join(root, 'tmp/up')); // climbs: stops at the root
  await symlink(join(host, 'etc'), join(root, 'hostetc')); // a host path, read inside the rootfs
  await symlink('loop2', join(root, 'loop1'));
  await symlink('loop1', join(root, 'loop2'));
  await symlink('nowhere/y', join(root, 'dangling'));
  return { root, host };
}

test('locate: symlinks resolve inside the root, never out of it', async (t) => {
  const { root } = await fixture(t);
  const cases: Array<[string, boolean, string, string | null]> = [
    // path, followFinal, resolved path, name (null: a directory, returned open)
    ['/etc/shadow', false, '/etc/shadow', 'shadow'],
    ['/escape/etc/shadow', false, '/etc/shadow', 'shadow'],
    ['/tmp/x/shadow', false, '/etc/shadow', 'shadow'],
    ['/tmp/up/etc/shadow', false, '/etc/shadow', 'shadow'],
    ['/../../etc/shadow', false, '/etc/shadow', 'shadow'],
    ['/escape', false, '/escape', 'escape'],
    ['/escape', true, '/', null],
    ['/tmp/x', true, '/etc', null],
    ['/tmp/d', false, '/tmp/d', null],
    ['/', false, '/', null],
  ];
  for (const [path, follow, want, name] of cases) {
    const node = await locate(root, path, follow);
    try {
      assert.equal(node.path, want, path);
      assert.equal(node.name, name, path);
    } finally {
      await node.close();
    }
  }
});

test('locate: a host path behind a symlink is looked up in the rootfs', async (t) => {
  const { root, host } = await fixture(t);
  // The link's target is the host's directory; inside the rootfs that path does not exist.
  await assert.rejects(locate(root, '/hostetc/shadow', false), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
  assert.equal(await readFileInRoot(root, '/escape/etc/shadow'), 'container shadow');
  assert.equal(await readFileInRoot(root, `${host}/etc/shadow`), null);
});

test('locate: errors worded as Go, with the path asked for', async (t) => {
  const { root } = await fixture(t);
  const cases: Array<[string, string, RegExp]> = [
    ['/nope/x', 'ENOENT', /^lstat \/nope\/x: no such file or directory$/],
    ['/etc/shadow/x', 'ENOTDIR', /^lstat \/etc\/shadow\/x: not a directory$/],
    ['/loop1/x', 'ELOOP', /too many levels of symbolic links/],
    ['/dangling/z', 'ENOENT', /no such file or directory/],
  ];
  for (const [path, code, message] of cases) {
    await assert.rejects(locate(root, path, false), (err: NodeJS.ErrnoException) => err.code === code && message.test(err.message), path);
  }
});

test('openDirAt refuses a symlink where a directory was (the swap of CVE-2018-15664)', async (t) => {
  const { root } = await fixture(t);
  const dir = await openRoot(root);
  t.after(() => dir.close());
  assert.equal(await openDirAt(dir, 'escape'), null);
  assert.equal(await openDirAt(dir, 'etc/../escape'), null);
  const etc = await openDirAt(dir, 'etc');
  assert.ok(etc);
  await etc.close();
});
