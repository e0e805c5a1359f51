import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { EventBus, type EngineEvent } from '../../src/daemon/events.js';
import { chainIds } from '../../src/image/digest.js';
import { ImageService } from '../../src/image/image-service.js';
import { toNodeReadable } from '../../src/image/tree-tar.js';
import type { DeleteItem, ImageConfig } from '../../src/image/types.js';
import { BerthError } from '../../src/util/errors.js';
import { FakeLayerStore } from './fake-layer-store.js';

interface Harness {
  svc: ImageService;
  layers: FakeLayerStore;
  events: EngineEvent[];
  containers: Array<{ id: string; image: string; running: boolean; chain: string | null }>;
  root: string;
}

async function harness(t: { after: (fn: () => Promise<void>) => void }, root?: string): Promise<Harness> {
  const dir = root ?? (await mkdtemp(join(tmpdir(), 'berth-imgsvc-')));
  if (!root) t.after(() => rm(dir, { recursive: true, force: true }));
  const layers = new FakeLayerStore();
  const bus = new EventBus();
  const events: EngineEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const containers: Harness['containers'] = [];
  const svc = new ImageService({
    dataRoot: dir,
    layers,
    events: bus,
    containersUsing: async (id) => containers.filter((c) => c.image === id).map((c) => ({ id: c.id, running: c.running })),
    layersInUse: async () => new Set(containers.map((c) => c.chain).filter((c): c is string => !!c)),
  });
  await svc.init();
  return { svc, layers, events, containers, root: dir };
}

function tarOf(files: Record<string, string>): Readable {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mtime: new Date(0), mode: 0o644 }, body);
  pack.finalize();
  return toNodeReadable(pack);
}

async function tarBytes(files: Record<string, string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarOf(files)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function conflictOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => assert.fail('expected a conflict'),
    (err: unknown) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.equal(err.kind, 'Conflict', err.message);
      return err.message;
    },
  );
}

const short = (id: string): string => id.slice(7, 19);
const cid = (n: number): string => String(n).repeat(64).slice(0, 64);

// A base image plus a child built on it (two layers, one empty history step between).
async function parentAndChild(h: Harness, childTag?: string): Promise<{ base: string; child: string; baseChain: string; childChain: string }> {
  const baseLayer = await h.layers.register(tarOf({ 'etc/base': 'base' }), null);
  const baseConfig: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['sh'] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:base in /' }],
    rootfs: { type: 'layers', diff_ids: [baseLayer.diffId] },
  };
  const base = await h.svc.createImage(baseConfig);
  const childLayer = await h.layers.register(tarOf({ 'app/bin': 'child' }), baseLayer.chainId);
  const childConfig: ImageConfig = {
    ...baseConfig,
    created: '2024-01-02T00:00:00.123456789Z',
    config: { Cmd: ['app'], Env: ['A=1'], Labels: { tier: 'web' } },
    history: [
      ...baseConfig.history!,
      { created: '2024-01-02T00:00:00Z', created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
      { created: '2024-01-02T00:00:00.123456789Z', created_by: '/bin/sh -c make install', comment: 'built' },
    ],
    rootfs: { type: 'layers', diff_ids: [baseLayer.diffId, childLayer.diffId] },
  };
  const child = await h.svc.createImage(childConfig, { parent: base, tags: childTag ? [childTag] : [] });
  return { base, child, baseChain: baseLayer.chainId, childChain: childLayer.chainId };
}

