import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { planLoad } from '../../src/image/archive-load.js';
import { LayerTars } from '../../src/image/archive-layer-tars.js';
import { readArchive } from '../../src/image/archive-reader.js';
import { planSave, resolveSaveNames, writeSaveArchive, type SaveImageSource, type SaveLayerSource } from '../../src/image/archive-save.js';
import { chainIds, digestHex, sha256Digest, topChainId } from '../../src/image/digest.js';
import type { StoredImage } from '../../src/image/image-store.js';
import { familiarString, parseNormalizedNamed, type NamedRef } from '../../src/image/reference.js';
import type { ImageConfig } from '../../src/image/types.js';
import type { LayerInfo } from '../../src/storage/types.js';
import { makeTar } from './image-archive-tar.js';

function storedImage(config: ImageConfig, parent = ''): StoredImage {
  const raw = Buffer.from(JSON.stringify(config));
  return { id: sha256Digest(raw), config, raw, parent, lastUpdated: '', topChainId: topChainId(config.rootfs.diff_ids ?? []), createdNs: 0n };
}

class FakeStore implements SaveImageSource {
  readonly images = new Map<string, StoredImage>();
  readonly tagged: Array<{ ref: NamedRef; id: string }> = [];
  add(img: StoredImage, ...tags: string[]): StoredImage {
    this.images.set(img.id, img);
    for (const t of tags) this.tagged.push({ ref: parseNormalizedNamed(t), id: img.id });
    return img;
  }
  get(id: string): StoredImage | undefined {
    return this.images.get(id);
  }
  search(term: string): string | 'ambiguous' | undefined {
    const hex = term.replace(/^sha256:/, '');
    const found = [...this.images.keys()].filter((id) => id.startsWith(`sha256:${hex}`));
    return found.length > 1 ? 'ambiguous' : found[0];
  }
  refs = {
    get: (ref: NamedRef): string | undefined => this.tagged.find((t) => familiarString(t.ref) === familiarString(ref.tag || ref.digest ? ref : { ...ref, tag: 'latest' }))?.id,
    all: (): Array<{ ref: NamedRef; id: string }> => this.tagged,
  };
}

const cfg = (author: string, diffIds: string[] = ['sha256:' + 'a'.repeat(64)]): ImageConfig => ({ author, os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: diffIds } });
const names = (list: Array<{ img: StoredImage; tags: NamedRef[] }>) => list.map((e) => [e.img.config.author, e.tags.map(familiarString)]);

test('resolveSaveNames: moby parseNames rules', () => {
  const s = new FakeStore();
  const a = s.add(storedImage(cfg('a')), 'app:1', 'app:2', 'other:x');
  const b = s.add(storedImage(cfg('b')), 'app:latest');
  const c = s.add(storedImage(cfg('c')));
  // A name alone: every tag of the repository, sorted; each image once.
  assert.deepEqual(names(resolveSaveNames(['app'], s)), [
    ['a', ['app:1', 'app:2']],
    ['b', ['app:latest']],
  ]);
  assert.deepEqual(names(resolveSaveNames(['app:2'], s)), [['a', ['app:2']]]);
  assert.deepEqual(names(resolveSaveNames(['app:2', 'other:x', 'app:2'], s)), [['a', ['app:2', 'other:x']]]);
  // IDs, full or short, with or without sha256: — no tags.
  assert.deepEqual(names(resolveSaveNames([c.id], s)), [['c', []]]);
  assert.deepEqual(names(resolveSaveNames([digestHex(c.id)], s)), [['c', []]]);
  assert.deepEqual(names(resolveSaveNames([digestHex(b.id).slice(0, 12)], s)), [['b', []]]);
  assert.deepEqual(names(resolveSaveNames([`sha256:${digestHex(a.id).slice(0, 10)}`], s)), [['a', []]]);
  const bad: Array<[string, RegExp]> = [
    ['app:3', /: reference does not exist$/],
    ['nothing', /: No such image: nothing$/],
    [`sha256:${'0'.repeat(64)}`, /No such image: sha256:0{64}/],
    ['UPPER', /must be lowercase/],
  ];
  for (const [n, re] of bad) assert.throws(() => resolveSaveNames([n], s), re, n);
});

class FakeLayers implements SaveLayerSource {
  readonly layers = new Map<string, LayerInfo>();
  constructor(readonly tars: LayerTars) {}
  async get(id: string): Promise<LayerInfo | null> {
    return this.layers.get(id) ?? null;
  }
  async layerDiffDirs(): Promise<string[]> {
    throw new Error('not here');
  }
}

