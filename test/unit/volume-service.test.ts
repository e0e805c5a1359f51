import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, rm, stat, writeFile, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EventBus } from '../../src/daemon/events.js';
import { VolumeService } from '../../src/volume/volume-service.js';
import { ContainerMounts, type StoredMountPoint } from '../../src/volume/container-mounts.js';
import { boolFilter, pruneFilters, volumeMatches } from '../../src/volume/volume-filters.js';
import { validateVolumeName } from '../../src/volume/volume-names.js';
import { deviceMount, validateLocalOptions } from '../../src/volume/local-options.js';
import { maskPassword, parseMountOptions } from '../../src/volume/device-mount.js';
import { ANONYMOUS_LABEL } from '../../src/volume/types.js';
import { inspectMounts } from '../../src/volume/mount-view.js';
import { notFound } from '../../src/util/errors.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp('/tmp/berth-vol-unit-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('volume names: two or more of [a-zA-Z0-9_.-], not starting with a symbol', () => {
  validateVolumeName('ab');
  validateVolumeName('my_vol.1-x');
  assert.throws(() => validateVolumeName('a'), /volume name is too short, names should be at least two alphanumeric characters/);
  for (const bad of ['../x', 'a/b', '.hidden', '-x', 'a b', '']) {
    assert.throws(() => validateVolumeName(bad), /includes invalid characters for a local volume name, only "\[a-zA-Z0-9\]\[a-zA-Z0-9_.-\]" are allowed/, bad);
  }
});