test('import: changes, tag, inspect shape, history, events', async (t) => {
  const h = await harness(t);
  const id = await h.svc.importImage(tarOf({ 'hello.txt': 'hi' }), {
    repo: 'app',
    tag: 'v1',
    changes: ['CMD ["/hello"]', 'ENV A=1', 'EXPOSE 80', 'WORKDIR /srv', 'LABEL k=v'],
  });
  assert.match(id, /^sha256:[0-9a-f]{64}$/);
  assert.deepEqual(
    h.events.map((e) => [e.Type, e.Action, e.Actor.ID, e.Actor.Attributes.name]),
    [
      ['image', 'tag', id, 'app:v1'],
      ['image', 'import', id, id],
    ],
  );
  assert.equal(h.events[0].Actor.Attributes.k, 'v', 'image labels ride along on events');

  const ins = await h.svc.inspect('app:v1');
  const [layer] = await h.layers.list();
  assert.deepEqual(Object.keys(ins), [
    'Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Container', 'ContainerConfig', 'DockerVersion',
    'Author', 'Config', 'Architecture', 'Os', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata',
  ]);
  assert.equal(ins.Id, id);
  assert.deepEqual(ins.RepoTags, ['app:v1']);
  assert.deepEqual(ins.RepoDigests, []);
  assert.equal(ins.Parent, '');
  assert.equal(ins.Comment, 'Imported from -');
  assert.match(ins.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  assert.deepEqual(ins.Config, {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false, Env: ['A=1'], Cmd: ['/hello'],
    Image: '', Volumes: null, WorkingDir: '/srv', Entrypoint: null, OnBuild: null, Labels: { k: 'v' },
  });
  assert.deepEqual(ins.ContainerConfig, {
    Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
    Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '',
    Entrypoint: null, OnBuild: null, Labels: null,
  });
  assert.equal(ins.Os, 'linux');
  assert.equal(ins.Size, layer.size);
  assert.equal(ins.VirtualSize, layer.size);
  assert.deepEqual(ins.RootFS, { Type: 'layers', Layers: [layer.diffId] });
  assert.deepEqual(ins.GraphDriver, { Name: 'overlay2', Data: await h.layers.graphDriver(layer.chainId) });
  assert.notEqual(ins.Metadata.LastTagTime, '0001-01-01T00:00:00Z');

  const hist = await h.svc.history(id.slice(7, 19));
  assert.equal(hist.length, 1);
  assert.deepEqual(Object.keys(hist[0]), ['Id', 'Created', 'CreatedBy', 'Tags', 'Size', 'Comment']);
  assert.deepEqual({ ...hist[0], Created: 0 }, { Id: id, Created: 0, CreatedBy: '', Tags: ['app:v1'], Size: layer.size, Comment: 'Imported from -' });
  assert.ok(Math.abs(hist[0].Created - Date.now() / 1000) < 60);

  assert.deepEqual(await h.svc.resolveForRun('app:v1'), { id, config: (await h.svc.store.resolve(id)).config.config, topChainId: layer.chainId });
});

test('import: gzip gives the same image as plain; bad input fails before any layer is stored', async (t) => {
  const h = await harness(t);
  const plain = await tarBytes({ a: '1' });
  const { Readable } = await import('node:stream');
  const id1 = await h.svc.importImage(Readable.from([plain]), { message: 'same' });
  const layersAfterFirst = (await h.layers.list()).map((l) => l.chainId);
  await h.svc.importImage(Readable.from([gzipSync(plain)]), { message: 'same' });
  assert.deepEqual((await h.layers.list()).map((l) => l.chainId), layersAfterFirst);
  assert.equal((await h.svc.inspect(id1)).Comment, 'same');

  const before = h.layers.registered;
  await assert.rejects(h.svc.importImage(tarOf({ b: '2' }), { changes: ['RUN rm -rf /'] }), { message: 'run is not a valid change command' });
  await assert.rejects(h.svc.importImage(tarOf({ b: '2' }), { repo: 'Bad' }), {
    message: 'invalid reference format: repository name (library/Bad) must be lowercase',
  });
  await assert.rejects(h.svc.importImage(tarOf({ b: '2' }), { repo: `x@sha256:${'a'.repeat(64)}` }), { message: 'cannot import digest reference' });
  await assert.rejects(h.svc.importImage(tarOf({ b: '2' }), { repo: 'x', tag: '-bad' }), { message: 'invalid tag format' });
  assert.equal(h.layers.registered, before);
  const withSource = await h.svc.importImage(tarOf({ c: '3' }), { source: 'http://example.invalid/rootfs.tar' });
  assert.equal((await h.svc.inspect(withSource)).Comment, 'Imported from http://example.invalid/rootfs.tar');
});

test('tag: by ID prefix, familiar names, errors', async (t) => {
  const h = await harness(t);
  const id = await h.svc.importImage(tarOf({ f: 'x' }), {});
  h.events.length = 0;
  await h.svc.tag(id.slice(7, 15), '127.0.0.1:5000/busybox');
  await h.svc.tag(id, 'busybox', 'v2');
  assert.deepEqual((await h.svc.inspect(id)).RepoTags, ['127.0.0.1:5000/busybox:latest', 'busybox:v2']);
  assert.deepEqual(h.events.map((e) => [e.Action, e.Actor.Attributes.name]), [['tag', '127.0.0.1:5000/busybox'], ['tag', 'busybox:v2']]);
  await assert.rejects(h.svc.tag('nosuch', 'x'), { message: 'No such image: nosuch:latest' });
  await assert.rejects(h.svc.tag(id, 'x', '-v'), { message: 'invalid tag format' });
  await assert.rejects(h.svc.tag(id, 'X'), { message: 'invalid reference format: repository name (library/X) must be lowercase' });
  await assert.rejects(h.svc.tag(id, id.slice(7)), { message: `invalid repository name (${id.slice(7)}), cannot specify 64-byte hexadecimal strings` });
  // Re-tagging moves the tag (the API always forces).
  const other = await h.svc.importImage(tarOf({ g: 'y' }), {});
  await h.svc.tag(other, 'busybox', 'v2');
  assert.equal((await h.svc.resolveForRun('busybox:v2')).id, other);
});

test('rmi by name only untags while other tags remain', async (t) => {
  // Names that are not hex: like dockerd, a name that is also a prefix of the image ID counts as an ID.
  const h = await harness(t);
  const id = await h.svc.importImage(tarOf({ f: 'x' }), { repo: 'first' });
  await h.svc.tag(id, 'second');
  h.events.length = 0;
  assert.deepEqual(await h.svc.remove('first'), [{ Untagged: 'first:latest' }]);
  assert.deepEqual(h.events.map((e) => [e.Action, e.Actor.ID]), [['untag', id]]);
  assert.deepEqual((await h.svc.inspect(id)).RepoTags, ['second:latest']);
  const [layer] = await h.layers.list();
  assert.deepEqual(await h.svc.remove('second:latest'), [{ Untagged: 'second:latest' }, { Deleted: id }, { Deleted: layer.chainId }]);
  assert.deepEqual(await h.layers.list(), []);
  await assert.rejects(h.svc.remove('second'), { message: 'No such image: second:latest' });
  await assert.rejects(h.svc.inspect(id), { message: `No such image: ${id}` });
});

test('rmi by ID: several repositories need -f', async (t) => {
  const h = await harness(t);
  const id = await h.svc.importImage(tarOf({ f: 'x' }), { repo: 'one' });
  await h.svc.tag(id, 'two', 'x');
  assert.equal(await conflictOf(h.svc.remove(id.slice(7, 19))), `conflict: unable to delete ${short(id)} (must be forced) - image is referenced in multiple repositories`);
  const [layer] = await h.layers.list();
  h.events.length = 0;
  assert.deepEqual(await h.svc.remove(id.slice(7, 19), { force: true }), [
    { Untagged: 'one:latest' },
    { Untagged: 'two:x' },
    { Deleted: id },
    { Deleted: layer.chainId },
  ]);
  assert.deepEqual(h.events.map((e) => e.Action), ['untag', 'untag', 'delete']);

  // One repository, one tag plus its digest: no force needed.
  const id2 = await h.svc.importImage(tarOf({ g: 'y' }), { repo: 'solo' });
  const digest = `sha256:${'c'.repeat(64)}`;
  const { parseNormalizedNamed } = await import('../../src/image/reference.js');
  await h.svc.store.refs.addDigest(parseNormalizedNamed(`solo@${digest}`), id2, false);
  const res = await h.svc.remove(id2);
  assert.deepEqual(res.slice(0, 3), [{ Untagged: 'solo:latest' }, { Untagged: `solo@${digest}` }, { Deleted: id2 }]);
});

test('rmi of the last tag takes the repository’s digests along', async (t) => {
  const h = await harness(t);
  const id = await h.svc.importImage(tarOf({ f: 'x' }), { repo: 'x' });
  await h.svc.tag(id, 'other');
  const digest = `sha256:${'d'.repeat(64)}`;
  const { parseNormalizedNamed } = await import('../../src/image/reference.js');
  await h.svc.store.refs.addDigest(parseNormalizedNamed(`x@${digest}`), id, false);
  assert.deepEqual(await h.svc.remove('x'), [{ Untagged: 'x:latest' }, { Untagged: `x@${digest}` }]);
  assert.deepEqual((await h.svc.inspect(id)).RepoDigests, []);
});

test('rmi with containers: stopped needs -f, running cannot be forced', async (t) => {
  const h = await harness(t);
  const id = await h.svc.importImage(tarOf({ f: 'x' }), { repo: 'app', tag: 'v1' });
  const [layer] = await h.layers.list();
  h.containers.push({ id: cid(1), image: id, running: false, chain: layer.chainId });

  assert.equal(
    await conflictOf(h.svc.remove('app:v1')),
    `conflict: unable to remove repository reference "app:v1" (must force) - container ${cid(1).slice(0, 12)} is using its referenced image ${short(id)}`,
  );
  assert.equal(
    await conflictOf(h.svc.remove(id)),
    `conflict: unable to delete ${short(id)} (must be forced) - image is being used by stopped container ${cid(1).slice(0, 12)}`,
  );

  h.containers[0].running = true;
  assert.equal(
    await conflictOf(h.svc.remove(id, { force: true })),
    `conflict: unable to delete ${short(id)} (cannot be forced) - image is being used by running container ${cid(1).slice(0, 12)}`,
  );
  // Forcing by name untags; the image stays because a running container holds it.
  assert.deepEqual(await h.svc.remove('app:v1', { force: true }), [{ Untagged: 'app:v1' }]);
  assert.ok(await h.svc.inspect(id));

  h.containers[0].running = false;
  // The container's rw layer sits on the image's layer: GC keeps it.
  assert.deepEqual(await h.svc.remove(id, { force: true }), [{ Deleted: id }]);
  assert.equal((await h.layers.list()).length, 1);
  // Once the container is gone, prune frees the layer it was holding.
  h.containers.length = 0;
  assert.deepEqual(await h.svc.prune(), { ImagesDeleted: [{ Deleted: layer.chainId }], SpaceReclaimed: layer.size });
  assert.deepEqual(await h.layers.list(), []);
});

test('rmi and parents: children block, untagged parents are pruned unless noprune', async (t) => {
  const h = await harness(t);
  const { base, child, baseChain, childChain } = await parentAndChild(h, 'app:v1');
  assert.equal(
    await conflictOf(h.svc.remove(base, { force: true })),
    `conflict: unable to delete ${short(base)} (cannot be forced) - image has dependent child images`,
  );
  assert.deepEqual(await h.svc.remove('app:v1'), [
    { Untagged: 'app:v1' },
    { Deleted: child },
    { Deleted: childChain },
    { Deleted: base },
    { Deleted: baseChain },
  ]);

  const again = await parentAndChild(h, 'app:v2');
  assert.deepEqual(await h.svc.remove('app:v2', { noprune: true }), [
    { Untagged: 'app:v2' },
    { Deleted: again.child },
    { Deleted: again.childChain },
  ]);
  assert.ok(await h.svc.inspect(again.base));

  // A tagged parent is kept quietly.
  const third = await parentAndChild(h, 'app:v3');
  await h.svc.tag(third.base, 'base');
  const res: DeleteItem[] = await h.svc.remove('app:v3');
  assert.deepEqual(res, [{ Untagged: 'app:v3' }, { Deleted: third.child }, { Deleted: third.childChain }]);
  assert.deepEqual((await h.svc.inspect('base')).Id, third.base);
});

test('list: dangling, -a, reference, label, before/since, API shapes', async (t) => {
  const h = await harness(t);
  const { base, child } = await parentAndChild(h, 'busybox:1.36');
  const dangling = await h.svc.importImage(tarOf({ d: 'd' }), {});
  const web = await h.svc.importImage(tarOf({ w: 'w' }), { repo: 'localhost:5000/web', changes: ['LABEL role=web'] });

  const ids = async (opts: Parameters<ImageService['list']>[0]): Promise<string[]> => (await h.svc.list(opts)).map((i) => i.Id).sort();
  const sorted = (...xs: string[]): string[] => [...xs].sort();

  assert.deepEqual(await ids({}), sorted(child, dangling, web), 'intermediate parent hidden');
  assert.deepEqual(await ids({ all: true }), sorted(base, child, dangling, web));
  assert.deepEqual(await ids({ filters: { dangling: ['true'] } }), [dangling]);
  assert.deepEqual(await ids({ filters: { dangling: ['false'] } }), sorted(child, web));
  assert.deepEqual(await ids({ filters: { reference: ['busy*'] } }), [child]);
  assert.deepEqual(await ids({ filters: { reference: ['busybox:*'] } }), [child]);
  assert.deepEqual(await ids({ filters: { reference: ['busybox:latest'] } }), []);
  assert.deepEqual(await ids({ filters: { reference: ['localhost:5000/*'] } }), [web]);
  assert.deepEqual(await ids({ filters: { label: ['role=web'] } }), [web]);
  assert.deepEqual(await ids({ filters: { label: ['tier'] } }), [child]);
  assert.deepEqual(await ids({ filters: { label: ['role=db'] } }), []);
  assert.deepEqual(await ids({ filters: { before: ['busybox:1.36'] }, all: true }), [base]);
  assert.deepEqual(await ids({ filters: { since: [child.slice(7, 19)] } }), sorted(dangling, web));

  await assert.rejects(h.svc.list({ filters: { foo: ['x'] } }), { message: "Invalid filter 'foo'" });
  await assert.rejects(h.svc.list({ filters: { dangling: ['maybe'] } }), { message: "Invalid filter 'dangling=[maybe]'" });
  await assert.rejects(h.svc.list({ filters: { before: ['nosuch'] } }), { message: 'No such image: nosuch:latest' });
  await assert.rejects(h.svc.list({ filters: { reference: ['[-x]'] } }), { message: 'syntax error in pattern' });

  const old = await h.svc.list({});
  assert.deepEqual(old.map((i) => i.Id), [web, dangling, child], 'newest first');
  const d41 = old.find((i) => i.Id === dangling)!;
  assert.deepEqual(Object.keys(d41), ['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size', 'VirtualSize']);
  assert.deepEqual(d41.RepoTags, ['<none>:<none>']);
  assert.deepEqual(d41.RepoDigests, ['<none>@<none>']);
  assert.equal(d41.Containers, -1);
  assert.equal(d41.SharedSize, -1);
  const c41 = old.find((i) => i.Id === child)!;
  assert.deepEqual([c41.RepoTags, c41.RepoDigests, c41.ParentId, c41.Labels], [['busybox:1.36'], null, base, { tier: 'web' }]);
  assert.equal(c41.Created, Date.UTC(2024, 0, 2) / 1000);

  const d44 = (await h.svc.list({ apiVersion: '1.44' })).find((i) => i.Id === dangling)!;
  assert.deepEqual([d44.RepoTags, d44.RepoDigests, 'VirtualSize' in d44], [[], [], false]);
});

test('image sizes add up the layer chain', async (t) => {
  const h = await harness(t);
  const { child, baseChain, childChain } = await parentAndChild(h);
  const sizes = new Map((await h.layers.list()).map((l) => [l.chainId, l.size]));
  const want = sizes.get(baseChain)! + sizes.get(childChain)!;
  assert.equal((await h.svc.inspect(child)).Size, want);
  assert.equal((await h.svc.list({ all: true })).find((i) => i.Id === child)!.Size, want);
});

test('history: newest first, <missing> below the known parents, empty layers sized 0', async (t) => {
  const h = await harness(t);
  const { base, child, baseChain, childChain } = await parentAndChild(h, 'app:v1');
  const sizes = new Map((await h.layers.list()).map((l) => [l.chainId, l.size]));
  const hist = await h.svc.history('app:v1');
  assert.deepEqual(hist, [
    { Id: child, Created: Date.UTC(2024, 0, 2) / 1000, CreatedBy: '/bin/sh -c make install', Tags: ['app:v1'], Size: sizes.get(childChain), Comment: 'built' },
    { Id: base, Created: Date.UTC(2024, 0, 2) / 1000, CreatedBy: '/bin/sh -c #(nop)  ENV A=1', Tags: null, Size: 0, Comment: '' },
    { Id: '<missing>', Created: Date.UTC(2024, 0, 1) / 1000, CreatedBy: '/bin/sh -c #(nop) ADD file:base in /', Tags: null, Size: sizes.get(baseChain), Comment: '' },
  ]);
  await assert.rejects(h.svc.history('nosuch'), { message: 'No such image: nosuch:latest' });
});

test('inspect: parent, comment from history, Config null when absent', async (t) => {
  const h = await harness(t);
  const { base, child } = await parentAndChild(h);
  const ins = await h.svc.inspect(child);
  assert.equal(ins.Parent, base);
  assert.equal(ins.Comment, 'built');
  assert.equal(ins.Created, '2024-01-02T00:00:00.123456789Z');
  assert.equal(ins.Metadata.LastTagTime, '0001-01-01T00:00:00Z');
  const bare = await h.svc.createImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } });
  const b = await h.svc.inspect(bare);
  assert.equal(b.Config, null);
  assert.deepEqual(b.RootFS, { Type: 'layers' });
  assert.deepEqual(b.GraphDriver, { Name: 'overlay2', Data: null });
  assert.equal(b.Size, 0);
});

