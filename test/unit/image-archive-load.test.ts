import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { loadImages, validParent, type LoadedImages, type LoadedLayers, type LoadOutput } from '../../src/image/archive-load.js';
import { digestHex, sha256Digest } from '../../src/image/digest.js';
import { goArch } from '../../src/image/platform.js';
import { familiarString, type NamedRef } from '../../src/image/reference.js';
import type { ImageConfig } from '../../src/image/types.js';
import { chainId } from '../../src/storage/chain-id.js';
import type { LayerInfo } from '../../src/storage/types.js';
import { invalid } from '../../src/util/errors.js';
import { makeTar, type TarSpec } from './image-archive-tar.js';

// loadImages over fakes of the image service and the layer store: what is registered, in
// which order, what is said, and what a bad archive leaves (nothing).

async function bytesOf(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

class FakeLayers implements LoadedLayers {
  readonly layers = new Map<string, LayerInfo>();
  readonly registered: string[] = [];
  async get(id: string): Promise<LayerInfo | null> {
    return this.layers.get(id) ?? null;
  }
  async register(tar: Readable, parent: string | null, diffId: string): Promise<LayerInfo> {
    let bytes = await bytesOf(tar);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = (await import('node:zlib')).gunzipSync(bytes);
    const got = sha256Digest(bytes);
    if (got !== diffId) throw invalid(`layer digest mismatch: expected ${diffId}, got ${got}`);
    const info: LayerInfo = { chainId: chainId(parent, diffId), diffId, parent, cacheId: 'c', size: bytes.length };
    this.layers.set(info.chainId, info);
    this.registered.push(diffId);
    return info;
  }
  async registerFile(path: string, _digest: string, parent: string | null, diffId: string, progress?: (n: number) => void): Promise<LayerInfo> {
    const info = await this.register(createReadStream(path), parent, diffId);
    progress?.(info.size);
    return info;
  }
}

class FakeImages implements LoadedImages {
  readonly configs = new Map<string, ImageConfig>();
  readonly tags = new Map<string, string>();
  readonly events: string[] = [];
  readonly parents = new Map<string, string>();
  collected = 0;
  async createImage(config: Uint8Array): Promise<string> {
    const id = sha256Digest(config);
    this.configs.set(id, JSON.parse(Buffer.from(config).toString()) as ImageConfig);
    return id;
  }
  async tagForLoad(ref: NamedRef, id: string): Promise<string | undefined> {
    const k = familiarString(ref);
    const prev = this.tags.get(k);
    this.tags.set(k, id);
    return prev;
  }
  async setParent(id: string, parent: string): Promise<void> {
    this.parents.set(id, parent);
  }
  getConfig(id: string): ImageConfig | undefined {
    return this.configs.get(id);
  }
  async withLayerLease<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
  async collectLayers(): Promise<unknown> {
    this.collected++;
    return [];
  }
  async settled(): Promise<void> {}
  event(action: string, id: string): void {
    this.events.push(`${action} ${id}`);
  }
}

class Output implements LoadOutput {
  text = '';
  readonly progressCalls: Array<[string, string, number, number]> = [];
  stream(t: string): void {
    this.text += t;
  }
  progress(id: string, action: string, current: number, total: number): void {
    this.progressCalls.push([id, action, current, total]);
  }
}

interface Layer {
  tar: Buffer;
  diffId: string;
}

async function layer(files: Record<string, string>): Promise<Layer> {
  const tar = await makeTar(Object.entries(files).map(([name, body]) => ({ name, body })));
  return { tar, diffId: sha256Digest(tar) };
}

function config(layers: Layer[], extra: Partial<ImageConfig> = {}): Buffer {
  return Buffer.from(JSON.stringify({ architecture: goArch(), os: 'linux', ...extra, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
}

// A docker-archive as dockerd 20.10 writes it (layer dirs named by an arbitrary id here).
function dockerArchive(images: Array<{ config: Buffer; layers: Layer[]; tags: string[] | null; parent?: string }>): TarSpec[] {
  const out: TarSpec[] = [];
  const manifest = images.map((img, i) => {
    const cfgName = `${digestHex(sha256Digest(img.config))}.json`;
    out.push({ name: cfgName, body: img.config });
    const layers = img.layers.map((l, j) => {
      const dir = `img${i}layer${j}`;
      out.push({ name: `${dir}/`, type: 'directory' }, { name: `${dir}/VERSION`, body: '1.0' }, { name: `${dir}/layer.tar`, body: l.tar });
      return `${dir}/layer.tar`;
    });
    return { Config: cfgName, RepoTags: img.tags, Layers: layers, ...(img.parent ? { Parent: img.parent } : {}) };
  });
  out.push({ name: 'manifest.json', body: JSON.stringify(manifest) });
  return out;
}

async function run(archive: Buffer, opts: { quiet?: boolean; images?: FakeImages; layers?: FakeLayers } = {}) {
  const tmp = await mkdtemp(join(tmpdir(), 'archive-load-'));
  const images = opts.images ?? new FakeImages();
  const layers = opts.layers ?? new FakeLayers();
  const out = new Output();
  try {
    const done = loadImages(Readable.from([archive]), { images, layers, tmpDir: tmp }, out, { quiet: opts.quiet ?? true });
    let error: unknown = null;
    await done.catch((err: unknown) => (error = err));
    // The spool went, whatever happened.
    assert.deepEqual(await readdir(tmp), []);
    return { images, layers, out, error: error as Error | null, progress: out.progressCalls };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

test('docker-archive: layers in order, config kept byte for byte, tags, events', async () => {
  const base = await layer({ 'bin/sh': 'shell' });
  const top = await layer({ 'etc/motd': 'hi' });
  const cfg = config([base, top], { history: [{ created: '2020-01-01T00:00:00Z' }] });
  const id = sha256Digest(cfg);
  const r = await run(await makeTar(dockerArchive([{ config: cfg, layers: [base, top], tags: ['app:1', 'localhost:5000/app:2'] }])));
  assert.equal(r.error, null);
  assert.deepEqual(r.layers.registered, [base.diffId, top.diffId]);
  assert.ok(r.layers.layers.has(chainId(chainId(null, base.diffId), top.diffId)));
  assert.ok(r.images.configs.has(id));
  assert.equal(r.images.tags.get('app:1'), id);
  assert.equal(r.images.tags.get('localhost:5000/app:2'), id);
  assert.equal(r.out.text, 'Loaded image: app:1\nLoaded image: localhost:5000/app:2\n');
  assert.deepEqual(r.images.events, [`load ${id}`]);
  assert.equal(r.images.collected, 0);
});

test('docker-archive: untagged images are listed by ID; a tag moved says so', async () => {
  const l = await layer({ a: '1' });
  const c1 = config([l], { author: 'one' });
  const c2 = config([l], { author: 'two' });
  const id1 = sha256Digest(c1);
  const id2 = sha256Digest(c2);
  const r = await run(await makeTar(dockerArchive([{ config: c1, layers: [l], tags: null }])));
  assert.equal(r.out.text, `Loaded image ID: ${id1}\n`);
  // dockerd's quirk: the IDs of all images are printed when the last one had no tag.
  const images = new FakeImages();
  images.tags.set('x:1', 'sha256:' + 'f'.repeat(64));
  const q = await run(await makeTar(dockerArchive([{ config: c1, layers: [l], tags: ['x:1'] }, { config: c2, layers: [l], tags: null }])), { images });
  assert.equal(
    q.out.text,
    `The image x:1 already exists, renaming the old one with ID sha256:${'f'.repeat(64)} to empty string\nLoaded image: x:1\nLoaded image ID: ${id1}\nLoaded image ID: ${id2}\n`,
  );
  // The layer both share is registered once.
  assert.deepEqual(q.layers.registered, [l.diffId]);
});

test('docker-archive: gzip-compressed archive, layer.tar symlinked to a blob, parent link', async () => {
  const l = await layer({ a: '1' });
  const l2 = await layer({ b: '2' });
  const parentCfg = config([l], { history: [{ created: '2020-01-01T00:00:00Z' }] });
  const childCfg = config([l, l2], { history: [{ created: '2020-01-01T00:00:00Z' }, { created: '2021-01-01T00:00:00Z' }] });
  const parentId = sha256Digest(parentCfg);
  const childId = sha256Digest(childCfg);
  const entries: TarSpec[] = [
    { name: 'blobs/sha256/', type: 'directory' },
    { name: `blobs/sha256/${digestHex(l.diffId)}`, body: l.tar },
    { name: 'v1a/layer.tar', type: 'symlink', linkname: `../blobs/sha256/${digestHex(l.diffId)}` },
    { name: 'v1b/layer.tar', body: l2.tar },
    { name: 'p.json', body: parentCfg },
    { name: 'c.json', body: childCfg },
    {
      name: 'manifest.json',
      body: JSON.stringify([
        { Config: 'p.json', RepoTags: ['p:1'], Layers: ['v1a/layer.tar'] },
        { Config: 'c.json', RepoTags: ['c:1'], Layers: ['v1a/layer.tar', 'v1b/layer.tar'], Parent: parentId },
      ]),
    },
  ];
  const r = await run(gzipSync(await makeTar(entries)));
  assert.equal(r.error, null, String(r.error));
  assert.equal(r.images.parents.get(childId), parentId);
  assert.equal(r.out.text, 'Loaded image: p:1\nLoaded image: c:1\n');
});

test('progress is reported per layer unless quiet', async () => {
  const l = await layer({ a: 'x'.repeat(3000) });
  const tar = await makeTar(dockerArchive([{ config: config([l]), layers: [l], tags: ['a:1'] }]));
  const loud = await run(tar, { quiet: false });
  const id = digestHex(l.diffId).slice(0, 12);
  assert.ok(loud.progress.length >= 1);
  assert.deepEqual(loud.progress[loud.progress.length - 1], [id, 'Loading layer', l.tar.length, l.tar.length]);
  const quiet = await run(tar, { quiet: true });
  assert.equal(quiet.progress.length, 0);
});

test('OCI layout: nested index picks this platform, gzip layers, name from annotations', async () => {
  const l = await layer({ 'bin/app': 'app' });
  const gz = gzipSync(l.tar);
  const cfg = config([l]);
  const blob = (b: Buffer | string) => ({ digest: sha256Digest(b), size: Buffer.byteLength(b) });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blob(cfg) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob(gz) }],
  });
  const other = 'sha256:' + 'e'.repeat(64); // another platform's manifest: absent, never read
  const nested = JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: other, size: 10, platform: { os: 'linux', architecture: 'some-other-arch' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...blob(manifest), platform: { os: 'linux', architecture: goArch() } },
    ],
  });
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { mediaType: 'application/vnd.oci.image.index.v1+json', ...blob(nested), annotations: { 'io.containerd.image.name': 'docker.io/library/app:oci', 'org.opencontainers.image.ref.name': 'oci' } },
    ],
  });
  const entries: TarSpec[] = [
    { name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', body: index },
    ...[cfg, gz, manifest, nested].map((b) => ({ name: `blobs/sha256/${digestHex(sha256Digest(b))}`, body: b })),
  ];
  const r = await run(await makeTar(entries));
  assert.equal(r.error, null, String(r.error));
  assert.equal(r.out.text, 'Loaded image: app:oci\n');
  assert.equal(r.images.tags.get('app:oci'), sha256Digest(cfg));
  assert.deepEqual(r.layers.registered, [l.diffId]);

  // Only other platforms: refused, nothing made.
  const onlyOther = JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: other, size: 1, platform: { os: 'linux', architecture: 'some-other-arch' } }] });
  const r2 = await run(await makeTar([{ name: 'index.json', body: onlyOther }]));
  assert.match(r2.error?.message ?? '', /no image for platform linux\//);
});

