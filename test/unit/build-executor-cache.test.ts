import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildCacheIndex, CacheProber, findCachedImage, sameStepConfig, type CacheImageStore } from '../../src/build/build-cache.js';
import { SourceHasher } from '../../src/build/source-hash.js';
import { CacheFrom, isValidParent } from '../../src/build/cache-from.js';
import { decodeBuildQuery } from '../../src/api/routes/build.js';
import type { StoredImage } from '../../src/image/image-store.js';
import type { ContainerConfig } from '../../src/image/types.js';

// The legacy builder's cache: what makes two step configs the same (moby image/cache
// compare), which image is the hit, when the rest of a stage misses; source hashes; the
// POST /build query.

const nop = (text: string): ContainerConfig => ({ Env: ['PATH=/bin'], Cmd: ['/bin/sh', '-c', '#(nop) ', text] });

test('same step config: what counts and what does not', () => {
  const base: ContainerConfig = { ...nop('ENV A=1'), Labels: { a: '1' }, ExposedPorts: { '80/tcp': {} }, WorkingDir: '/w', Healthcheck: { Test: ['NONE'] } };
  assert.ok(sameStepConfig(base, { ...base, Image: 'sha256:other', Hostname: 'abc' }), 'Image and Hostname are not compared');
  const differs: Array<[string, ContainerConfig]> = [
    ['Cmd', { ...base, Cmd: [...base.Cmd!, 'x'] }],
    ['Env order', { ...base, Env: ['PATH=/bin', 'X=1'] }],
    ['Labels value', { ...base, Labels: { a: '2' } }],
    ['ExposedPorts', { ...base, ExposedPorts: { '81/tcp': {} } }],
    ['WorkingDir', { ...base, WorkingDir: '/x' }],
    ['User', { ...base, User: 'nobody' }],
    ['Healthcheck', { ...base, Healthcheck: { Test: ['CMD', 'true'] } }],
    ['no Healthcheck', { ...base, Healthcheck: undefined }],
    ['Entrypoint', { ...base, Entrypoint: ['x'] }],
    ['Shell', { ...base, Shell: ['/bin/bash', '-c'] }],
  ];
  for (const [what, other] of differs) assert.equal(sameStepConfig(base, other), false, what);
  assert.ok(sameStepConfig({ Cmd: null, Env: null }, { Cmd: [], Env: [] }), 'null and empty lists are the same, as in Go');
  assert.equal(sameStepConfig(undefined, base), false);
});

function image(id: string, parent: string, containerConfig: ContainerConfig, createdNs: bigint, arch = 'amd64'): StoredImage {
  return {
    id,
    parent,
    config: { architecture: arch, os: 'linux', container_config: containerConfig, rootfs: { type: 'layers' } },
    raw: Buffer.alloc(0),
    lastUpdated: '',
    topChainId: null,
    createdNs,
  };
}

function storeOf(images: StoredImage[]): CacheImageStore {
  return {
    get: (id) => images.find((i) => i.id === id),
    children: (id) => images.filter((i) => i.parent === id).map((i) => i.id),
    all: () => images,
  };
}

