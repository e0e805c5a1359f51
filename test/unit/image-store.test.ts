import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContentStore } from '../../src/image/content-store.js';
import { ImageStore } from '../../src/image/image-store.js';
import { parseNormalizedNamed } from '../../src/image/reference.js';
import { BerthError } from '../../src/util/errors.js';

async function openStore(root: string): Promise<ImageStore> {
  const content = new ContentStore(root);
  await content.init();
  const store = new ImageStore(root, content);
  await store.init();
  return store;
}

async function tempRoot(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

const configBytes = (n: number): Buffer =>
  Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: `2024-01-01T00:00:${String(n % 60).padStart(2, '0')}Z`, comment: `image ${n}`, rootfs: { type: 'layers', diff_ids: [] } }));

function kindAndMessage(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BerthError, String(err));
    return [err.kind, err.message];
  }
  assert.fail('expected an error');
}

test('resolve: IDs, prefixes, names, tags, digests, and Docker’s not-found texts', async (t) => {
  const store = await openStore(await tempRoot(t));
  const imgs = [];
  for (let i = 0; i < 24; i++) imgs.push(await store.create(configBytes(i)));
  const a = imgs[0];
  const hex = a.id.slice(7);

  assert.equal(store.resolve(a.id).id, a.id);
  assert.equal(store.resolve(hex).id, a.id);
  // The shortest prefix that names only this image.
  let n = 1;
  while (store.search(hex.slice(0, n)) === 'ambiguous') n++;
  assert.equal(store.resolve(hex.slice(0, n)).id, a.id);
  assert.equal(store.resolve(`sha256:${hex.slice(0, n)}`).id, a.id);
  assert.equal(store.resolve(hex.slice(0, 12)).id, a.id);

  // 24 images over 16 first hex digits: some one-character prefix is shared.
  const firsts = imgs.map((i) => i.id[7]);
  const shared = firsts.find((c, i) => firsts.indexOf(c) !== i)!;
  assert.equal(store.search(shared), 'ambiguous');
  assert.deepEqual(kindAndMessage(() => store.resolve(shared)), ['NotFound', `No such image: ${shared}:latest`]);

  await store.refs.addTag(parseNormalizedNamed('busybox'), a.id, true);
  await store.refs.addTag(parseNormalizedNamed('127.0.0.1:5000/busybox:v1'), imgs[1].id, true);
  const digest = `sha256:${'e'.repeat(64)}`;
  await store.refs.addDigest(parseNormalizedNamed(`busybox@${digest}`), imgs[2].id, false);

  for (const name of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest']) {
    assert.equal(store.resolve(name).id, a.id, name);
  }
  assert.equal(store.resolve('127.0.0.1:5000/busybox:v1').id, imgs[1].id);
  assert.equal(store.resolve(`busybox@${digest}`).id, imgs[2].id);
  assert.equal(store.resolve(`busybox:whatever@${digest}`).id, imgs[2].id, 'a tag next to a digest is ignored');

  const missingHex = 'f'.repeat(64);
  const cases: Array<[string, string, string]> = [
    ['nosuch', 'NotFound', 'No such image: nosuch:latest'],
    ['busybox:1.0', 'NotFound', 'No such image: busybox:1.0'],
    ['127.0.0.1:5000/busybox', 'NotFound', 'No such image: 127.0.0.1:5000/busybox:latest'],
    ['docker.io/library/nosuch:v2', 'NotFound', 'No such image: nosuch:v2'],
    [missingHex, 'NotFound', `No such image: sha256:${missingHex}`],
    [`sha256:${missingHex}`, 'NotFound', `No such image: sha256:${missingHex}`],
    [`nosuch@sha256:${missingHex}`, 'NotFound', `No such image: nosuch@sha256:${missingHex}`],
    ['NoSuch', 'InvalidParameter', 'invalid reference format: repository name (library/NoSuch) must be lowercase'],
    ['a b', 'InvalidParameter', 'invalid reference format'],
  ];
  for (const [typed, kind, msg] of cases) assert.deepEqual(kindAndMessage(() => store.resolve(typed)), [kind, msg], typed);
});

test('a tag that looks like an ID prefix names the tagged image', async (t) => {
  const store = await openStore(await tempRoot(t));
  const x = await store.create(configBytes(1));
  const y = await store.create(configBytes(2));
  const prefix = y.id.slice(7, 12);
  await store.refs.addTag(parseNormalizedNamed(prefix), x.id, true);
  assert.equal(store.resolve(prefix).id, x.id);
  assert.equal(store.resolve(y.id.slice(7, 13)).id, y.id);
});