test('createImage refuses unregistered layers and unknown parents; keeps given bytes', async (t) => {
  const h = await harness(t);
  await assert.rejects(
    h.svc.createImage({ rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } }),
    { message: `failed to get layer sha256:${'1'.repeat(64)}: layer does not exist` },
  );
  await assert.rejects(h.svc.createImage({ rootfs: { type: 'layers' } }, { parent: `sha256:${'2'.repeat(64)}` }), /No such image/);
  const raw = Buffer.from('{ "rootfs": {"type":"layers"},   "os":"linux" }');
  const id = await h.svc.createImage(raw);
  const { createHash } = await import('node:crypto');
  assert.equal(id, 'sha256:' + createHash('sha256').update(raw).digest('hex'));
});

test('prune: dangling by default, all unused with -a, in-use images kept', async (t) => {
  const h = await harness(t);
  const { child } = await parentAndChild(h, 'app:v1');
  const dangling = await h.svc.importImage(tarOf({ d: 'd' }), {});
  const used = await h.svc.importImage(tarOf({ u: 'u' }), { repo: 'used' });
  const usedChain = chainIds((await h.svc.store.resolve(used)).config.rootfs.diff_ids!)[0];
  h.containers.push({ id: cid(2), image: used, running: false, chain: usedChain });
  const sizes = new Map((await h.layers.list()).map((l) => [l.chainId, l.size]));

  const danglingChain = (await h.svc.inspect(dangling)).RootFS.Layers![0];
  h.events.length = 0;
  const r1 = await h.svc.prune();
  assert.deepEqual(r1.ImagesDeleted, [{ Deleted: dangling }, { Deleted: danglingChain }]);
  assert.equal(r1.SpaceReclaimed, sizes.get(danglingChain));
  assert.deepEqual(h.events.at(-1)!.Actor.Attributes, { reclaimed: String(sizes.get(danglingChain)) });
  assert.deepEqual(await h.svc.prune(), { ImagesDeleted: null, SpaceReclaimed: 0 });

  const r2 = await h.svc.prune({ all: true });
  const deletedIds = (r2.ImagesDeleted ?? []).filter((d): d is { Deleted: string } => 'Deleted' in d).map((d) => d.Deleted);
  assert.ok(deletedIds.includes(child));
  assert.ok(!deletedIds.includes(used), 'image used by a container survives prune -a');
  assert.deepEqual((await h.svc.list({ all: true })).map((i) => i.Id), [used]);
  assert.equal(r2.SpaceReclaimed, [...sizes].filter(([c]) => c !== usedChain && c !== danglingChain).reduce((n, [, s]) => n + s, 0));

  await assert.rejects(h.svc.prune({ filters: { reference: ['x'] } }), { message: "Invalid filter 'reference'" });
  await assert.rejects(h.svc.prune({ filters: { dangling: ['nah'] } }), { message: "Invalid filter 'dangling=[nah]'" });
  await assert.rejects(h.svc.prune({ filters: { until: ['1h', '2h'] } }), { message: 'more than one until filter specified' });
});

