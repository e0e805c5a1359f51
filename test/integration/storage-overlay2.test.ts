import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Overlay2Store } from '../../src/storage/overlay2.js';
import { chainId } from '../../src/storage/chain-id.js';
import { lgetxattr } from '../../src/storage/syscalls.js';
import { BerthError } from '../../src/util/errors.js';
import { dir, file, listTree, makeTar, mountsUnder, streamOf, symlinkEntry, tempDir } from './storage-fixtures.js';
import type { TarEntry } from './storage-fixtures.js';

const roots: string[] = [];

async function newStore(t: Parameters<typeof tempDir>[0]): Promise<{ store: Overlay2Store; root: string }> {
  const root = await tempDir(t, 'berth-overlay2-');
  roots.push(root);
  const store = new Overlay2Store(root);
  await store.init();
  return { store, root };
}

after(async () => {
  for (const root of roots) assert.deepEqual(await mountsUnder(root), [], `mounts left under ${root}`);
});

const sha = (buf: Buffer): string => `sha256:${createHash('sha256').update(buf).digest('hex')}`;

async function layer(entries: TarEntry[]): Promise<{ tar: Buffer; diffId: string }> {
  const tar = await makeTar(entries);
  return { tar, diffId: sha(tar) };
}

const kind = (k: BerthError['kind']) => (err: unknown) => err instanceof BerthError && err.kind === k;

test('register extracts once and writes Docker-shaped metadata', async (t) => {
  const { store, root } = await newStore(t);
  const base = await layer([dir('etc'), file('etc/os-release', 'ID=test\n'), file('bin/tool', 'x'.repeat(1000), { mode: 0o755 })]);
  const top = await layer([file('etc/motd', 'hi\n')]);

  const l0 = await store.register(streamOf(base.tar), null);
  assert.equal(l0.diffId, base.diffId);
  assert.equal(l0.chainId, base.diffId);
  assert.equal(l0.parent, null);
  assert.equal(l0.size, 1000 + 8, 'size counts file bytes as Docker does');
  assert.match(l0.cacheId, /^[0-9a-f]{64}$/);

  const l1 = await store.register(streamOf(await gz(top.tar)), l0.chainId);
  assert.equal(l1.diffId, top.diffId);
  assert.equal(l1.chainId, chainId(l0.chainId, top.diffId));
  assert.equal(l1.parent, l0.chainId);

  const meta = `${root}/layerdb/sha256/${l1.chainId.slice(7)}`;
  assert.deepEqual((await readdir(meta)).sort(), ['cache-id', 'diff', 'parent', 'size']);
  assert.equal(await readFile(`${meta}/diff`, 'utf8'), top.diffId);
  assert.equal(await readFile(`${meta}/parent`, 'utf8'), l0.chainId);
  assert.equal(await readFile(`${meta}/cache-id`, 'utf8'), l1.cacheId);
  assert.equal(await readFile(`${meta}/size`, 'utf8'), '3');
  assert.ok(!(await readdir(`${root}/layerdb/sha256/${l0.chainId.slice(7)}`)).includes('parent'));

  const link0 = await readFile(`${root}/overlay2/${l0.cacheId}/link`, 'utf8');
  const link1 = await readFile(`${root}/overlay2/${l1.cacheId}/link`, 'utf8');
  assert.match(link0, /^[A-Z2-7]{26}$/);
  assert.equal(await readlink(`${root}/overlay2/l/${link0}`), `../${l0.cacheId}/diff`);
  assert.equal(await readFile(`${root}/overlay2/${l1.cacheId}/lower`, 'utf8'), `l/${link0}`);
  assert.ok((await stat(`${root}/overlay2/${l1.cacheId}/work`)).isDirectory());
  assert.equal(await readFile(`${root}/overlay2/${l0.cacheId}/diff/etc/os-release`, 'utf8'), 'ID=test\n');

  assert.deepEqual(await store.graphDriver(l1.chainId), {
    LowerDir: `${root}/overlay2/${l0.cacheId}/diff`,
    MergedDir: `${root}/overlay2/${l1.cacheId}/merged`,
    UpperDir: `${root}/overlay2/${l1.cacheId}/diff`,
    WorkDir: `${root}/overlay2/${l1.cacheId}/work`,
  });
  assert.equal((await store.graphDriver(l0.chainId)).LowerDir, undefined);
  assert.ok(link1);

  // Again: same layer, nothing new on disk.
  const before = await readdir(`${root}/overlay2`);
  const again = await store.register(streamOf(base.tar), null);
  assert.deepEqual(again, l0);
  // With the diff id known the archive is not even parsed (garbage would fail extraction).
  const known = await store.register(Readable.from([Buffer.from('garbage')]), null, base.diffId);
  assert.deepEqual(known, l0);
  assert.deepEqual((await readdir(`${root}/overlay2`)).sort(), before.sort());

  // A fresh store reads the same from disk.
  const reread = new Overlay2Store(root);
  await reread.init();
  assert.deepEqual(await reread.get(l1.chainId), l1);
  assert.deepEqual((await reread.list()).map((l) => l.chainId).sort(), [l0.chainId, l1.chainId].sort());
  assert.equal(await reread.get('sha256:' + '0'.repeat(64)), null);
  assert.equal(await reread.get('nonsense'), null);
});

