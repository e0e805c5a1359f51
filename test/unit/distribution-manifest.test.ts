import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkConfigMediaType,
  checkSupportedMediaType,
  layerCompression,
  matchingManifests,
  noMatchingManifest,
  parseManifest,
  schema2Manifest,
  type Descriptor,
} from '../../src/distribution/manifest.js';
import { formatPlatform, parsePlatform, platformScore } from '../../src/distribution/platform.js';
import { MediaTypes } from '../../src/image/archive-format.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const REF = 'docker.io/library/busybox:latest';

function err(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected an error');
}

test('manifests of every kind parse; the media type comes from the body, the header, or the shape', () => {
  const image = { schemaVersion: 2, config: { mediaType: MediaTypes.dockerConfig, digest: D('a'), size: 10 }, layers: [{ mediaType: MediaTypes.dockerLayerGzip, digest: D('b'), size: 20 }] };
  const docker = parseManifest(Buffer.from(JSON.stringify({ ...image, mediaType: MediaTypes.dockerManifest })), '', REF);
  assert.deepEqual(docker, { kind: 'image', mediaType: MediaTypes.dockerManifest, config: image.config, layers: image.layers });
  // No mediaType field: the Content-Type says, else the shape.
  assert.equal(parseManifest(Buffer.from(JSON.stringify(image)), `${MediaTypes.ociManifest}; charset=utf-8`, REF).mediaType, MediaTypes.ociManifest);
  assert.equal(parseManifest(Buffer.from(JSON.stringify(image)), 'application/json', REF).mediaType, MediaTypes.ociManifest);
  const index = { schemaVersion: 2, manifests: [{ mediaType: MediaTypes.ociManifest, digest: D('c'), size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] };
  const parsed = parseManifest(Buffer.from(JSON.stringify(index)), '', REF);
  assert.deepEqual(parsed, { kind: 'index', mediaType: MediaTypes.ociIndex, manifests: [{ mediaType: MediaTypes.ociManifest, digest: D('c'), size: 5, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] });
  assert.equal(parseManifest(Buffer.from(JSON.stringify({ ...index, mediaType: MediaTypes.dockerManifestList })), '', REF).mediaType, MediaTypes.dockerManifestList);
});

test('manifests that are refused, with moby messages', () => {
  assert.match(err(() => parseManifest(Buffer.from('{"schemaVersion":1,"name":"x"}'), '', REF)), /^Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed\. Suggest the author of docker\.io\/library\/busybox:latest to upgrade/);
  assert.match(err(() => parseManifest(Buffer.from('{}'), 'application/vnd.docker.distribution.manifest.v1+prettyjws', REF)), /schema 1 support has been removed/);
  assert.equal(err(() => parseManifest(Buffer.from('{"schemaVersion":2}'), '', REF)), 'unsupported manifest format');
  assert.equal(err(() => parseManifest(Buffer.from('[]'), '', REF)), 'unsupported manifest format');
  assert.match(err(() => parseManifest(Buffer.from('not json'), '', REF)), /^invalid manifest: /);
  const badDigest = { config: { mediaType: 'x', digest: 'sha256:abc', size: 1 }, layers: [] };
  assert.equal(err(() => parseManifest(Buffer.from(JSON.stringify(badDigest)), MediaTypes.dockerManifest, REF)), 'could not validate layer digest "sha256:abc": invalid checksum digest length');
});

test('media types: images only', () => {
  for (const ok of [MediaTypes.dockerLayerGzip, MediaTypes.ociLayerZstd, 'application/octet-stream', '', MediaTypes.ociConfig]) checkSupportedMediaType(ok);
  assert.equal(err(() => checkSupportedMediaType('application/vnd.cncf.helm.config.v1+json')), 'unsupported media type application/vnd.cncf.helm.config.v1+json');
  assert.equal(err(() => checkSupportedMediaType('application/vnd.oci.images_are_fun')), 'unsupported media type application/vnd.oci.images_are_fun');
  assert.match(err(() => checkSupportedMediaType('application/vnd.docker.ai.model.config.v0.1+json')), /AI models are not yet supported/);
  checkConfigMediaType(MediaTypes.dockerConfig);
  checkConfigMediaType('');
  assert.equal(err(() => checkConfigMediaType('application/vnd.docker.plugin.v1+json')), 'Encountered remote "application/vnd.docker.plugin.v1+json"(plugin) when fetching');
  assert.equal(err(() => checkConfigMediaType('application/x-other')), 'Encountered remote "application/x-other"(unknown) when fetching');
  assert.equal(layerCompression(MediaTypes.dockerLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaTypes.ociLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaTypes.ociLayerZstd), 'zstd');
  assert.equal(layerCompression(MediaTypes.ociLayer), 'none');
});

test('--platform parses as containerd parses it', () => {
  const cases: Array<[string, string]> = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['LINUX/AMD64', 'linux/amd64'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['linux/arm', 'linux/arm'],
    ['linux/armhf', 'linux/arm'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/386', 'linux/386'],
    ['linux/i386', 'linux/386'],
    ['arm64', 'linux/arm64'],
    ['linux', 'linux/amd64'],
    ['windows/amd64', 'windows/amd64'],
    ['macos/arm64', 'darwin/arm64'],
  ];
  for (const [input, want] of cases) assert.equal(formatPlatform(parsePlatform(input)), want, input);
  assert.equal(err(() => parsePlatform('a/b/c/d')), '"a/b/c/d": cannot parse platform specifier: invalid argument');
  assert.equal(err(() => parsePlatform('nonsense')), '"nonsense": unknown operating system or architecture: invalid argument');
  assert.equal(err(() => parsePlatform('linux/a md64')), '"linux/a md64": "a md64" is an invalid component of "linux/a md64": platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument');
  assert.equal(err(() => parsePlatform('linux/*')), '"linux/*": wildcards not yet supported: invalid argument');
  assert.equal(err(() => parsePlatform('')), '"": "" is an invalid component of "": platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument');
});

test('picking from a manifest list: the platform, its variant, the order', () => {
  const d = (c: string, os: string, architecture: string, variant?: string): Descriptor => ({
    mediaType: MediaTypes.ociManifest,
    digest: D(c),
    size: 1,
    platform: variant ? { os, architecture, variant } : { os, architecture },
  });
  const list = [d('1', 'linux', 'arm', 'v6'), d('2', 'linux', 'arm', 'v7'), d('3', 'linux', 'arm64', 'v8'), d('4', 'linux', 'amd64'), d('5', 'windows', 'amd64'), d('6', 'unknown', 'unknown'), d('7', 'linux', 'amd64', 'v3')];
  const pick = (p: string): string[] => matchingManifests(list, parsePlatform(p)).map((x) => x.digest.slice(7, 8));
  assert.deepEqual(pick('linux/amd64'), ['4', '7']);
  assert.deepEqual(pick('linux/arm64'), ['3']);
  assert.deepEqual(pick('linux/arm64/v8'), ['3']);
  // arm without a variant is v7, which runs v6 images too (as containerd's matcher has it).
  assert.deepEqual(pick('linux/arm'), ['2', '1']);
  assert.deepEqual(pick('linux/arm/v6'), ['1']);
  assert.deepEqual(pick('windows/amd64'), ['5']);
  assert.deepEqual(pick('linux/s390x'), []);
  assert.equal(noMatchingManifest(parsePlatform('linux/arm64/v8')).message, 'no matching manifest for linux/arm64/v8 in the manifest list entries');
  // An entry without a platform fits any, after those that say they fit.
  assert.equal(platformScore(undefined, parsePlatform('linux/amd64')), 1);
});

test('the schema 2 manifest push sends is byte for byte what docker sends', () => {
  const m = schema2Manifest({ digest: D('a'), size: 1457 }, [{ digest: D('b'), size: 772788 }]);
  const want = [
    '{',
    '   "schemaVersion": 2,',
    '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",',
    '   "config": {',
    '      "mediaType": "application/vnd.docker.container.image.v1+json",',
    '      "size": 1457,',
    `      "digest": "${D('a')}"`,
    '   },',
    '   "layers": [',
    '      {',
    '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",',
    '         "size": 772788,',
    `         "digest": "${D('b')}"`,
    '      }',
    '   ]',
    '}',
  ].join('\n');
  assert.equal(m.toString(), want);
});