test('writeSaveArchive: both dialects, one copy of a shared layer, loadable', async () => {
  const root = await mkdtemp(join(tmpdir(), 'archive-save-'));
  try {
    const tars = new LayerTars(root);
    await tars.init();
    const layers = new FakeLayers(tars);
    const l1 = await makeTar([{ name: 'bin/sh', body: 'sh' }]);
    const l2 = await makeTar([{ name: 'etc/motd', body: 'hello' }]);
    const d1 = sha256Digest(l1);
    const d2 = sha256Digest(l2);
    for (const [tarBytes, d] of [[l1, d1], [l2, d2]] as const) {
      await tars.content.put(tarBytes);
      await tars.mark(d);
    }
    const [c1, c12] = [chainIds([d1]), chainIds([d1, d2])];
    for (const c of [...c1, ...c12]) layers.layers.set(c, { chainId: c, diffId: '', parent: null, cacheId: '', size: 0 });
    const s = new FakeStore();
    const base = s.add(storedImage({ ...cfg('base', [d1]), created: '2020-01-02T03:04:05Z' }), 'base:1');
    const child = s.add(storedImage(cfg('child', [d1, d2]), base.id));
    assert.equal(child.parent, base.id);

    await assert.rejects(planSave([s.add(storedImage(cfg('empty', []))).id], s, layers), /empty export - not implemented/);

    const plan = await planSave(['base:1', child.id], s, layers);
    const saved: string[] = [];
    const out = writeSaveArchive(plan, layers, (img) => saved.push(img.id));
    const chunks: Buffer[] = [];
    for await (const c of out) chunks.push(c as Buffer);
    const archive = Buffer.concat(chunks);
    assert.deepEqual(saved, [base.id, child.id]);

    // What is in it.
    const entries = new Map<string, { type: string; linkname?: string | null; body: Buffer; mtime?: Date }>();
    const ex = tar.extract();
    Readable.from([archive]).pipe(ex);
    for await (const e of ex) {
      const parts: Buffer[] = [];
      for await (const c of e) parts.push(c as Buffer);
      entries.set(e.header.name, { type: e.header.type ?? '', linkname: e.header.linkname, body: Buffer.concat(parts), mtime: e.header.mtime });
    }
    const layerBlobs = [...entries.keys()].filter((n) => n === `blobs/sha256/${digestHex(d1)}` || n === `blobs/sha256/${digestHex(d2)}`);
    assert.equal(layerBlobs.length, 2, 'each layer tar once');
    assert.ok(entries.get(`blobs/sha256/${digestHex(d1)}`)!.body.equals(l1));
    const manifest = JSON.parse(entries.get('manifest.json')!.body.toString()) as Array<{ Config: string; RepoTags: string[] | null; Layers: string[]; Parent?: string }>;
    assert.equal(manifest.length, 2);
    assert.deepEqual(manifest[0]!.RepoTags, ['base:1']);
    assert.equal(manifest[1]!.RepoTags, null);
    assert.equal(manifest[1]!.Parent, base.id);
    assert.equal(manifest[0]!.Config, `${digestHex(base.id)}.json`);
    // The base's top layer carries its config, the child's lower one an empty one: two v1
    // directories, linking to one blob.
    assert.notEqual(manifest[1]!.Layers[0], manifest[0]!.Layers[0]);
    assert.equal(entries.get(manifest[1]!.Layers[0]!)!.linkname, entries.get(manifest[0]!.Layers[0]!)!.linkname);
    for (const l of manifest[1]!.Layers) {
      const link = entries.get(l)!;
      assert.equal(link.type, 'symlink');
      assert.match(link.linkname ?? '', /^\.\.\/blobs\/sha256\/[a-f0-9]{64}$/);
      assert.equal(entries.get(l.replace('layer.tar', 'VERSION'))!.body.toString(), '1.0');
    }
    assert.equal(entries.get('repositories')!.body.toString(), `{"base":{"1":"${manifest[0]!.Layers[0]!.split('/')[0]}"}}\n`);
    assert.equal(entries.get('oci-layout')!.body.toString(), '{"imageLayoutVersion":"1.0.0"}');
    const index = JSON.parse(entries.get('index.json')!.body.toString()) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    assert.deepEqual(index.manifests[0]!.annotations, { 'io.containerd.image.name': 'docker.io/library/base:1', 'org.opencontainers.image.ref.name': '1' });
    assert.equal(index.manifests[1]!.annotations, undefined);
    assert.equal(entries.get(`${digestHex(base.id)}.json`)!.mtime?.toISOString(), '2020-01-02T03:04:05.000Z');

    // Both readings of it load: as docker-archive, and as an OCI layout alone.
    const spool = join(root, 'spool');
    await (await import('node:fs/promises')).mkdir(spool);
    const asDocker = await planLoad(await readArchive(Readable.from([archive]), { spoolDir: spool }));
    assert.deepEqual(asDocker.map((p) => sha256Digest(p.config)), [base.id, child.id]);
    assert.deepEqual(asDocker.map((p) => p.tags.map(familiarString)), [['base:1'], []]);
    const ociOnly = await makeTar(
      [...entries].filter(([n]) => n === 'index.json' || n === 'oci-layout' || n.startsWith('blobs/')).map(([name, e]) => ({ name, body: e.body, type: e.type as 'file' | 'directory' })),
    );
    const asOci = await planLoad(await readArchive(Readable.from([ociOnly]), { spoolDir: spool }));
    assert.deepEqual(asOci.map((p) => sha256Digest(p.config)), [base.id, child.id]);
    assert.deepEqual(asOci[1]!.layers.map((l) => l.diffId), [d1, d2]);

    // Saved twice, the same bytes.
    const again: Buffer[] = [];
    for await (const c of writeSaveArchive(await planSave(['base:1', child.id], s, layers), layers, () => {})) again.push(c as Buffer);
    assert.ok(Buffer.concat(again).equals(archive));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