async function gz(buf: Buffer): Promise<Buffer> {
  const { gzipSync } = await import('node:zlib');
  return gzipSync(buf);
}

test('register fails cleanly: bad parent, digest mismatch, broken tar', async (t) => {
  const { store, root } = await newStore(t);
  const l = await layer([file('a', 'x')]);
  await assert.rejects(store.register(streamOf(l.tar), 'sha256:' + '1'.repeat(64)), kind('NotFound'));
  await assert.rejects(store.register(streamOf(l.tar), null, 'sha256:' + '2'.repeat(64)), /digest mismatch/);
  await assert.rejects(store.register(streamOf(await makeTar([file('../evil')])), null), kind('InvalidParameter'));
  await assert.rejects(store.register(Readable.from([l.tar.subarray(0, 600)]), null), /Unexpected end of data/);
  assert.deepEqual(await readdir(`${root}/overlay2`), ['l']);
  assert.deepEqual(await readdir(`${root}/overlay2/l`), []);
  assert.deepEqual(await readdir(`${root}/layerdb/sha256`), []);
  assert.deepEqual(await store.list(), []);
});

test('concurrent registrations of one layer share one extraction', async (t) => {
  const { store, root } = await newStore(t);
  const l = await layer([file('a', 'x'.repeat(100_000))]);
  const [a, b, c] = await Promise.all([
    store.register(streamOf(l.tar), null, l.diffId),
    store.register(streamOf(l.tar), null, l.diffId),
    store.register(streamOf(l.tar), null),
  ]);
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  assert.deepEqual((await readdir(`${root}/overlay2`)).sort(), [a.cacheId, 'l'].sort());
  assert.equal((await readdir(`${root}/overlay2/l`)).length, 1);
});

test('whiteouts and opaque dirs hide lower content in a mounted stack', async (t) => {
  const { store, root } = await newStore(t);
  const lower = await store.register(
    streamOf(await makeTar([file('a', 'A'), file('b', 'B'), dir('d'), file('d/x', 'X'), file('d/y', 'Y'), dir('o'), file('o/p', 'P'), dir('o/sub'), file('o/sub/deep')])),
    null,
  );
  const upper = await store.register(
    streamOf(await makeTar([file('.wh.a'), file('d/.wh.x'), dir('o'), file('o/.wh..wh..opq'), file('o/q', 'Q'), file('new', 'N')])),
    lower.chainId,
  );
  const upperDiff = `${root}/overlay2/${upper.cacheId}/diff`;
  const wh = await lstat(`${upperDiff}/a`);
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0);
  assert.equal(lgetxattr(`${upperDiff}/o`, 'trusted.overlay.opaque')?.toString(), 'y');

  await store.createRw('c1', upper.chainId);
  const merged = await store.mountRw('c1');
  t.after(() => store.removeRw('c1'));
  const tree = (await listTree(merged)).filter((p) => !/^(dev|proc|sys|etc)\/|^\.dockerenv$/.test(p));
  assert.deepEqual(tree, ['b', 'd/', 'd/y', 'new', 'o/', 'o/q']);
  assert.equal(await readFile(`${merged}/b`, 'utf8'), 'B');
  assert.equal(await readFile(`${merged}/o/q`, 'utf8'), 'Q');

  // Writes land in the container's upper dir, and nowhere else.
  await writeFile(`${merged}/written`, 'w'.repeat(4096));
  await writeFile(`${merged}/b`, 'changed');
  const rw = await store.rwGraphDriver('c1');
  assert.equal(await readFile(`${rw.UpperDir}/written`, 'utf8'), 'w'.repeat(4096));
  assert.equal(await readFile(`${root}/overlay2/${lower.cacheId}/diff/b`, 'utf8'), 'B');
  assert.equal(await store.rwSize('c1'), 4096 + 'changed'.length);
});

