import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.js';
import { ok, waitFor } from './network-fixtures.js';
import { gzipLayer, putBlob, putManifest, readAll, startProxy, startRegistry, type TestRegistry } from './distribution-fixtures.js';
import { chainIds } from '../../src/image/digest.js';
import { MediaTypes } from '../../src/image/archive-format.js';

// Layers are extracted while they download, side by side, and committed bottom up once
// their blob is verified and their parent committed (pull-service.ts, Overlay2Store.holdCommit).
let d: TestDaemon;
let reg: TestRegistry;
const repo = 'pipeline/three';
let layers: Array<{ digest: string; diffId: string; name: string }> = [];
let topContent = '';

before(async () => {
  d = await TestDaemon.start();
  reg = await startRegistry();
  // The top layer's file is big enough to be written through the thread pool (tar-apply.ts).
  topContent = `top ${randomBytes(1_500_000).toString('base64')}\n`;
  const made = await Promise.all(['bottom', 'middle', 'top'].map((n) => gzipLayer(`pipe-${n}`, n === 'top' ? topContent : `${n} ${'x'.repeat(200_000)}\n`)));
  layers = [];
  for (const [i, l] of made.entries()) {
    layers.push({ digest: await putBlob(reg.host, repo, l.blob), diffId: l.diffId, name: `pipe-${['bottom', 'middle', 'top'][i]}` });
  }
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/pipe-top'] }, rootfs: { type: 'layers', diff_ids: made.map((l) => l.diffId) } }),
  );
  const configDigest = await putBlob(reg.host, repo, config);
  await putManifest(
    reg.host,
    repo,
    'latest',
    {
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: { mediaType: MediaTypes.dockerConfig, digest: configDigest, size: config.length },
      layers: made.map((l, i) => ({ mediaType: MediaTypes.dockerLayerGzip, digest: layers[i]!.digest, size: l.blob.length })),
    },
    MediaTypes.dockerManifest,
  );
});
after(async () => {
  await d?.cleanup();
  await reg?.close();
});

const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

// Extraction dirs not (yet) committed, with the names of what they hold.
async function staged(dataRoot: string): Promise<string[][]> {
  const home = join(dataRoot, 'overlay2');
  const out: string[][] = [];
  for (const n of await readdir(home)) if (n.startsWith('.tmp-')) out.push(await readdir(join(home, n, 'diff')).catch(() => []));
  return out;
}

test('upper layers extract while the bottom one stalls, then all commit in order', async (t) => {
  const bottom = layers[0]!.digest;
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  t.after(() => release());
  const proxy = await startProxy(reg.host, {
    intercept: async (url, req, res, forward) => {
      if (req.method !== 'GET' || !url.pathname.endsWith(`/blobs/${bottom}`)) return false;
      await released;
      const up = await forward();
      res.writeHead(up.statusCode ?? 200, up.headers);
      res.end(await readAll(up));
      return true;
    },
  });
  t.after(() => proxy.close());
  const d2 = await TestDaemon.start();
  t.after(() => d2.cleanup());
  const ref = `${proxy.host}/${repo}`;

  const pulling = d2.run(['pull', ref]);
  // Both upper layers sit extracted (not committed) while the bottom one has not arrived.
  const names = await waitFor('the upper layers extracted aside', async () => {
    const s = (await staged(d2.dataRoot)).flat().sort();
    return s.includes('pipe-middle') && s.includes('pipe-top') ? s : null;
  }, 60_000);
  assert.deepEqual(names, ['pipe-middle', 'pipe-top']);
  const chains = chainIds(layers.map((l) => l.diffId));
  for (const c of chains) assert.equal(await exists(join(d2.dataRoot, 'layerdb', 'sha256', c.slice(7))), false, 'nothing committed before its parent');
  release();
  const out = await pulling;
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /Status: Downloaded newer image/);
  for (const l of layers) assert.match(out.stdout, new RegExp(`^${l.digest.slice(7, 19)}: Pull complete$`, 'm'));

  // Stacked bottom up: each layer's parent is the one below, and the top's lower dirs are
  // the middle then the bottom.
  for (const [i, c] of chains.entries()) {
    const parent = await readFile(join(d2.dataRoot, 'layerdb', 'sha256', c.slice(7), 'parent'), 'utf8').catch(() => '');
    assert.equal(parent, i === 0 ? '' : chains[i - 1]);
  }
  const img = JSON.parse(await ok(d2, ['image', 'inspect', ref]))[0];
  assert.deepEqual(img.RootFS.Layers, layers.map((l) => l.diffId));
  const dirs = [img.GraphDriver.Data.UpperDir as string, ...(img.GraphDriver.Data.LowerDir as string).split(':')];
  const tops = await Promise.all(dirs.map((dir) => readdir(dir)));
  assert.deepEqual(tops, [['pipe-top'], ['pipe-middle'], ['pipe-bottom']]);
  assert.match(await readFile(join(dirs[1]!, 'pipe-middle'), 'utf8'), /^middle x+\n$/);
  assert.ok((await readFile(join(dirs[0]!, 'pipe-top'), 'utf8')) === topContent, 'the big file arrived intact');
  assert.deepEqual(await staged(d2.dataRoot), [], 'no extraction left aside');
  assert.deepEqual(await readdir(join(d2.dataRoot, 'content', 'downloads')), [], 'registered blobs are not kept');
});

test('a wrong middle blob while the others download fine: refused, nothing of it or above it stored', async (t) => {
  const middle = layers[1]!.digest;
  let corrupt = true;
  const proxy = await startProxy(reg.host, {
    intercept: async (url, req, res, forward) => {
      if (!corrupt || req.method !== 'GET' || !url.pathname.endsWith(`/blobs/${middle}`)) return false;
      const up = await forward();
      const body = Buffer.from(await readAll(up));
      body[body.length >> 1] ^= 0xff;
      res.writeHead(up.statusCode ?? 200, { ...up.headers, 'content-length': String(body.length) });
      res.end(body);
      return true;
    },
  });
  t.after(() => proxy.close());
  const d3 = await TestDaemon.start();
  t.after(() => d3.cleanup());
  const ref = `${proxy.host}/${repo}`;

  const bad = await d3.run(['pull', ref]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`filesystem layer verification failed for digest ${middle}\\n$`));
  assert.equal((await ok(d3, ['images', '-aq'])).trim(), '');
  const chains = chainIds(layers.map((l) => l.diffId));
  for (const c of chains.slice(1)) assert.equal(await exists(join(d3.dataRoot, 'layerdb', 'sha256', c.slice(7))), false);
  assert.deepEqual(await staged(d3.dataRoot), [], 'no extraction left aside');
  assert.ok(!(await readdir(join(d3.dataRoot, 'content', 'downloads'))).includes(middle.slice(7)), 'the corrupted blob was not kept');
  assert.deepEqual((await readdir(join(d3.dataRoot, 'content', 'ingest'))).filter((n) => n.startsWith('dl-')), []);

  corrupt = false;
  const good = await ok(d3, ['pull', ref]);
  assert.match(good, /Status: Downloaded newer image/);
  const img = JSON.parse(await ok(d3, ['image', 'inspect', ref]))[0];
  assert.deepEqual(img.RootFS.Layers, layers.map((l) => l.diffId));
  assert.deepEqual(await staged(d3.dataRoot), []);
});