test('the hit is the newest child built here with the same step; scratch looks at parentless images', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'build-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const index = new BuildCacheIndex(dir);
  await index.init();
  const step = nop('ENV A=1');
  const images = [
    image('sha256:old', 'sha256:base', step, 1n),
    image('sha256:new', 'sha256:base', step, 2n),
    image('sha256:other', 'sha256:base', nop('ENV A=2'), 3n),
    image('sha256:pulled', 'sha256:base', step, 4n), // not built here
    image('sha256:arm', 'sha256:base', step, 5n, 'arm64'),
    image('sha256:root', '', step, 1n),
  ];
  for (const i of ['sha256:old', 'sha256:new', 'sha256:other', 'sha256:arm', 'sha256:root']) await index.add(i);
  const store = storeOf(images);
  const amd = { os: 'linux', architecture: 'amd64' };
  assert.equal(findCachedImage(store, index, 'sha256:base', step, amd), 'sha256:new');
  assert.equal(findCachedImage(store, index, 'sha256:base', step, { os: 'linux', architecture: 'arm64' }), 'sha256:arm');
  assert.equal(findCachedImage(store, index, 'sha256:base', nop('ENV A=3'), amd), '');
  assert.equal(findCachedImage(store, index, '', step, amd), 'sha256:root');

  // The index survives a restart, and forgets what the image store lost.
  const again = new BuildCacheIndex(dir);
  await again.init();
  assert.ok(again.has('sha256:old'));
  await again.forget((id) => id !== 'sha256:old');
  const third = new BuildCacheIndex(dir);
  await third.init();
  assert.equal(third.has('sha256:old'), false);
  assert.deepEqual(JSON.parse(await readFile(join(dir, 'built-images.json'), 'utf8')).length, 4);
});

test('after a miss the rest of the stage misses; reset starts a stage; no-cache never hits', async () => {
  const answers = ['sha256:1', '', 'sha256:3'];
  const p = new CacheProber(async () => answers.shift() ?? '');
  assert.equal(await p.probe('', {}), 'sha256:1');
  assert.equal(await p.probe('', {}), '');
  assert.equal(await p.probe('', {}), '', 'busted: not even asked');
  p.reset();
  assert.equal(await p.probe('', {}), 'sha256:3');
  assert.equal(await new CacheProber(null).probe('', {}), '');
});

test('source hashes follow content, names and modes, not times', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'build-hash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'd'));
  await writeFile(join(dir, 'd', 'a'), 'one');
  await writeFile(join(dir, 'f'), 'one');
  const first = new SourceHasher();
  const f1 = await first.file(join(dir, 'f'), 'f');
  const d1 = await first.dir(join(dir, 'd'), 'd');
  assert.match(f1, /^file:[0-9a-f]{64}$/);
  assert.match(d1, /^dir:[0-9a-f]{64}$/);
  assert.notEqual(f1, await first.file(join(dir, 'd', 'a'), 'd/a'), 'the name counts');
  await utimes(join(dir, 'f'), new Date(0), new Date(0));
  assert.equal(await new SourceHasher().file(join(dir, 'f'), 'f'), f1, 'mtime does not count');
  await writeFile(join(dir, 'f'), 'two');
  assert.notEqual(await new SourceHasher().file(join(dir, 'f'), 'f'), f1);
  await writeFile(join(dir, 'd', 'b'), '');
  assert.notEqual(await new SourceHasher().dir(join(dir, 'd'), 'd'), d1, 'a new file in a directory');
});

test('POST /build query: defaults, rm and forcerm, JSON parameters and their errors', () => {
  const q = (s: string) => decodeBuildQuery(new URLSearchParams(s));
  const d = q('');
  assert.equal(d.remove, true);
  assert.equal(d.forceRemove, false);
  assert.equal(d.dockerfile, '');
  assert.equal(q('rm=0').remove, false);
  assert.equal(q('rm=0&forcerm=1').remove, true, 'forcerm implies rm');
  const o = q('t=a&t=b:1&buildargs=%7B%22A%22%3A%221%22%2C%22B%22%3Anull%7D&labels=%7B%22l%22%3A%22v%22%7D&memory=1048576&cpushares=512&cpusetcpus=0&shmsize=100&networkmode=host&extrahosts=h:1.2.3.4&cachefrom=%5B%22x%22%5D&target=t&q=1&nocache=1&pull=1&squash=1');
  assert.deepEqual(o.tags, ['a', 'b:1']);
  assert.deepEqual([...o.buildArgs], [['A', '1'], ['B', null]]);
  assert.deepEqual(o.labels, { l: 'v' });
  assert.deepEqual(o.resources, { Memory: 1048576, CpuShares: 512, CpusetCpus: '0' });
  assert.equal(o.shmSize, 100);
  assert.equal(o.networkMode, 'host');
  assert.deepEqual(o.extraHosts, ['h:1.2.3.4']);
  assert.deepEqual(o.cacheFrom, ['x']);
  assert.ok(o.suppressOutput && o.noCache && o.pull && o.squash);
  assert.equal(q('memory=abc').resources.Memory, undefined, 'Int64ValueOrZero');
  assert.throws(() => q('buildargs=nope'), /^BerthError: error reading build args: /);
  assert.throws(() => q('labels=%5B'), /error reading labels/);
  assert.throws(() => q('shmsize=x'), /invalid syntax/);
  assert.throws(() => q('isolation=hyperv'), /unsupported isolation: "hyperv"/);
  assert.throws(() => q('version=2'), /BuildKit is not supported/);
  assert.equal(decodeBuildQuery(new URLSearchParams('platform=linux/amd64'), '1.31').platform, '', 'platform from API 1.32 on');
});