test('createRw builds the init layer; mount, unmount and remove are idempotent', async (t) => {
  const { store, root } = await newStore(t);
  const img = await store.register(
    streamOf(
      await makeTar([
        dir('etc', { mode: 0o750, uid: 5, gid: 6, mtime: new Date('2000-01-01T00:00:00Z') }),
        file('etc/hostname', 'from-image'),
        symlinkEntry('etc/mtab', '../proc/self/mounts'),
        file('bin/true'),
      ]),
    ),
    null,
  );
  await store.createRw('ctr', img.chainId);
  await assert.rejects(store.createRw('ctr', img.chainId), kind('Conflict'));
  await assert.rejects(store.createRw('other', 'sha256:' + '3'.repeat(64)), kind('NotFound'));
  await assert.rejects(store.createRw('../x', null), kind('InvalidParameter'));
  await assert.rejects(store.mountRw('nope'), kind('NotFound'));

  const init = `${root}/overlay2/ctr-init/diff`;
  // The image's own /etc/hostname and /etc/mtab are not shadowed; the rest is Docker's list.
  assert.deepEqual(await listTree(init), [
    '.dockerenv',
    'dev/',
    'dev/console',
    'dev/pts/',
    'dev/shm/',
    'etc/',
    'etc/hosts',
    'etc/resolv.conf',
    'proc/',
    'sys/',
  ]);
  const etc = await lstat(`${init}/etc`);
  assert.equal(etc.mode & 0o7777, 0o750, 'copied-up dir keeps the image mode');
  assert.deepEqual([etc.uid, etc.gid], [5, 6]);
  assert.equal(etc.mtime.toISOString(), '2000-01-01T00:00:00.000Z');
  assert.equal((await lstat(`${init}/etc/hosts`)).size, 0);

  const gd = await store.rwGraphDriver('ctr');
  assert.deepEqual(gd, {
    LowerDir: `${root}/overlay2/ctr-init/diff:${root}/overlay2/${img.cacheId}/diff`,
    MergedDir: `${root}/overlay2/ctr/merged`,
    UpperDir: `${root}/overlay2/ctr/diff`,
    WorkDir: `${root}/overlay2/ctr/work`,
  });
  assert.deepEqual((await readdir(`${root}/layerdb/mounts/ctr`)).sort(), ['init-id', 'mount-id', 'parent']);
  assert.equal(await readFile(`${root}/layerdb/mounts/ctr/parent`, 'utf8'), img.chainId);

  const merged = await store.mountRw('ctr');
  t.after(() => store.removeRw('ctr'));
  assert.equal(merged, gd.MergedDir);
  assert.equal(await store.mountRw('ctr'), merged);
  assert.deepEqual(await mountsUnder(`${root}/overlay2/ctr`), [merged], 'mounted exactly once');
  assert.equal(await readFile(`${merged}/etc/hostname`, 'utf8'), 'from-image');
  assert.equal(await readlink(`${merged}/etc/mtab`), '../proc/self/mounts');
  assert.ok((await stat(`${merged}/bin/true`)).isFile());
  assert.ok((await stat(`${merged}/dev/pts`)).isDirectory());

  await store.unmountRw('ctr');
  assert.deepEqual(await mountsUnder(root), []);
  await store.unmountRw('ctr');
  assert.equal(await store.mountRw('ctr'), merged, 'mounts again after an unmount');

  const links = await readdir(`${root}/overlay2/l`);
  assert.equal(links.length, 3);
  await store.removeRw('ctr');
  assert.deepEqual(await mountsUnder(root), []);
  assert.deepEqual((await readdir(`${root}/overlay2`)).sort(), [img.cacheId, 'l'].sort());
  assert.equal((await readdir(`${root}/overlay2/l`)).length, 1);
  assert.deepEqual(await readdir(`${root}/layerdb/mounts`), []);
  await store.removeRw('ctr');
  await assert.rejects(store.rwGraphDriver('ctr'), kind('NotFound'));
});

