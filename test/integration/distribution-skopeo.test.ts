import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, runCommand } from '../helpers/daemon.js';
import { ok } from './network-fixtures.js';
import { pushedDigest, startRegistry } from './distribution-fixtures.js';

// berth's registry server against skopeo (containers/image, the client podman and buildah
// use): skopeo pushes into it and copies out of it, and berth pulls and pushes the same
// images; the digests must agree on both sides.

const haveSkopeo = (await runCommand('sh', ['-c', 'command -v skopeo'])).code === 0;
const skip = !haveSkopeo && 'skopeo is not installed (apt-get install skopeo)';

// --insecure-policy: no signature policy matters for loopback tests, and it keeps the host's
// /etc/containers/policy.json out of the picture.
async function skopeo(...args: string[]): Promise<string> {
  const r = await runCommand('skopeo', ['--insecure-policy', ...args]);
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function markedImage(d: TestDaemon, name: string, marker: string): Promise<void> {
  const ctr = `dist-skopeo-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  await ok(d, ['run', '--name', ctr, 'busybox', 'sh', '-c', `echo ${marker} > /marker`]);
  await ok(d, ['commit', ctr, name]);
  await ok(d, ['rm', ctr]);
}

// A registry, a scratch directory and a daemon, each removed when the test ends.
async function setup(t: TestContext): Promise<{ reg: Awaited<ReturnType<typeof startRegistry>>; dir: string; d: TestDaemon }> {
  const reg = await startRegistry();
  t.after(() => reg.close());
  const dir = await mkdtemp('/tmp/berth-skopeo-');
  t.after(() => rm(dir, { recursive: true, force: true }));
  const d = await TestDaemon.start();
  t.after(() => d.cleanup());
  return { reg, dir, d };
}

test('skopeo pushes a docker-archive into berth’s registry; berth pulls and runs it', { skip }, async (t) => {
  const { reg, dir, d } = await setup(t);
  await ok(d, ['image', 'bootstrap', 'busybox']);

  const local = 'dist-skopeo-src:v1';
  await markedImage(d, local, 'via-skopeo');
  const archive = join(dir, 'img.tar');
  await ok(d, ['save', '-o', archive, local]);
  const ref = `${reg.host}/skopeo/in:v1`;
  await skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${ref}`);

  const inspected = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${ref}`)) as { Digest: string; Layers: string[] };
  const raw = Buffer.from(await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${ref}`));
  assert.equal(sha256(raw), inspected.Digest, 'the digest skopeo reports is that of the bytes served');
  assert.deepEqual(JSON.parse(await skopeo('list-tags', '--tls-verify=false', `docker://${reg.host}/skopeo/in`)).Tags, ['v1']);

  await ok(d, ['rmi', local]);
  const pulled = await ok(d, ['pull', ref]);
  assert.match(pulled, new RegExp(`Digest: ${inspected.Digest}\\n`));
  assert.equal((await ok(d, ['run', '--rm', ref, 'cat', '/marker'])).trim(), 'via-skopeo');
  const repoDigests = (await ok(d, ['image', 'inspect', '-f', '{{json .RepoDigests}}', ref])).trim();
  assert.deepEqual(JSON.parse(repoDigests), [`${reg.host}/skopeo/in@${inspected.Digest}`]);
});

test('berth pushes into its registry; skopeo inspects, copies out and across, deletes', { skip }, async (t) => {
  const { reg, dir, d } = await setup(t);
  await ok(d, ['image', 'bootstrap', 'busybox']);

  const ref = `${reg.host}/skopeo/out:v1`;
  await markedImage(d, ref, 'from-berth');
  const digest = pushedDigest(await ok(d, ['push', ref]), 'v1');

  const inspected = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${ref}`)) as { Digest: string; Layers: string[] };
  assert.equal(inspected.Digest, digest);
  assert.equal(inspected.Layers.length, 2);

  // dir: keeps the manifest byte for byte and every blob under its digest's hex.
  const out = join(dir, 'copy');
  await skopeo('copy', '--src-tls-verify=false', `docker://${ref}`, `dir:${out}`);
  const manifestBytes = await readFile(join(out, 'manifest.json'));
  assert.equal(sha256(manifestBytes), digest);
  const manifest = JSON.parse(manifestBytes.toString()) as { config: { digest: string }; layers: { digest: string }[] };
  assert.deepEqual(manifest.layers.map((l) => l.digest), inspected.Layers);
  const files = await readdir(out);
  for (const blob of [manifest.config.digest, ...inspected.Layers]) {
    const hex = blob.replace(/^sha256:/, '');
    assert.ok(files.includes(hex), `${blob} copied`);
    assert.equal(sha256(await readFile(join(out, hex))), blob, `${blob} verifies`);
  }
  const configId = (await ok(d, ['image', 'inspect', '-f', '{{.Id}}', ref])).trim();
  assert.equal(manifest.config.digest, configId, 'the config blob is the image berth has');

  // oci: converts the manifest to OCI's media types (a new digest) but keeps every layer blob
  const ociDir = join(dir, 'oci');
  await skopeo('copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${ociDir}:v1`);
  const index = JSON.parse(await readFile(join(ociDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const ociManifest = JSON.parse(await readFile(join(ociDir, 'blobs/sha256', index.manifests[0]!.digest.replace(/^sha256:/, '')), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  assert.deepEqual(ociManifest.layers.map((l) => l.digest), inspected.Layers);
  assert.ok(ociManifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'));
  // Its config is re-encoded by the conversion (so not berth's image ID) but names the same layers.
  const ociConfig = JSON.parse(await readFile(join(ociDir, 'blobs/sha256', ociManifest.config.digest.replace(/^sha256:/, '')), 'utf8')) as { rootfs: { diff_ids: string[] } };
  assert.deepEqual(ociConfig.rootfs.diff_ids, JSON.parse(await ok(d, ['image', 'inspect', '-f', '{{json .RootFS.Layers}}', ref])));

  // Registry to registry, another repository: skopeo mounts or re-sends the blobs, and the
  // manifest comes out the same; berth pulls that copy.
  const copyRef = `${reg.host}/skopeo/copy:v2`;
  await skopeo('copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${ref}`, `docker://${copyRef}`);
  assert.equal(JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${copyRef}`)).Digest, digest);
  await ok(d, ['rmi', ref]);
  assert.match(await ok(d, ['pull', copyRef]), new RegExp(`Digest: ${digest}\\n`));
  assert.equal((await ok(d, ['run', '--rm', copyRef, 'cat', '/marker'])).trim(), 'from-berth');

  // skopeo delete resolves the tag to a digest and deletes the manifest by digest.
  await skopeo('delete', '--tls-verify=false', `docker://${ref}`);
  const gone = await runCommand('skopeo', ['--insecure-policy', 'inspect', '--tls-verify=false', `docker://${ref}`]);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /manifest unknown/);
});
