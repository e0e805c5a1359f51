import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { TestDaemon } from '../helpers/daemon.js';
import { ok, waitFor } from './network-fixtures.js';
import { gzipLayer, putBlob, putManifest, pushedDigest, readAll, startProxy, startRegistry, type TestRegistry } from './distribution-fixtures.js';
import { startRegistryServer } from '../../src/distribution/server/server.js';
import { MediaTypes } from '../../src/image/archive-format.js';

// Pulls that must choose (manifest lists and --platform), registries daemon.json names
// (mirrors, insecure-registries), registries that lie (corrupted blobs, manifests,
// configs), and a daemon killed in the middle of a pull.
let d: TestDaemon;
let reg: TestRegistry;
let bigDiffIds: string[] = [];

before(async () => {
  d = await TestDaemon.start();
  await ok(d, ['image', 'bootstrap', 'busybox']);
  reg = await startRegistry();
  // A two-layer image: busybox and 3 MB of noise.
  await ok(d, ['run', '--name', 'dist-safety-src', 'busybox', 'sh', '-c', 'head -c 3000000 /dev/urandom > /noise']);
  await ok(d, ['commit', 'dist-safety-src', `${reg.host}/safety/big`]);
  await ok(d, ['rm', 'dist-safety-src']);
  await ok(d, ['push', `${reg.host}/safety/big`]);
  bigDiffIds = JSON.parse(await ok(d, ['image', 'inspect', `${reg.host}/safety/big`]))[0].RootFS.Layers;
  assert.equal(bigDiffIds.length, 2);
});
after(async () => {
  await d?.cleanup();
  await reg?.close();
});

async function manifestOf(repo: string, tag: string): Promise<{ config: { digest: string }; layers: Array<{ digest: string; size: number }> }> {
  const r = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, { headers: { accept: MediaTypes.dockerManifest } });
  return (await r.json()) as { config: { digest: string }; layers: Array<{ digest: string; size: number }> };
}