test('init layer leaves a symlinked /etc alone; scratch containers work', async (t) => {
  const { store, root } = await newStore(t);
  const img = await store.register(streamOf(await makeTar([dir('private/etc'), symlinkEntry('etc', 'private/etc'), symlinkEntry('dev', '/private/dev')])), null);
  await store.createRw('linked', img.chainId);
  t.after(() => store.removeRw('linked'));
  assert.deepEqual(await listTree(`${root}/overlay2/linked-init/diff`), ['.dockerenv', 'proc/', 'sys/']);

  await store.createRw('scratch', null);
  t.after(() => store.removeRw('scratch'));
  assert.equal((await store.rwGraphDriver('scratch')).LowerDir, `${root}/overlay2/scratch-init/diff`);
  const merged = await store.mountRw('scratch');
  assert.equal(await readlink(`${merged}/etc/mtab`), '/proc/mounts');
  await store.removeRw('scratch');
  assert.deepEqual(await mountsUnder(root), []);
});

test('removeUnreferenced keeps kept layers, their ancestors and container parents', async (t) => {
  const { store, root } = await newStore(t);
  const a = await store.register(streamOf(await makeTar([file('a')])), null);
  const b = await store.register(streamOf(await makeTar([file('b')])), a.chainId);
  const c = await store.register(streamOf(await makeTar([file('c')])), a.chainId);
  const c2 = await store.register(streamOf(await makeTar([file('c2')])), c.chainId);
  const d = await store.register(streamOf(await makeTar([file('d')])), null);
  const e = await store.register(streamOf(await makeTar([file('e')])), null);
  await store.createRw('user-of-e', e.chainId);

  const removed = await store.removeUnreferenced(new Set([b.chainId]));
  assert.deepEqual([...removed].sort(), [c.chainId, c2.chainId, d.chainId].sort());
  assert.ok(removed.indexOf(c2.chainId) < removed.indexOf(c.chainId), 'children go before parents');
  assert.deepEqual((await store.list()).map((l) => l.chainId).sort(), [a.chainId, b.chainId, e.chainId].sort());
  assert.equal(await store.get(c.chainId), null);
  const dirs = (await readdir(`${root}/overlay2`)).sort();
  assert.deepEqual(dirs, [a.cacheId, b.cacheId, e.cacheId, 'l', 'user-of-e', 'user-of-e-init'].sort());
  assert.equal((await readdir(`${root}/overlay2/l`)).length, 5);

  await store.removeRw('user-of-e');
  const rest = await store.removeUnreferenced(new Set());
  assert.deepEqual([...rest].sort(), [a.chainId, b.chainId, e.chainId].sort());
  assert.ok(rest.indexOf(b.chainId) < rest.indexOf(a.chainId), 'children go before parents');
  assert.deepEqual(await readdir(`${root}/overlay2`), ['l']);
  assert.deepEqual(await readdir(`${root}/overlay2/l`), []);
  assert.deepEqual(await readdir(`${root}/layerdb/sha256`), []);
});

test('a deep stack mounts through relative short links when absolute paths do not fit', async (t) => {
  const { store, root } = await newStore(t);
  let parent: string | null = null;
  const depth = 90; // 90 absolute short links (~60 chars each) overflow the 4 KiB mount data
  for (let i = 0; i < depth; i++) {
    const l = await store.register(streamOf(await makeTar([file(`layer-${i}`, String(i)), file('top', String(i))])), parent);
    parent = l.chainId;
  }
  assert.ok(parent);
  await store.createRw('deep', parent);
  t.after(() => store.removeRw('deep'));
  const cwd = process.cwd();
  const merged = await store.mountRw('deep');
  assert.equal(process.cwd(), cwd);
  const [m] = (await import('../../src/storage/mounts.js')).parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((x) => x.mountPoint === merged);
  assert.ok(m, 'mounted');
  assert.match(m.superOptions, /lowerdir=l\/[A-Z2-7]{26}:/, 'relative lower paths were used');
  assert.equal(await readFile(`${merged}/layer-0`, 'utf8'), '0');
  assert.equal(await readFile(`${merged}/top`, 'utf8'), String(depth - 1));
  assert.equal((await readdir(merged)).filter((n) => n.startsWith('layer-')).length, depth);
  await store.removeRw('deep');
  assert.deepEqual(await mountsUnder(root), []);
});