test('prune filters: until and label', async (t) => {
  const h = await harness(t);
  const a = await h.svc.importImage(tarOf({ a: 'a' }), { repo: 'keep', changes: ['LABEL keep=yes'] });
  const b = await h.svc.importImage(tarOf({ b: 'b' }), { repo: 'drop' });
  const r = await h.svc.prune({ filters: { dangling: ['false'], 'label!': ['keep'] } });
  assert.ok(r.ImagesDeleted!.some((d) => 'Deleted' in d && d.Deleted === b));
  assert.ok(await h.svc.inspect(a));
  assert.deepEqual(await h.svc.prune({ filters: { dangling: ['false'], until: ['2000-01-01'] } }), { ImagesDeleted: null, SpaceReclaimed: 0 });
});

test('layer GC waits while layers are being registered', async (t) => {
  const h = await harness(t);
  const doomed = await h.svc.importImage(tarOf({ x: 'x' }), { repo: 'doomed' });
  const doomedChain = (await h.svc.inspect(doomed)).RootFS.Layers![0];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const leased = h.svc.withLayerLease(async () => {
    const l = await h.layers.register(tarOf({ fresh: 'layer' }), null);
    await gate;
    return l.chainId;
  });
  // Removing an image while a lease is held frees no layers yet...
  assert.deepEqual(await h.svc.remove('doomed'), [{ Untagged: 'doomed:latest' }, { Deleted: doomed }]);
  assert.ok(await h.layers.get(doomedChain));
  release();
  const fresh = await leased;
  await h.svc.settled();
  // ...and the deferred collection then frees both unreferenced layers.
  assert.equal(await h.layers.get(doomedChain), null);
  assert.equal(await h.layers.get(fresh), null);
});

test('matches: an image and the images built on it', async (t) => {
  const h = await harness(t);
  const { base, child } = await parentAndChild(h, 'app:v1');
  await h.svc.tag(base, 'base');
  assert.equal(await h.svc.matches(child, 'app:v1'), true);
  assert.equal(await h.svc.matches(child, 'base'), true);
  assert.equal(await h.svc.matches(base, 'app:v1'), false);
  assert.equal(await h.svc.matches(child, 'nosuch'), false);
});

test('state is on disk: a new service sees the same images and tags', async (t) => {
  const h = await harness(t);
  const { child } = await parentAndChild(h, 'app:v1');
  const h2 = await harness(t, h.root);
  // The layers live in the (fake) layer store, which a real daemon keeps too.
  for (const l of await h.layers.list()) h2.layers.layers.set(l.chainId, l);
  assert.equal(h2.svc.count(), 2);
  assert.equal((await h2.svc.inspect('app:v1')).Id, child);
  assert.deepEqual((await h2.svc.history('app:v1')).map((x) => x.Id.slice(0, 7)), ['sha256:', 'sha256:', '<missin']);
});
