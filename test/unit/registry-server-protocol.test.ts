import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES, RegistryError, registryError } from '../../src/distribution/server/errors.js';
import { acceptedTypes, describeStoredManifest, MEDIA_TYPES, negotiate, parseManifest } from '../../src/distribution/server/manifest.js';
import { searchRepositories } from '../../src/distribution/server/search.js';
import { parseListenAddress } from '../../src/distribution/server/server.js';
import { parseBasicAuth } from '../../src/distribution/server/auth.js';
import { parseLdd } from '../../src/image/bootstrap-registry.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('errors have the spec JSON shape, distribution messages and statuses', () => {
  const e = registryError('MANIFEST_UNKNOWN', { Tag: 'latest' });
  assert.equal(e.status, 404);
  assert.deepEqual(JSON.parse(e.body()), { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'latest' } }] });
  // No detail: the field is left out, as Go's omitempty does.
  assert.deepEqual(JSON.parse(registryError('UNAUTHORIZED').body()), { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
  assert.equal(registryError('MANIFEST_UNKNOWN', undefined, 'OCI index found').entries[0].message, 'OCI index found');
  const statuses = Object.fromEntries(Object.entries(ERROR_CODES).map(([k, [s]]) => [k, s]));
  assert.deepEqual(
    [statuses.BLOB_UNKNOWN, statuses.NAME_UNKNOWN, statuses.UNAUTHORIZED, statuses.DIGEST_INVALID, statuses.UNSUPPORTED, statuses.RANGE_INVALID, statuses.MANIFEST_BLOB_UNKNOWN],
    [404, 404, 401, 400, 405, 416, 400],
  );
  const many = RegistryError.of([
    { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: d('a') },
    { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: d('b') },
  ]);
  assert.equal(many.status, 400);
  assert.equal(JSON.parse(many.body()).errors.length, 2);
  assert.deepEqual(registryError('UNAUTHORIZED').withHeaders({ 'WWW-Authenticate': 'Basic realm="r"' }).headers, { 'WWW-Authenticate': 'Basic realm="r"' });
});

const schema2 = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerManifest,
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 10, digest: d('c') },
  layers: [
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 5, digest: d('1') },
    { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', size: 5, digest: d('2'), urls: ['https://example.invalid/x'] },
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 5, digest: d('1') },
  ],
};
const list = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerList,
  manifests: [
    { mediaType: MEDIA_TYPES.dockerManifest, size: 1, digest: d('a'), platform: { os: 'linux', architecture: 'arm64' } },
    { mediaType: MEDIA_TYPES.dockerManifest, size: 1, digest: d('b'), platform: { os: 'linux', architecture: 'amd64' } },
  ],
};

test('manifests: media type, referenced blobs (foreign layers skipped, duplicates once), lists', () => {
  assert.deepEqual(parseManifest(json(schema2)), { mediaType: MEDIA_TYPES.dockerManifest, blobs: [d('c'), d('1')], manifests: [] });
  const l = parseManifest(json(list));
  assert.equal(l.mediaType, MEDIA_TYPES.dockerList);
  assert.deepEqual(l.manifests.map((m) => m.digest), [d('a'), d('b')]);
  // OCI without mediaType in the body: from Content-Type, else from the shape.
  const { mediaType: _m, ...oci } = schema2;
  assert.equal(parseManifest(json(oci), MEDIA_TYPES.ociManifest).mediaType, MEDIA_TYPES.ociManifest);
  assert.equal(parseManifest(json(oci), 'application/json').mediaType, MEDIA_TYPES.ociManifest);
  assert.equal(parseManifest(json({ schemaVersion: 2, manifests: [] })).mediaType, MEDIA_TYPES.ociIndex);
});

