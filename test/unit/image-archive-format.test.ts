import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blobPath,
  checkImageOs,
  descriptorKind,
  dockerManifestJson,
  goJson,
  nameFromAnnotations,
  parseDockerManifest,
  parseImageConfig,
  parseOciIndex,
  parseOciManifest,
  parseRepoTag,
  platformMatches,
  repositoriesJson,
  v1Layers,
} from '../../src/image/archive-format.js';
import { chainIds, sha256Digest } from '../../src/image/digest.js';
import { familiarString } from '../../src/image/reference.js';
import type { ImageConfig } from '../../src/image/types.js';

// Configs saved by dockerd 20.10 (docker.io 20.10.24): an imported busybox and a commit on
// top of it. The v1 IDs, layer json files and manifest.json below are what it wrote.
const ONE = String.raw`{"architecture":"amd64","comment":"Imported from -","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2026-11-29T16:55:07.154997481Z","docker_version":"20.10.24+dfsg1","history":[{"created":"2026-11-29T16:55:07.154997481Z","comment":"Imported from -"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0d46541754c6f9a89772bd097acd948c97b899eb8a933691fe53d77632e2fb81"]}}`;
const TWO = String.raw`{"architecture":"amd64","config":{"Hostname":"8258d690a52c","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh","-c","echo layered \u003e /f; rm /bin/vi; mkdir -p /d/e"],"Image":"refbox:v2","Volumes":null,"WorkingDir":"","Entrypoint":null,"NetworkDisabled":true,"OnBuild":null,"Labels":{"a":"b"}},"container":"8258d690a52cf882f263bc3ba400dbb044449eded736352b75b72973f79c8ead","container_config":{"Hostname":"8258d690a52c","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh","-c","echo layered \u003e /f; rm /bin/vi; mkdir -p /d/e"],"Image":"refbox:v2","Volumes":null,"WorkingDir":"","Entrypoint":null,"NetworkDisabled":true,"OnBuild":null,"Labels":{}},"created":"2026-11-29T16:57:23.561931941Z","docker_version":"20.10.24+dfsg1","history":[{"created":"2026-11-29T16:55:07.154997481Z","comment":"Imported from -"},{"created":"2026-11-29T16:57:23.561931941Z","created_by":"sh -c echo layered \u003e /f; rm /bin/vi; mkdir -p /d/e"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:0d46541754c6f9a89772bd097acd948c97b899eb8a933691fe53d77632e2fb81","sha256:a0143334b156ce9b50fb31976653f621f42251ee5ce8419516355f9a12e56790"]}}`;

test('v1Layers: one layer, the v1 ID and json dockerd writes', () => {
  const config = JSON.parse(ONE) as ImageConfig;
  const [l] = v1Layers(config, chainIds(config.rootfs.diff_ids!));
  assert.equal(l!.id, '518a53a3790f950f58165f21f2f204e0b0d74379c8e074425f178f5715bbcfeb');
  assert.equal(
    l!.json,
    '{"id":"518a53a3790f950f58165f21f2f204e0b0d74379c8e074425f178f5715bbcfeb","comment":"Imported from -","created":"2026-11-29T16:55:07.154997481Z","container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"docker_version":"20.10.24+dfsg1","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"architecture":"amd64","os":"linux"}',
  );
});

test('v1Layers: two layers, the lower one empty at the epoch, parents linked, HTML escaped', () => {
  const config = JSON.parse(TWO) as ImageConfig;
  const layers = v1Layers(config, chainIds(config.rootfs.diff_ids!));
  assert.deepEqual(
    layers.map((l) => l.id),
    ['8327c03bfc6bbdc73595f6304032019fb2e9f165b5ea163e731c50a8cd18a07f', 'eba603389e0c991626b274d378c9370805700b4754dfac05856c7ee23f725399'],
  );
  assert.equal(
    layers[0]!.json,
    '{"id":"8327c03bfc6bbdc73595f6304032019fb2e9f165b5ea163e731c50a8cd18a07f","created":"1970-01-01T00:00:00Z","container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"os":"linux"}',
  );
  const top = JSON.parse(layers[1]!.json) as Record<string, unknown>;
  assert.equal(top.parent, layers[0]!.id);
  assert.match(layers[1]!.json, /echo layered \\u003e \/f/);
  assert.deepEqual(Object.keys(top).slice(0, 4), ['id', 'parent', 'created', 'container']);
});