test('tags: repositories.json in Docker’s shape, conflicts and refusals', async (t) => {
  const root = await tempRoot(t);
  const store = await openStore(root);
  const a = await store.create(configBytes(1));
  const b = await store.create(configBytes(2));
  await store.refs.addTag(parseNormalizedNamed('busybox'), a.id, true);
  await store.refs.addTag(parseNormalizedNamed('localhost:5000/team/app:v1'), a.id, true);
  const digest = `sha256:${'d'.repeat(64)}`;
  await store.refs.addDigest(parseNormalizedNamed(`busybox@${digest}`), a.id, false);

  const file = JSON.parse(await readFile(join(root, 'image', 'repositories.json'), 'utf8'));
  assert.deepEqual(file, {
    Repositories: {
      busybox: { 'busybox:latest': a.id, [`busybox@${digest}`]: a.id },
      'localhost:5000/team/app': { 'localhost:5000/team/app:v1': a.id },
    },
  });

  await assert.rejects(store.refs.addTag(parseNormalizedNamed('busybox'), b.id, false), {
    message: `Conflict: Tag busybox:latest is already set to image ${a.id}, if you want to replace it, please use the force option`,
  });
  await store.refs.addTag(parseNormalizedNamed('busybox'), b.id, true);
  assert.equal(store.resolve('busybox').id, b.id);
  await assert.rejects(store.refs.addDigest(parseNormalizedNamed(`busybox@${digest}`), b.id, true), {
    message: `Cannot overwrite digest ${digest}`,
  });
  await assert.rejects(store.refs.addTag(parseNormalizedNamed(`busybox@${digest}`), b.id, true), {
    message: 'refusing to create a tag with a digest reference',
  });
  await assert.rejects(store.refs.addTag(parseNormalizedNamed('sha256:abc'), b.id, true), {
    message: 'refusing to create an ambiguous tag using digest algorithm as name',
  });

  // references() sorts by canonical string, as dockerd does.
  assert.deepEqual(
    store.refs.references(a.id).map((r) => `${r.domain}/${r.path}${r.tag ? ':' + r.tag : ''}${r.digest ? '@' + r.digest : ''}`),
    [`docker.io/library/busybox@${digest}`, 'localhost:5000/team/app:v1'],
  );
  assert.equal(await store.refs.delete(parseNormalizedNamed('localhost:5000/team/app:v1')), true);
  assert.equal(await store.refs.delete(parseNormalizedNamed('localhost:5000/team/app:v1')), false);
  const after = JSON.parse(await readFile(join(root, 'image', 'repositories.json'), 'utf8'));
  assert.equal(after.Repositories['localhost:5000/team/app'], undefined, 'an emptied repository disappears');
});

test('state survives a restart: images, parents, tags, lastUpdated', async (t) => {
  const root = await tempRoot(t);
  const store = await openStore(root);
  const base = await store.create(configBytes(1));
  const child = await store.create(configBytes(2), base.id);
  await store.refs.addTag(parseNormalizedNamed('app:v1'), child.id, true);
  await store.setLastUpdated(child.id, '2024-05-01T10:00:00.5Z');
  assert.deepEqual(store.children(base.id), [child.id]);
  assert.deepEqual(store.heads().map((i) => i.id), [child.id]);

  const again = await openStore(root);
  assert.equal(again.all().length, 2);
  const c = again.get(child.id)!;
  assert.equal(c.parent, base.id);
  assert.equal(c.lastUpdated, '2024-05-01T10:00:00.5Z');
  assert.equal(c.raw.toString(), configBytes(2).toString(), 'config bytes kept exactly');
  assert.equal(again.resolve('app:v1').id, child.id);
  assert.deepEqual(again.children(base.id), [child.id]);

  await again.delete(child.id);
  assert.equal(again.get(child.id), undefined);
  assert.deepEqual(again.children(base.id), []);
  const metas = await readdir(join(root, 'image', 'metadata', 'sha256'));
  assert.deepEqual(metas, [base.id.slice(7)]);
  assert.equal(await new ContentStore(root).has(child.id), false, 'config blob removed with the image');
});

test('create is idempotent and rejects configs without rootfs', async (t) => {
  const store = await openStore(await tempRoot(t));
  const a = await store.create(configBytes(5));
  const b = await store.create(configBytes(5));
  assert.equal(a, b);
  await assert.rejects(store.create(Buffer.from('{"architecture":"amd64"}')), { message: 'invalid image JSON, no RootFS key' });
  await assert.rejects(store.create(Buffer.from('not json')), { message: 'invalid image JSON, no RootFS key' });
});