test('manifests that are refused: MANIFEST_INVALID', () => {
  const bad: Array<[unknown, string?]> = [
    ['not json'],
    [[1, 2]],
    [{ ...schema2, schemaVersion: 1 }],
    [{ ...schema2, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }],
    [schema2, MEDIA_TYPES.ociManifest], // body and Content-Type disagree
    [{ ...schema2, layers: undefined }],
    [{ ...schema2, config: { size: 1 } }],
    [{ ...schema2, layers: [{ digest: 'sha256:short' }] }],
    [{ ...list, manifests: 'x' }],
    [{ schemaVersion: 2 }],
  ];
  for (const [body, ct] of bad) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : json(body);
    assert.throws(
      () => parseManifest(bytes, ct),
      (e: unknown) => e instanceof RegistryError && e.entries[0].code === 'MANIFEST_INVALID' && e.status === 400,
      JSON.stringify(body),
    );
  }
  // A stored one from elsewhere is still described, never thrown on.
  assert.equal(describeStoredManifest(json({ schemaVersion: 1, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' })).mediaType, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
  assert.equal(describeStoredManifest(Buffer.from('{')).mediaType, 'application/json');
});

test('Accept negotiation', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  assert.equal(acceptedTypes([]), 'any');
  assert.equal(acceptedTypes(['*/*']), 'any');
  const docker = acceptedTypes([`${MEDIA_TYPES.dockerManifest}, ${MEDIA_TYPES.dockerList};q=0.9`]);
  assert.ok(docker !== 'any' && docker.has(MEDIA_TYPES.dockerList));
  const oci = parseManifest(json({ ...schema2, mediaType: MEDIA_TYPES.ociManifest }));
  assert.deepEqual(negotiate(oci, 'any', true, amd64), { kind: 'serve' });
  assert.equal(negotiate(oci, docker, true, amd64).kind, 'refuse');
  const idx = parseManifest(json({ ...list, mediaType: MEDIA_TYPES.ociIndex }));
  assert.equal(negotiate(idx, docker, true, amd64).kind, 'refuse');
  // An old client asking a manifest list by tag gets this platform's manifest.
  const l = parseManifest(json(list));
  const onlySchema2 = acceptedTypes([MEDIA_TYPES.dockerManifest]);
  assert.deepEqual(negotiate(l, onlySchema2, true, amd64), { kind: 'platform', digest: d('b') });
  assert.equal(negotiate(l, onlySchema2, true, { os: 'linux', architecture: 's390x' }).kind, 'refuse');
  assert.deepEqual(negotiate(l, onlySchema2, false, amd64), { kind: 'serve' });
  assert.deepEqual(negotiate(l, docker, true, amd64), { kind: 'serve' });
});

test('v1 search: substring match, paging, Docker Hub field names', () => {
  const repos = ['busybox', 'daocloud.io/library/mysql', 'library/BusyBox-extra', 'nginx'];
  const r = searchRepositories(repos, new URLSearchParams('q=busy&n=25'));
  assert.equal(r.num_results, 2);
  assert.equal(r.query, 'busy');
  assert.deepEqual(r.results[0], { name: 'busybox', description: '', star_count: 0, is_official: false, is_automated: false });
  const p2 = searchRepositories(repos, new URLSearchParams('q=&n=3&page=2'));
  assert.deepEqual(p2.results.map((x) => x.name), ['nginx']);
  assert.equal(p2.num_pages, 2);
  assert.equal(searchRepositories(repos, new URLSearchParams('q=nothing')).num_results, 0);
  assert.equal(searchRepositories(repos, new URLSearchParams('n=500')).page_size, 100);
});

test('listen addresses', () => {
  assert.deepEqual(parseListenAddress('0.0.0.0:5000'), { host: '0.0.0.0', port: 5000 });
  assert.deepEqual(parseListenAddress(':5000'), { host: '', port: 5000 });
  assert.deepEqual(parseListenAddress('[::]:5000'), { host: '::', port: 5000 });
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('5000'), { host: '', port: 5000 });
  for (const bad of ['', 'host', 'host:', 'host:x', 'a:1:2', 'h:70000']) assert.throws(() => parseListenAddress(bad), /invalid listen address/, bad);
});

test('Basic credentials', () => {
  const b = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.deepEqual(parseBasicAuth(b('alice:pa:ss')), { user: 'alice', password: 'pa:ss' });
  assert.deepEqual(parseBasicAuth(b('alice:')), { user: 'alice', password: '' });
  assert.equal(parseBasicAuth(undefined), null);
  assert.equal(parseBasicAuth(b('nocolon')), null);
  assert.equal(parseBasicAuth('Bearer abc'), null);
});

test('ldd output: libraries and the loader, vdso skipped, missing ones fail', () => {
  const out = [
    '\tlinux-vdso.so.1 (0x00007ffc)',
    '\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007f27)',
    '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f27)',
    '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f27)',
    '\t/lib64/ld-linux-x86-64.so.2 (0x00007f27)',
    '',
  ].join('\n');
  assert.deepEqual(parseLdd(out), ['/lib/x86_64-linux-gnu/libdl.so.2', '/lib/x86_64-linux-gnu/libstdc++.so.6', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  assert.deepEqual(parseLdd('\tstatically linked\n'), []);
  assert.throws(() => parseLdd('\tlibfoo.so.1 => not found\n'), /not found/);
});
