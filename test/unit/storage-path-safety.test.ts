import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanEntryName, resolveInRoot } from '../../src/storage/path-safety.js';
import type { NodeKind, ResolveFs } from '../../src/storage/path-safety.js';
import { BerthError } from '../../src/util/errors.js';

test('cleanEntryName normalises names inside the root', () => {
  const cases: Array<[string, string]> = [
    ['a', 'a'],
    ['./a/b/', 'a/b'],
    ['a//b/./c', 'a/b/c'],
    ['a/b/../c', 'a/c'],
    ['a/..', ''],
    ['./', ''],
    ['.', ''],
    ['/', ''],
    ['/abs/evil', 'abs/evil'],
    ['/../evil', 'evil'], // rooted: `..` stops at the root, as filepath.Clean does
    ['/a/../../b', 'b'],
    ['..foo/bar', '..foo/bar'],
    ['.wh..wh..opq', '.wh..wh..opq'],
  ];
  for (const [input, want] of cases) assert.equal(cleanEntryName(input), want, input);
});

test('cleanEntryName rejects names climbing out of the root', () => {
  for (const bad of ['..', '../evil', './../evil', 'a/../../evil', 'a/b/../../../c', 'nul\0byte']) {
    assert.throws(() => cleanEntryName(bad), (err: unknown) => err instanceof BerthError && err.kind === 'InvalidParameter', bad);
  }
});

// A fake tree: paths relative to the root; values are 'dir', 'file' or a symlink target.
function fakeFs(root: string, tree: Record<string, string>): ResolveFs {
  const rel = (p: string): string => (p === root ? '' : p.slice(root.length + 1));
  return {
    async kind(p): Promise<NodeKind> {
      assert.ok(p === root || p.startsWith(`${root}/`), `resolution looked outside the root: ${p}`);
      const v = tree[rel(p)];
      if (v === undefined) return 'missing';
      return v === 'dir' ? 'dir' : v === 'file' ? 'other' : 'symlink';
    },
    async readlink(p) {
      const v = tree[rel(p)];
      assert.ok(v !== undefined && v !== 'dir' && v !== 'file');
      return v;
    },
  };
}

test('resolveInRoot follows symlinks only inside the root', async () => {
  const root = '/r';
  const fs = fakeFs(root, {
    etc: 'dir',
    'etc/passwd': 'file',
    usr: 'dir',
    'usr/lib': 'dir',
    abs: '/etc', // absolute: restarts at the root
    up: '../../..', // climbs: stops at the root
    rel: 'usr/lib',
    chain: 'abs',
    'usr/lib/back': '../../etc',
    outside: '/tmp/outside-dir', // nothing there inside the root
    loop1: 'loop2',
    loop2: 'loop1',
    self: 'self/x',
  });
  const cases: Array<[string, string]> = [
    ['', '/r'],
    ['etc', '/r/etc'],
    ['abs', '/r/etc'],
    ['abs/passwd', '/r/etc/passwd'],
    ['up', '/r'],
    ['up/x', '/r/x'],
    ['up/../../x', '/r/x'],
    ['rel/x', '/r/usr/lib/x'],
    ['chain/passwd', '/r/etc/passwd'],
    ['usr/lib/back/passwd', '/r/etc/passwd'],
    ['outside', '/r/tmp/outside-dir'],
    ['outside/file', '/r/tmp/outside-dir/file'],
    ['missing/../abs', '/r/etc'], // `..` back above a missing dir resolves symlinks again
    ['missing/a/b', '/r/missing/a/b'],
  ];
  for (const [input, want] of cases) assert.equal(await resolveInRoot(root, input, fs), want, input);
});

test('resolveInRoot rejects loops and files used as directories', async () => {
  const fs = fakeFs('/r', { loop1: 'loop2', loop2: 'loop1', self: 'self/x', f: 'file', lf: 'f' });
  for (const bad of ['loop1', 'loop1/x', 'self', 'f/x', 'lf/x']) {
    await assert.rejects(resolveInRoot('/r', bad, fs), (err: unknown) => err instanceof BerthError, bad);
  }
  // A file as the last component is fine: the caller decides what to do with it.
  assert.equal(await resolveInRoot('/r', 'lf', fs), '/r/f');
});