test('dockerManifestJson and repositoriesJson: the bytes of json.Encoder', () => {
  assert.equal(
    dockerManifestJson([{ Config: 'a.json', RepoTags: ['refbox:two'], Layers: ['x/layer.tar', 'y/layer.tar'] }]),
    '[{"Config":"a.json","RepoTags":["refbox:two"],"Layers":["x/layer.tar","y/layer.tar"]}]\n',
  );
  assert.equal(dockerManifestJson([{ Config: 'a.json', RepoTags: null, Layers: [] }]), '[{"Config":"a.json","RepoTags":null,"Layers":[]}]\n');
  const repos = new Map([
    ['zeta', new Map([['b', '2'], ['a', '1']])],
    ['alpha', new Map([['latest', '3']])],
  ]);
  assert.equal(repositoriesJson(repos), '{"alpha":{"latest":"3"},"zeta":{"a":"1","b":"2"}}\n');
});

test('goJson escapes what encoding/json escapes', () => {
  assert.equal(goJson({ s: '<a> & b\u2028' }), '{"s":"\\u003ca\\u003e \\u0026 b\\u2028"}');
});

test('parseDockerManifest: good and bad shapes', () => {
  const ok = parseDockerManifest(Buffer.from('[{"Config":"c.json","RepoTags":null,"Layers":["l/layer.tar"],"Parent":"sha256:' + 'a'.repeat(64) + '"}]'));
  assert.deepEqual(ok, [{ Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'], Parent: 'sha256:' + 'a'.repeat(64) }]);
  assert.deepEqual(parseDockerManifest(Buffer.from('[]')), []);
  const bad: Array<[string, RegExp]> = [
    ['null', /manifest cannot be null/],
    ['{}', /not a JSON array/],
    ['[1]', /entry 0 is not an object/],
    ['[{"Layers":[]}]', /has no Config/],
    ['[{"Config":"c","Layers":"x"}]', /invalid Layers/],
    ['[{"Config":"c","Layers":[],"RepoTags":[1]}]', /invalid RepoTags/],
    ['[{', /not valid JSON/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseDockerManifest(Buffer.from(text)), re, text);
});

test('parseRepoTag: a name with a tag, nothing else', () => {
  assert.equal(familiarString(parseRepoTag('busybox:latest')), 'busybox:latest');
  assert.equal(familiarString(parseRepoTag('localhost:5000/a/b:v1')), 'localhost:5000/a/b:v1');
  assert.throws(() => parseRepoTag('busybox'), /invalid tag "busybox"/);
  assert.throws(() => parseRepoTag('Busybox:1'), /must be lowercase/);
  assert.throws(() => parseRepoTag('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
});

test('parseImageConfig and checkImageOs', () => {
  const d = 'sha256:' + 'b'.repeat(64);
  const c = parseImageConfig(Buffer.from(`{"os":"linux","rootfs":{"type":"layers","diff_ids":["${d}"]}}`), 'c');
  assert.deepEqual(c.rootfs.diff_ids, [d]);
  checkImageOs(c);
  checkImageOs(parseImageConfig(Buffer.from('{"rootfs":{"type":"layers"}}'), 'c'));
  assert.throws(() => checkImageOs(parseImageConfig(Buffer.from('{"os":"windows","rootfs":{}}'), 'c')), /cannot load windows image on linux/);
  const bad: Array<[string, RegExp]> = [
    ['{}', /no RootFS key/],
    ['[]', /no RootFS key/],
    ['{"rootfs":{"diff_ids":"x"}}', /not a list of digests/],
    ['{"rootfs":{"diff_ids":["sha256:12"]}}', /invalid checksum digest length/],
    ['{"rootfs":{"diff_ids":["md5:' + 'a'.repeat(32) + '"]}}', /unsupported digest algorithm/],
    ['{"os":3,"rootfs":{}}', /os is not a string/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseImageConfig(Buffer.from(text), 'c'), re, text);
});

test('OCI index and manifest parsing', () => {
  const dg = sha256Digest('x');
  const idx = parseOciIndex(
    Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: dg, size: 3, annotations: { a: 'b', n: 1 }, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] })),
    'index.json',
  );
  assert.deepEqual(idx.manifests[0], { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: dg, size: 3, annotations: { a: 'b' }, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  const m = parseOciManifest(Buffer.from(JSON.stringify({ config: { mediaType: 'c', digest: dg, size: 1 }, layers: [{ mediaType: 'l', digest: dg, size: 2 }] })), 'm');
  assert.equal(m.layers[0]!.size, 2);
  const bad: Array<[() => unknown, RegExp]> = [
    [() => parseOciIndex(Buffer.from('{}'), 'i'), /has no manifests list/],
    [() => parseOciIndex(Buffer.from('{"manifests":[{"digest":"sha256:1","mediaType":"x","size":1}]}'), 'i'), /invalid checksum digest length/],
    [() => parseOciIndex(Buffer.from(`{"manifests":[{"digest":"${dg}","mediaType":"x","size":-1}]}`), 'i'), /invalid size/],
    [() => parseOciIndex(Buffer.from(`{"manifests":[{"digest":"${dg}","size":1}]}`), 'i'), /has no mediaType/],
    [() => parseOciManifest(Buffer.from('{"config":{}}'), 'm'), /not an image manifest/],
  ];
  for (const [fn, re] of bad) assert.throws(fn, re);
});

test('descriptorKind, blobPath, platformMatches', () => {
  assert.equal(descriptorKind('application/vnd.oci.image.index.v1+json'), 'index');
  assert.equal(descriptorKind('application/vnd.docker.distribution.manifest.list.v2+json'), 'index');
  assert.equal(descriptorKind('application/vnd.docker.distribution.manifest.v2+json'), 'manifest');
  assert.equal(descriptorKind('application/vnd.oci.image.layer.v1.tar+gzip'), 'layer');
  assert.equal(descriptorKind('application/vnd.in-toto+json'), 'other');
  assert.equal(blobPath('sha256:abc'), 'blobs/sha256/abc');
  assert.ok(platformMatches(undefined, 'linux', 'amd64'));
  assert.ok(platformMatches({ os: 'linux', architecture: 'amd64' }, 'linux', 'amd64'));
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, 'linux', 'arm'));
  assert.ok(!platformMatches({ os: 'linux', architecture: 'arm64' }, 'linux', 'amd64'));
  assert.ok(!platformMatches({ os: 'windows', architecture: 'amd64' }, 'linux', 'amd64'));
});

test('nameFromAnnotations: containerd full names, OCI ref names that are references', () => {
  const cases: Array<[Record<string, string> | undefined, string | null]> = [
    [undefined, null],
    [{}, null],
    [{ 'io.containerd.image.name': 'docker.io/library/busybox:latest', 'org.opencontainers.image.ref.name': 'latest' }, 'busybox:latest'],
    [{ 'org.opencontainers.image.ref.name': 'latest' }, null],
    [{ 'org.opencontainers.image.ref.name': 'localhost/app:1.0' }, 'localhost/app:1.0'],
    [{ 'org.opencontainers.image.ref.name': 'example.com/x' }, 'example.com/x:latest'],
    [{ 'io.containerd.image.name': 'Not A Ref', 'org.opencontainers.image.ref.name': 'app:2' }, 'app:2'],
    [{ 'io.containerd.image.name': 'busybox@sha256:' + 'c'.repeat(64) }, null],
  ];
  for (const [a, want] of cases) {
    const got = nameFromAnnotations(a);
    assert.equal(got ? familiarString(got) : null, want, JSON.stringify(a));
  }
});