test('manifest lists: the host platform by default, --platform to choose, and no match', async () => {
  const repo = `${reg.host}/plat/busybox`;
  await ok(d, ['tag', 'busybox', `${repo}:amd64`]);
  const pushed = await ok(d, ['push', `${repo}:amd64`]);
  const amd64 = pushedDigest(pushed, 'amd64');
  const amd64Size = Number(/size: (\d+)/.exec(pushed)![1]);

  // An arm64 image in OCI form (its layer zstd-compressed), next to it in an OCI index.
  const layer = await gzipLayer('hello-arm64', 'arm64\n', 'zstd');
  const layerDigest = await putBlob(reg.host, 'plat/busybox', layer.blob);
  const config = Buffer.from(JSON.stringify({ architecture: 'arm64', variant: 'v8', os: 'linux', config: { Cmd: ['/hello-arm64'] }, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
  const configDigest = await putBlob(reg.host, 'plat/busybox', config);
  const arm = await putManifest(
    reg.host,
    'plat/busybox',
    'arm64',
    { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length }, layers: [{ mediaType: MediaTypes.ociLayerZstd, digest: layerDigest, size: layer.blob.length }] },
    MediaTypes.ociManifest,
  );
  const index = await putManifest(
    reg.host,
    'plat/busybox',
    'multi',
    {
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: [
        { mediaType: MediaTypes.ociManifest, digest: arm.digest, size: arm.size, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        { mediaType: MediaTypes.dockerManifest, digest: amd64, size: amd64Size, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    },
    MediaTypes.ociIndex,
  );

  assert.equal(await ok(d, ['pull', '-q', `${repo}:multi`]), `${repo}:multi\n`);
  const host = await ok(d, ['pull', `${repo}:multi`]);
  assert.match(host, new RegExp(`^Digest: ${index.digest}$`, 'm'));
  const hostImg = JSON.parse(await ok(d, ['image', 'inspect', `${repo}:multi`]))[0];
  assert.equal(hostImg.Architecture, 'amd64');
  assert.ok(hostImg.RepoDigests.includes(`${repo}@${index.digest}`));

  const armOut = await ok(d, ['pull', '--platform', 'linux/arm64', `${repo}:multi`]);
  assert.match(armOut, /Status: Downloaded newer image for/);
  assert.doesNotMatch(armOut, /WARNING/);
  const armImg = JSON.parse(await ok(d, ['image', 'inspect', `${repo}:multi`]))[0];
  assert.equal(armImg.Architecture, 'arm64');
  assert.equal(armImg.Id, configDigest);
  // The zstd layer is there, extracted.
  assert.equal(await readFile(join(armImg.GraphDriver.Data.UpperDir, 'hello-arm64'), 'utf8'), 'arm64\n');

  const none = await d.run(['pull', '--platform', 'linux/s390x', `${repo}:multi`]);
  // After "Pulling from", failures come in the stream: no "Error response from daemon".
  assert.equal(none.stderr, 'no matching manifest for linux/s390x in the manifest list entries\n');
  const bad = await d.run(['pull', '--platform', 'a/b/c/d', `${repo}:multi`]);
  assert.equal(bad.stderr, 'Error response from daemon: "a/b/c/d": cannot parse platform specifier: invalid argument\n');

  // A single-platform image is pulled whatever --platform says, with dockerd's warning.
  const single = await ok(d, ['pull', '--platform', 'linux/arm64', `${repo}:amd64`]);
  assert.match(single, new RegExp(`WARNING: image with reference ${repo} was found but does not match the specified platform: wanted linux/arm64, actual: linux/amd64`));
});

test('a registry serving wrong bytes is refused and nothing is stored', async (t) => {
  const m = await manifestOf('safety/big', 'latest');
  const top = m.layers[1]!.digest;
  let mode: 'layer' | 'config' | 'manifest' = 'layer';
  const flip = (b: Buffer): Buffer => {
    const c = Buffer.from(b);
    c[c.length >> 1] ^= 0xff;
    return c;
  };
  const proxy = await startProxy(reg.host, {
    intercept: async (url, req, res, forward) => {
      const target = mode === 'layer' ? `/blobs/${top}` : mode === 'config' ? `/blobs/${m.config.digest}` : '/manifests/sha256:';
      if (req.method !== 'GET' || !url.pathname.includes(target)) return false;
      const up = await forward();
      const body = flip(await readAll(up));
      res.writeHead(up.statusCode ?? 200, { ...up.headers, 'content-length': String(body.length) });
      res.end(body);
      return true;
    },
  });
  t.after(() => proxy.close());
  const d2 = await TestDaemon.start();
  t.after(() => d2.cleanup());
  const repo = `${proxy.host}/safety/big`;

  const layer = await d2.run(['pull', repo]);
  assert.equal(layer.code, 1);
  assert.match(layer.stderr, new RegExp(`filesystem layer verification failed for digest ${top}\\n$`));
  mode = 'config';
  const config = await d2.run(['pull', repo]);
  assert.equal(config.stderr, `image config verification failed for digest ${m.config.digest}\n`);
  mode = 'manifest';
  const manifest = await d2.run(['pull', repo]);
  assert.match(manifest.stderr, /^Error response from daemon: manifest verification failed for digest sha256:[a-f0-9]{64}\n$/);

  assert.equal((await ok(d2, ['images', '-aq'])).trim(), '');
  const downloads = join(d2.dataRoot, 'content', 'downloads');
  const kept = await readdir(downloads);
  assert.ok(!kept.includes(top.slice(7)), 'the corrupted blob was not kept');
  assert.deepEqual((await readdir(join(d2.dataRoot, 'content', 'ingest'))).filter((n) => n.startsWith('dl-')), []);
});

test('killed mid-pull: no image, and the next pull reuses what was complete', async (t) => {
  const m = await manifestOf('safety/big', 'latest');
  const [base, noise] = [m.layers[0]!.digest, m.layers[1]!.digest];
  let stall: string | null = base;
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  t.after(() => release());
  const stalled = new Set<string>();
  const proxy = await startProxy(reg.host, {
    intercept: async (url, req, res, forward) => {
      if (req.method !== 'GET' || !stall || !url.pathname.endsWith(`/blobs/${stall}`)) return false;
      const up = await forward();
      res.writeHead(up.statusCode ?? 200, up.headers);
      // Part of the blob, then nothing until the test lets go.
      for await (const chunk of up) {
        res.write((chunk as Buffer).subarray(0, 4096));
        break;
      }
      stalled.add(stall);
      await released;
      res.destroy();
      return true;
    },
  });
  t.after(() => proxy.close());
  const d3 = await TestDaemon.start();
  t.after(() => d3.cleanup());
  const repo = `${proxy.host}/safety/big`;

  // 1. The base layer hangs; the other one completes but cannot be registered before it.
  const first = d3.run(['pull', repo]);
  const noiseFile = join(d3.dataRoot, 'content', 'downloads', noise.slice(7));
  await waitFor('the second layer downloaded and the first stalled', async () => stalled.has(base) && (await stat(noiseFile).then(() => true, () => false)), 60_000);
  await d3.kill9();
  assert.notEqual((await first).code, 0);
  await d3.spawn();
  assert.equal((await ok(d3, ['images', '-aq'])).trim(), '', 'no image after the crash');
  assert.deepEqual((await readdir(join(d3.dataRoot, 'content', 'ingest'))).filter((n) => n.startsWith('dl-')), [], 'partial downloads are gone');

  stall = null;
  const second = await ok(d3, ['pull', repo]);
  assert.match(second, /Status: Downloaded newer image/);
  assert.equal(proxy.blobGets.get(noise), 1, 'the complete download was reused');
  assert.equal(proxy.blobGets.get(base), 2);
  assert.equal((await d3.run(['run', '--rm', repo, 'sh', '-c', 'wc -c < /noise'])).stdout.trim(), '3000000');

  // 2. The top layer hangs after the base one is registered.
  await ok(d3, ['rmi', repo]);
  stall = noise;
  const third = d3.run(['pull', repo]);
  const chain0 = join(d3.dataRoot, 'layerdb', 'sha256', bigDiffIds[0]!.slice(7));
  await waitFor('the base layer registered and the top one stalled', async () => stalled.has(noise) && (await stat(chain0).then(() => true, () => false)), 60_000);
  await d3.kill9();
  await third;
  await d3.spawn();
  assert.equal((await ok(d3, ['images', '-aq'])).trim(), '');
  stall = null;
  const baseGets = proxy.blobGets.get(base);
  const fourth = await ok(d3, ['pull', repo]);
  assert.match(fourth, new RegExp(`^${base.slice(7, 19)}: Already exists$`, 'm'));
  assert.equal(proxy.blobGets.get(base), baseGets, 'the registered layer was not fetched again');
  assert.equal((await d3.run(['run', '--rm', repo, 'sh', '-c', 'wc -c < /noise'])).stdout.trim(), '3000000');
});

test('a pulled layer keeps the registry blob as its tar: no second copy; save gives the exact tars, rmi removes the blobs', async (t) => {
  const m = await manifestOf('safety/big', 'latest');
  const d4 = await TestDaemon.start();
  t.after(() => d4.cleanup());
  const repo = `${reg.host}/safety/big`;
  await ok(d4, ['pull', repo]);
  const content = join(d4.dataRoot, 'content', 'sha256');
  const stored = await readdir(content);
  for (const [i, l] of m.layers.entries()) {
    assert.ok(stored.includes(l.digest.slice(7)), `layer ${i}: the verified download is kept`);
    assert.ok(!stored.includes(bigDiffIds[i]!.slice(7)), `layer ${i}: no uncompressed copy of its tar`);
  }
  assert.deepEqual(await readdir(join(d4.dataRoot, 'content', 'downloads')), []);

  // save uncompresses them: each layer in the archive hashes to its diff ID.
  const file = join(d4.dir, 'saved.tar');
  await ok(d4, ['save', '-o', file, repo]);
  const layers = new Map<string, string>();
  const extract = tar.extract();
  const reading = (async () => {
    for await (const entry of extract) {
      const hash = createHash('sha256');
      for await (const c of entry) hash.update(c as Buffer);
      layers.set(entry.header.name, `sha256:${hash.digest('hex')}`);
    }
  })();
  await pipeline(createReadStream(file), extract);
  await reading;
  for (const diffId of bigDiffIds) assert.equal(layers.get(`blobs/sha256/${diffId.slice(7)}`), diffId);

  // push sends the kept blobs as they are: another registry gets the same layer digests.
  const other = await startRegistry();
  t.after(() => other.close());
  const copy = `${other.host}/copied/big`;
  await ok(d4, ['tag', repo, copy]);
  await ok(d4, ['push', copy]);
  const copied = (await (await fetch(`http://${other.host}/v2/copied/big/manifests/latest`, { headers: { accept: MediaTypes.dockerManifest } })).json()) as { layers: Array<{ digest: string }> };
  assert.deepEqual(copied.layers.map((l) => l.digest), m.layers.map((l) => l.digest));
  // A blob berth's own gzip would not have made (zlib's gzip, level 6) keeps its digest too.
  const layer = await gzipLayer('zlib-made', 'by zlib\n');
  const blobDigest = await putBlob(reg.host, 'zlib/made', layer.blob);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }));
  const configDigest = await putBlob(reg.host, 'zlib/made', config);
  await putManifest(reg.host, 'zlib/made', 'v1', { schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config: { mediaType: MediaTypes.dockerConfig, digest: configDigest, size: config.length }, layers: [{ mediaType: MediaTypes.dockerLayerGzip, digest: blobDigest, size: layer.blob.length }] }, MediaTypes.dockerManifest);
  await ok(d4, ['pull', `${reg.host}/zlib/made:v1`]);
  await ok(d4, ['tag', `${reg.host}/zlib/made:v1`, `${other.host}/zlib/made:v1`]);
  await ok(d4, ['push', `${other.host}/zlib/made:v1`]);
  const pushed = (await (await fetch(`http://${other.host}/v2/zlib/made/manifests/v1`, { headers: { accept: MediaTypes.dockerManifest } })).json()) as { layers: Array<{ digest: string }> };
  assert.deepEqual(pushed.layers.map((l) => l.digest), [blobDigest]);
  await ok(d4, ['rmi', `${reg.host}/zlib/made:v1`, `${other.host}/zlib/made:v1`]);
  // A kept blob damaged on disk is refused before the upload is committed.
  const third = await startRegistry();
  t.after(() => third.close());
  const top = join(content, m.layers[1]!.digest.slice(7));
  const bytes = await readFile(top);
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(top, bytes);
  await ok(d4, ['tag', repo, `${third.host}/damaged/big`]);
  const damaged = await d4.run(['push', `${third.host}/damaged/big`]);
  assert.notEqual(damaged.code, 0);
  assert.match(damaged.stderr, /cannot push layer sha256:[0-9a-f]{64}: /);
  assert.equal((await fetch(`http://${third.host}/v2/damaged/big/tags/list`)).status, 404, 'no manifest was put');
  // Damage at its start: uncompressing fails at once, while the upload still reads on.
  bytes[bytes.length >> 1] ^= 0xff;
  bytes[12] ^= 0xff;
  await writeFile(top, bytes);
  await ok(d4, ['tag', repo, `${third.host}/damaged/early`]);
  const early = await d4.run(['push', `${third.host}/damaged/early`]);
  assert.notEqual(early.code, 0);
  assert.match(early.stderr, /cannot push layer sha256:[0-9a-f]{64}: /);
  assert.equal((await fetch(`http://${third.host}/v2/damaged/early/tags/list`)).status, 404, 'no manifest was put');
  await ok(d4, ['rmi', `${third.host}/damaged/early`]);
  await ok(d4, ['rmi', copy, `${third.host}/damaged/big`]);

  await ok(d4, ['rmi', repo]);
  const left = await readdir(content);
  for (const l of m.layers) assert.ok(!left.includes(l.digest.slice(7)), 'the blobs went with their layers');
});

test('daemon.json: registry-mirrors serve Docker Hub names, insecure-registries allow plain http', async (t) => {
  // Docker Hub's busybox, as a mirror holds it.
  await ok(d, ['tag', 'busybox', `${reg.host}/library/busybox:latest`]);
  await ok(d, ['push', `${reg.host}/library/busybox:latest`]);

  // A registry on a non-loopback address of this host (on a bridge of our own).
  const ifname = `bdist${process.pid % 100000}`;
  // TEST-NET-3 (RFC 5737): never routed, and apart from the 198.18/15 test bridges.
  const ip = `203.0.113.${1 + (process.pid % 254)}`;
  execFileSync('ip', ['link', 'add', 'name', ifname, 'type', 'bridge']);
  t.after(() => execFileSync('ip', ['link', 'del', ifname]));
  execFileSync('ip', ['addr', 'add', `${ip}/32`, 'dev', ifname]);
  execFileSync('ip', ['link', 'set', ifname, 'up']);
  const remote = await startRegistryServer({ address: `${ip}:0`, root: join(d.dir, 'remote-registry') });
  t.after(() => remote.close());
  const remoteHost = `${ip}:${remote.port}`;

  // Without configuration that address is a secure registry: https, as Docker insists.
  const refused = await d.run(['pull', `${remoteHost}/x/y`]);
  assert.equal(refused.stderr, `Error response from daemon: Get "https://${remoteHost}/v2/": http: server gave HTTP response to HTTPS client\n`);

  const d2 = await TestDaemon.start({ 'registry-mirrors': [`http://${reg.host}`], 'insecure-registries': [remoteHost] });
  t.after(() => d2.cleanup());
  const pulled = await ok(d2, ['pull', 'busybox']);
  assert.match(pulled, /^latest: Pulling from library\/busybox$/m);
  assert.match(pulled, /Status: Downloaded newer image for busybox:latest\ndocker\.io\/library\/busybox:latest\n$/);
  assert.equal((await d2.run(['run', '--rm', 'busybox', 'echo', 'from the mirror'])).stdout, 'from the mirror\n');

  // The seed's walkthrough against that address: tag, push, rmi, pull, run.
  await ok(d2, ['tag', 'busybox', `${remoteHost}/busybox`]);
  assert.match(await ok(d2, ['push', `${remoteHost}/busybox`]), /: Pushed$/m);
  await ok(d2, ['rmi', `${remoteHost}/busybox`]);
  assert.match(await ok(d2, ['pull', `${remoteHost}/busybox`]), new RegExp(`${remoteHost}/busybox:latest\\n$`));
  assert.equal((await d2.run(['run', '--rm', `${remoteHost}/busybox`, 'echo', 'seed'])).stdout, 'seed\n');
});