test('--cache-from: a pulled image\'s history stands in for the local cache', async () => {
  const h = (by: string, empty = false) => ({ created: `t-${by}`, created_by: by, ...(empty ? { empty_layer: true } : {}) });
  const base = image('sha256:base', '', {}, 1n);
  base.config.history = [h('base')];
  base.config.rootfs.diff_ids = ['sha256:l0'];
  // What `docker pull` of an image built FROM base with ENV, COPY, CMD brings: no parents.
  const pulled = image('sha256:pulled', '', {}, 2n);
  pulled.config.history = [h('base'), h('/bin/sh -c #(nop)  ENV A=1', true), h('/bin/sh -c #(nop) COPY file:x in / '), h('/bin/sh -c #(nop)  CMD ["sh"]', true)];
  pulled.config.rootfs.diff_ids = ['sha256:l0', 'sha256:l1'];
  pulled.config.author = 'me';
  const images = new Map([base, pulled].map((i) => [i.id, i]));
  const created: Array<{ config: import('../../src/image/types.js').ImageConfig; parent: string }> = [];
  const parents = new Map<string, string>();
  const cf = new CacheFrom(
    {
      get: (id) => images.get(id),
      setParent: async (id, parent) => void parents.set(id, parent),
      createImage: async (config, parent) => {
        created.push({ config, parent });
        const id = `sha256:restored${created.length}`;
        images.set(id, { ...image(id, parent, {}, 3n), config });
        return id;
      },
    },
    [pulled],
  );
  const env = nop('ENV A=1');
  const first = await cf.probe('sha256:base', env, '');
  assert.equal(first, 'sha256:restored1');
  assert.deepEqual(created[0]!.config.rootfs.diff_ids, ['sha256:l0'], 'an empty entry adds no layer');
  assert.deepEqual(created[0]!.config.history?.map((x) => x.created_by), ['base', '/bin/sh -c #(nop)  ENV A=1']);
  assert.deepEqual(created[0]!.config.config?.Cmd, env.Cmd);
  assert.equal(created[0]!.parent, 'sha256:base');
  const copy = await cf.probe(first, { Cmd: ['/bin/sh', '-c', '#(nop) COPY file:x in / '] }, '');
  assert.deepEqual(images.get(copy)!.config.rootfs.diff_ids, ['sha256:l0', 'sha256:l1']);
  assert.equal(await cf.probe(copy, { Cmd: ['/bin/sh', '-c', '#(nop) COPY file:other in / '] }, ''), '', 'another command misses');
  const last = await cf.probe(copy, nop('CMD ["sh"]'), '');
  assert.equal(last, 'sha256:pulled', 'the last entry is the source itself, now a child of the build');
  assert.equal(parents.get('sha256:pulled'), copy);
  // A local hit counts only when it lies under a cache-from source.
  assert.equal(await cf.probe('sha256:base', env, 'sha256:unrelated'), 'sha256:restored3');
  assert.ok(isValidParent(pulled.config, base.config));
  assert.equal(isValidParent(base.config, pulled.config), false);
});
