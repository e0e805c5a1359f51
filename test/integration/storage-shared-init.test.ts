import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { Overlay2Store } from '../../src/storage/overlay2.js';
import { isMountedOver } from '../../src/storage/mounts.js';
import { dir, file, listTree, makeTar, mountsUnder, streamOf, tempDir } from './storage-fixtures.js';

// Containers of one image share the init placeholders, built once under the image layer's
// dir; each container still has a Docker-shaped <id>-init whose diff leads there.

test('containers of one image share one init tree; each keeps its own <id>-init', async (t) => {
  const root = await tempDir(t, 'berth-shared-init-');
  const store = new Overlay2Store(root);
  await store.init();
  const img = await store.register(streamOf(await makeTar([dir('etc'), file('etc/passwd', 'root:x:0:0::/root:/bin/sh\n')])), null);
  // Created side by side: the init tree is still built once.
  await Promise.all(['a', 'b', 'c'].map((id) => store.createRw(id, img.chainId)));
  t.after(async () => {
    for (const id of ['a', 'b', 'c']) await store.removeRw(id);
  });

  const shared = `${root}/overlay2/${img.cacheId}/init`;
  assert.deepEqual(await listTree(shared), [
    '.dockerenv', 'dev/', 'dev/console', 'dev/pts/', 'dev/shm/', 'etc/', 'etc/hostname', 'etc/hosts', 'etc/mtab', 'etc/resolv.conf', 'proc/', 'sys/',
  ]);
  for (const id of ['a', 'b', 'c']) {
    assert.equal(await readlink(`${root}/overlay2/${id}-init/diff`), `../${img.cacheId}/init`);
    assert.equal((await store.rwGraphDriver(id)).LowerDir, `${root}/overlay2/${id}-init/diff:${root}/overlay2/${img.cacheId}/diff`);
  }
  assert.deepEqual((await readdir(`${root}/overlay2`)).filter((n) => n.startsWith('.tmp-')), [], 'no build left aside');

  // Mounted, the placeholders are there; writes go to the container's own upper dir only.
  const merged = await store.mountRw('a');
  assert.equal(await isMountedOver(merged), true);
  assert.equal(await isMountedOver(`${root}/overlay2/b/merged`), false);
  assert.equal((await lstat(`${merged}/etc/hosts`)).size, 0);
  assert.equal(await readFile(`${merged}/etc/passwd`, 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  await writeFile(`${merged}/etc/hosts`, 'mine\n');
  assert.equal((await lstat(`${shared}/etc/hosts`)).size, 0, 'the shared tree is never written');
  assert.deepEqual(await store.rwChanges('a'), [{ Path: '/etc', Kind: 0 }, { Path: '/etc/hosts', Kind: 0 }], 'a Modify against the placeholder below (and its directory, as dockerd 20.10 lists it)');
  await store.unmountRw('a');
  assert.equal(await isMountedOver(merged), false);
  assert.deepEqual(await mountsUnder(root), []);

  // Removing a container leaves the shared tree to the others.
  await store.removeRw('a');
  assert.ok((await lstat(shared)).isDirectory());
  assert.equal((await lstat(`${root}/overlay2/b-init/diff`)).isSymbolicLink(), true);
});

test('the shared init tree goes with its image layer, and comes back after init()', async (t) => {
  const root = await tempDir(t, 'berth-shared-init-');
  const store = new Overlay2Store(root);
  await store.init();
  const img = await store.register(streamOf(await makeTar([file('x', 'x')])), null);
  await store.createRw('one', img.chainId);
  await store.removeRw('one');

  // A restarted store finds the tree already built and stacks on it.
  const again = new Overlay2Store(root);
  await again.init();
  await again.createRw('two', img.chainId);
  const merged = await again.mountRw('two');
  assert.ok((await lstat(`${merged}/proc`)).isDirectory());
  await again.removeRw('two');

  assert.deepEqual(await again.removeUnreferenced(new Set()), [img.chainId]);
  assert.deepEqual(await readdir(`${root}/overlay2`), ['l']);
  assert.deepEqual(await readdir(`${root}/overlay2/l`), []);
  assert.deepEqual(await mountsUnder(root), []);
});