test('local driver options: type, device, o, with the pairs they need', () => {
  validateLocalOptions(null);
  validateLocalOptions({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
  assert.throws(() => validateLocalOptions({ foo: 'x' }), /invalid option: "foo"/);
  assert.throws(() => validateLocalOptions({ type: 'tmpfs' }), /missing required option: "device"/);
  assert.throws(() => validateLocalOptions({ device: '/dev/sda' }), /missing required option: "type"/);
  assert.throws(() => validateLocalOptions({ size: '1G' }), /quota size requested but no quota support/);
  assert.deepEqual(deviceMount({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' }), { type: 'tmpfs', device: 'tmpfs', options: ['size=1m', 'uid=1000'] });
  assert.equal(deviceMount({}), null);
  assert.equal(deviceMount(null), null);
});

test('a local volume\'s own mount: o= split into mount flags and filesystem data, as moby does', () => {
  assert.deepEqual(parseMountOptions(['size=10m', 'uid=1000']), { flags: 0, data: 'size=10m,uid=1000' });
  assert.deepEqual(parseMountOptions(['bind', 'ro']), { flags: 0x1000 | 0x1, data: '' });
  assert.deepEqual(parseMountOptions(['rbind', 'rslave']), { flags: 0x1000 | 0x4000 | (1 << 19), data: '' });
  assert.deepEqual(parseMountOptions(['noexec', 'nosuid', 'nodev', 'noatime', 'mode=700']), { flags: 0x8 | 0x2 | 0x4 | 0x400, data: 'mode=700' });
  // Later words undo earlier ones; "defaults" is nothing.
  assert.deepEqual(parseMountOptions(['ro', 'rw', 'defaults', 'noexec', 'exec']), { flags: 0, data: '' });
  assert.deepEqual(parseMountOptions(['addr=10.0.0.1', 'rw', 'nfsvers=4']), { flags: 0, data: 'addr=10.0.0.1,nfsvers=4' });
  assert.equal(maskPassword('mount //h/s:/v, data: username=u,password=p:w,x: permission denied', ['username=u', 'password=p:w']), 'mount //h/s:/v, data: username=u,password=********,x: permission denied');
  assert.equal(maskPassword('no secret', ['size=1m']), 'no secret');
});

test('list filters: name (regexp or exact), label, label!, driver, dangling', () => {
  const v = { name: 'web-data', driver: 'local', labels: { app: 'web', tier: '' }, referenced: false };
  const cases: Array<[Record<string, string[]>, boolean]> = [
    [{}, true],
    [{ name: ['web'] }, true],
    [{ name: ['^data'] }, false],
    [{ name: ['web-data'] }, true],
    [{ label: ['app'] }, true],
    [{ label: ['app=web'] }, true],
    [{ label: ['app=db'] }, false],
    [{ label: ['app', 'tier'] }, true],
    [{ 'label!': ['app'] }, false],
    [{ driver: ['local'] }, true],
    [{ driver: ['nfs'] }, false],
    [{ dangling: ['true'] }, true],
    [{ dangling: ['0'] }, false],
  ];
  for (const [f, want] of cases) assert.equal(volumeMatches(v, f), want, JSON.stringify(f));
  assert.throws(() => boolFilter({ dangling: ['maybe'] }, 'dangling'), /invalid filter 'dangling=maybe'/);
  assert.throws(() => boolFilter({ dangling: ['true', 'false'] }, 'dangling'), /invalid filter 'dangling=true,false'/);
});

test('prune filters: anonymous only unless all=true', () => {
  assert.deepEqual(pruneFilters({}, ANONYMOUS_LABEL), { label: [ANONYMOUS_LABEL] });
  assert.deepEqual(pruneFilters({ all: ['true'] }, ANONYMOUS_LABEL), {});
  assert.deepEqual(pruneFilters({ all: ['0'], label: ['a'] }, ANONYMOUS_LABEL), { label: ['a', ANONYMOUS_LABEL] });
  assert.throws(() => pruneFilters({ all: ['1', '0'] }, ANONYMOUS_LABEL), /only one value is expected/);
  assert.throws(() => pruneFilters({ all: ['yes'] }, ANONYMOUS_LABEL), /invalid filter 'all'/);
});

test('volume service: create, get, list, in-use refusal, remove, prune', async (t) => {
  const root = await tempDir(t);
  const events = new EventBus();
  const seen: string[] = [];
  events.subscribe((e) => seen.push(`${e.Type} ${e.Action}`));
  const svc = new VolumeService({ root, events });
  await svc.init();
  const a = await svc.create('data1', { labels: { k: 'v' } });
  assert.equal(a.Mountpoint, join(root, 'data1', '_data'));
  assert.equal((await stat(a.Mountpoint)).isDirectory(), true);
  assert.deepEqual(a.Labels, { k: 'v' });
  assert.equal(a.Options, null);
  assert.match(a.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // Same name again: the existing volume.
  assert.equal((await svc.create('data1', { labels: { other: '1' } })).CreatedAt, a.CreatedAt);
  const anon = await svc.create('', { ref: 'c1' });
  assert.match(anon.Name, /^[0-9a-f]{64}$/);
  assert.deepEqual(anon.Labels, { [ANONYMOUS_LABEL]: '' });
  assert.throws(() => svc.get('nosuch'), /get nosuch: no such volume/);
  await assert.rejects(svc.create('x', { driver: 'nfs-plugin' }), /plugin "nfs-plugin" not found/);
  await assert.rejects(svc.create('bad/name'), (err: Error & { kind?: string }) => err.kind === 'InvalidParameter' && /^create bad\/name: "bad\/name" includes invalid characters/.test(err.message));
  await assert.rejects(svc.create('a'), /^BerthError: create a: volume name is too short/);
  await assert.rejects(svc.create('okname', { options: { bogus: '1' } }), /^BerthError: create okname: invalid option: "bogus"$/);

  assert.deepEqual(svc.list({ dangling: ['true'] }).map((v) => v.Name), ['data1']);
  assert.throws(() => svc.list({ bogus: ['1'] }), /invalid filter 'bogus'/);
  svc.addRef('data1', 'c2');
  await assert.rejects(svc.remove('data1'), (err: Error & { kind?: string }) => err.kind === 'Conflict' && /^remove data1: volume is in use - \[c2\]$/.test(err.message));
  await assert.rejects(svc.remove('nosuch'), /get nosuch: no such volume/);
  await svc.remove('nosuch', { force: true });

  // Prune: anonymous and unused only, unless all=true; volumes with options never.
  await svc.create('opts1', { options: { type: 'tmpfs', device: 'tmpfs' } });
  await writeFile(join(svc.dataPath(anon.Name), 'f'), 'hello');
  let r = await svc.prune();
  assert.deepEqual(r.VolumesDeleted, []);
  svc.releaseRef(anon.Name, 'c1');
  r = await svc.prune();
  assert.deepEqual(r.VolumesDeleted, [anon.Name]);
  assert.equal(r.SpaceReclaimed, 5);
  svc.releaseRef('data1', 'c2');
  r = await svc.prune({ all: ['true'] });
  assert.deepEqual(r.VolumesDeleted, ['data1']);
  assert.deepEqual((await readdir(root)).sort(), ['opts1']);
  assert.ok(seen.includes('volume create') && seen.includes('volume destroy') && seen.includes('volume prune'));

  // A restart reads the volumes back; a directory a crash left without metadata goes.
  await mkdir(join(root, 'halfmade', '_data'), { recursive: true });
  const again = new VolumeService({ root, events });
  await again.init();
  assert.deepEqual(again.list().map((v) => v.Name), ['opts1']);
  assert.deepEqual((await readdir(root)).sort(), ['opts1']);
});

test('labels and options come back with sorted keys, as dockerd\'s Go maps give them', async (t) => {
  const root = await tempDir(t);
  const svc = new VolumeService({ root: join(root, 'volumes'), events: new EventBus() });
  await svc.init();
  const v = await svc.create('sorted', { labels: { zz: '1', aa: '2' }, options: { type: 'tmpfs', o: 'size=1m', device: 'tmpfs' } });
  assert.deepEqual(Object.keys(v.Labels!), ['aa', 'zz']);
  assert.deepEqual(Object.keys(v.Options!), ['device', 'o', 'type']);
  // A volume without its own filesystem is bound from _data as it is: nothing to mount.
  assert.equal(await svc.activate('sorted-not', 'c1').catch((e: Error) => e.message), 'get sorted-not: no such volume');
  await svc.create('plain');
  assert.equal(await svc.activate('plain', 'c1'), svc.dataPath('plain'));
  await svc.deactivate('plain', 'c1');
});

test('container mounts: binds, named and anonymous volumes, copy-up, volumes-from, duplicates', async (t) => {
  const root = await tempDir(t);
  const svc = new VolumeService({ root: join(root, 'volumes'), events: new EventBus() });
  await svc.init();
  const mounts = new ContainerMounts(svc, new EventBus());
  // A rootfs with content at /app and an escape attempt at /evil -> /etc.
  const rootfs = join(root, 'rootfs');
  await mkdir(join(rootfs, 'app', 'sub'), { recursive: true });
  await writeFile(join(rootfs, 'app', 'sub', 'f.txt'), 'image content');
  await writeFile(join(rootfs, 'notadir'), 'x');
  await symlink('/etc', join(rootfs, 'evil'));
  let mounted = 0;
  const ctx = (id: string, others: Record<string, StoredMountPoint[]> = {}) => ({
    containerId: id,
    mountPointsOf: (ref: string) => {
      const m = others[ref];
      if (!m) throw notFound(`No such container: ${ref}`);
      return m;
    },
    withRootfs: async <T>(fn: (r: string) => Promise<T>): Promise<T> => {
      mounted++;
      return fn(rootfs);
    },
  });
  const req = (over: Partial<Parameters<ContainerMounts['prepare']>[0]>) => ({ binds: null, mounts: null, tmpfs: null, volumesFrom: null, volumeDriver: '', anonymous: [], ...over });

  const points = await mounts.prepare(req({ binds: ['/srv/x:/x:ro', 'named:/app'], anonymous: ['/data', '/app'] }), ctx('c1'));
  assert.equal(mounted, 1);
  assert.deepEqual(inspectMounts(points).map((m) => [m.Type, m.Destination, m.Mode, m.RW]), [
    ['volume', '/app', 'z', true],
    ['volume', '/data', '', true],
    ['bind', '/x', 'ro', false],
  ]);
  // The named volume got the image's /app; the anonymous one is marked for rm -v.
  assert.equal(await readFile(join(svc.dataPath('named'), 'sub', 'f.txt'), 'utf8'), 'image content');
  assert.equal(points.find((p) => p.Destination === '/data')!.Anonymous, true);
  assert.deepEqual(svc.references('named'), ['c1']);

  // Copy-up follows symlinks only inside the rootfs: /evil is /etc of the rootfs (absent).
  const evil = await mounts.prepare(req({ binds: ['ev:/evil'] }), ctx('c2'));
  assert.deepEqual(await readdir(svc.dataPath('ev')), []);
  await mounts.release('c2', evil, true);

  // --volumes-from with :ro: the same volumes, read-only.
  const from = await mounts.prepare(req({ volumesFrom: ['c1:ro'] }), ctx('c3', { c1: points }));
  assert.deepEqual(from.map((p) => [p.Destination, p.RW]), [['/app', false], ['/data', false], ['/x', false]]);
  assert.deepEqual(svc.references('named').sort(), ['c1', 'c3']);

  await assert.rejects(mounts.prepare(req({ volumesFrom: ['nosuch'] }), ctx('c4')), (e: Error & { kind?: string }) => e.kind === 'InvalidParameter' && /No such container: nosuch/.test(e.message));
  await assert.rejects(mounts.prepare(req({ binds: ['/a:/x', '/b:/x'] }), ctx('c4')), /Duplicate mount point: \/x/);
  await assert.rejects(mounts.prepare(req({ binds: ['/a:/t'], tmpfs: { '/t': '' } }), ctx('c4')), /Duplicate mount point: \/t/);
  await assert.rejects(mounts.prepare(req({ mounts: [{ Type: 'bind', Source: join(root, 'nope'), Target: '/x' }] }), ctx('c4')), new RegExp(`bind source path does not exist: ${join(root, 'nope')}`));
  // A failed prepare leaves no volume it made behind.
  const before = svc.list().length;
  await assert.rejects(mounts.prepare(req({ binds: ['fresh:/f'], anonymous: ['/notadir'] }), ctx('c4')), /cannot mount volume over existing file/);
  assert.equal(svc.list().length, before);

  // Spec mounts: binds rbind+rro, volumes from _data, tmpfs with Docker's defaults.
  const spec = await mounts.specMounts('c1', points, { '/run': 'size=1m' });
  assert.deepEqual(spec.find((m) => m.destination === '/x'), { destination: '/x', type: 'bind', source: '/srv/x', options: ['rbind', 'rro', 'rprivate'] });
  assert.deepEqual(spec.find((m) => m.destination === '/app'), { destination: '/app', type: 'bind', source: svc.dataPath('named'), options: ['rbind'] });
  assert.deepEqual(spec.find((m) => m.destination === '/run'), { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m'] });

  // rm -v: anonymous volumes go once nobody uses them; named ones stay.
  const anonName = points.find((p) => p.Destination === '/data')!.Name;
  await mounts.release('c1', points, true);
  assert.ok(svc.has(anonName), 'still used by c3');
  await mounts.release('c3', from, true);
  assert.ok(!svc.has(anonName));
  assert.ok(svc.has('named'));
  assert.deepEqual(svc.references('named'), []);
});