test('init() removes what an interrupted daemon left, and only that', async (t) => {
  const { store, root } = await newStore(t);
  const kept = await store.register(streamOf(await makeTar([file('kept', 'k')])), null);
  await store.createRw('live', kept.chainId);
  const merged = await store.mountRw('live');
  t.after(() => store.removeRw('live'));
  // Debris of every interrupted step: extraction dir, metadata being written, a layer dir
  // whose metadata never came, its link, a dangling link, a half-created container layer.
  await mkdir(`${root}/overlay2/.tmp-0123456789abcdef/diff`, { recursive: true });
  await mkdir(`${root}/layerdb/sha256/.tmp-feedface`, { recursive: true });
  await mkdir(`${root}/layerdb/mounts/.tmp-feedface`, { recursive: true });
  await mkdir(`${root}/overlay2/${'9'.repeat(64)}/diff`, { recursive: true });
  await symlink(`../${'9'.repeat(64)}/diff`, `${root}/overlay2/l/ORPHANORPHANORPHANORPHAN00`);
  await symlink('../gone/diff', `${root}/overlay2/l/DANGLINGDANGLINGDANGLING00`);
  await mkdir(`${root}/overlay2/half-init/diff`, { recursive: true });

  const fresh = new Overlay2Store(root);
  await fresh.init();
  assert.deepEqual((await readdir(`${root}/overlay2`)).sort(), [kept.cacheId, 'l', 'live', 'live-init'].sort());
  assert.equal((await readdir(`${root}/overlay2/l`)).length, 3);
  assert.deepEqual(await readdir(`${root}/layerdb/sha256`), [kept.chainId.slice(7)]);
  assert.deepEqual(await readdir(`${root}/layerdb/mounts`), ['live']);
  assert.deepEqual(await mountsUnder(root), [merged], 'a running container keeps its mount');
  assert.equal(await readFile(`${merged}/kept`, 'utf8'), 'k');
});

test('a daemon killed mid-extraction leaves no layer that looks complete', async (t) => {
  const root = await tempDir(t, 'berth-overlay2-');
  roots.push(root);
  const big = await makeTar([file('first', 'x'.repeat(100_000)), file('second', 'y')]);
  await writeFile(`${root}/layer.tar`, big);
  // The child extracts from a source that hands over the first half and then stalls, so it
  // is certainly mid-extraction when killed.
  const script = `
    import { Readable } from 'node:stream';
    import { readFileSync } from 'node:fs';
    import { Overlay2Store } from ${JSON.stringify(new URL('../../src/storage/overlay2.ts', import.meta.url).pathname)};
    const tar = readFileSync(${JSON.stringify(`${root}/layer.tar`)});
    const store = new Overlay2Store(${JSON.stringify(root)});
    await store.init();
    async function* src() { yield tar.subarray(0, 60000); await new Promise(() => {}); }
    store.register(Readable.from(src()), null);
    setInterval(() => {}, 1000);
  `;
  await writeFile(`${root}/child.mts`, script);
  const repo = new URL('../..', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', `${root}/child.mts`], { stdio: 'ignore', cwd: repo });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  // Wait for the real condition: part of the first file is on disk in the extraction dir.
  const partial = async (): Promise<boolean> => {
    const names = await readdir(`${root}/overlay2`).catch(() => [] as string[]);
    for (const n of names.filter((x) => x.startsWith('.tmp-'))) {
      const st = await stat(`${root}/overlay2/${n}/diff/first`).catch(() => null);
      if (st && st.size > 0) return true;
    }
    return false;
  };
  const deadline = Date.now() + 30_000;
  while (!(await partial())) {
    assert.ok(child.exitCode === null, 'child exited early');
    assert.ok(Date.now() < deadline, 'extraction never started');
    await new Promise((r) => setTimeout(r, 20)); // poll interval, not a guess at timing
  }
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;

  const store = new Overlay2Store(root);
  await store.init();
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(await readdir(`${root}/overlay2`), ['l']);
  assert.deepEqual(await readdir(`${root}/layerdb/sha256`), []);
  // And the same layer registers whole afterwards.
  const l = await store.register(streamOf(big), null);
  assert.equal(await readFile(`${root}/overlay2/${l.cacheId}/diff/second`, 'utf8'), 'y');
});