test('bad archives are refused before anything is registered', async () => {
  const l = await layer({ a: '1' });
  const other = await layer({ b: '2' });
  const good = (over: Partial<{ config: Buffer; tags: string[] | null }> = {}) =>
    dockerArchive([{ config: over.config ?? config([l]), layers: [l], tags: over.tags === undefined ? ['a:1'] : over.tags }]);
  const without = (entries: TarSpec[], name: string) => entries.filter((e) => e.name !== name);
  const manifestOf = (entries: TarSpec[]) => entries.find((e) => e.name === 'manifest.json')!;
  const cases: Array<[string, TarSpec[] | Buffer, RegExp]> = [
    ['no manifest', without(good(), 'manifest.json'), /neither manifest.json \(docker-archive\) nor index.json/],
    ['symlinked manifest', [...without(good(), 'manifest.json'), { name: 'real.json', body: String(manifestOf(good()).body) }, { name: 'manifest.json', type: 'symlink', linkname: 'real.json' }], /manifest.json "manifest.json" is a symlink/],
    ['layer outside', [...good().filter((e) => !e.name.endsWith('layer.tar')), { name: 'img0layer0/layer.tar', type: 'symlink', linkname: '../../../../etc/passwd' }], /layer "img0layer0\/layer.tar" points outside the archive/],
    ['layer missing', good().filter((e) => !e.name.endsWith('layer.tar')), /layer "img0layer0\/layer.tar" is not in the archive/],
    ['config missing', good().filter((e) => !e.name.endsWith('.json') || e.name === 'manifest.json'), /config ".*\.json" is not in the archive/],
    ['windows image', good({ config: config([l], { os: 'windows' }) }), /cannot load windows image on linux/],
    ['layer count', good({ config: config([l, other]) }), /layers length mismatch: expected 1, got 2/],
    ['tag without tag', good({ tags: ['busybox'] }), /invalid tag "busybox"/],
    ['xz archive', Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]), /unsupported archive compression: xz/],
    ['escaping entry', [{ name: '../../escape', body: 'x' }, ...good()], /points outside the archive/],
  ];
  for (const [what, entries, re] of cases) {
    const r = await run(Buffer.isBuffer(entries) ? entries : await makeTar(entries));
    assert.match(r.error?.message ?? '(no error)', re, what);
    assert.deepEqual(r.layers.registered, [], what);
    assert.equal(r.images.configs.size, 0, what);
  }
});

test('a layer that does not match its diff ID fails the image and its layers are collected', async () => {
  const l = await layer({ a: '1' });
  const liar = await layer({ a: 'other' });
  const entries = dockerArchive([{ config: config([l]), layers: [liar], tags: ['a:1'] }]);
  const r = await run(await makeTar(entries));
  assert.match(r.error?.message ?? '', /layer digest mismatch/);
  assert.equal(r.images.configs.size, 0);
  assert.equal(r.images.collected, 1);
  assert.equal(r.out.text, '');
});

test('validParent: history of the parent is the child minus one entry', () => {
  const h = (n: number) => Array.from({ length: n }, (_, i) => ({ created: `2020-01-0${i + 1}T00:00:00Z`, created_by: `step ${i}` }));
  const cfg = (n: number): ImageConfig => ({ rootfs: { type: 'layers' }, history: h(n) });
  assert.ok(validParent(cfg(2), cfg(1)));
  assert.ok(validParent({ rootfs: { type: 'layers' } }, { rootfs: { type: 'layers' } }));
  assert.ok(!validParent(cfg(3), cfg(1)));
  assert.ok(!validParent(cfg(2), { rootfs: { type: 'layers' }, history: [{ created: '1999-01-01T00:00:00Z' }] }));
});
