import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../src/distribution/server/errors.js';
import {
  checkRepositoryName,
  isValidRepositoryName,
  isValidTag,
  parseDigest,
  parseManifestReference,
} from '../../src/distribution/server/names.js';
import { matchRoute, nextLink, page, parsePaging } from '../../src/distribution/server/routes.js';

const HEX = 'a'.repeat(64);

test('repository names follow distribution/reference', () => {
  const good = [
    'busybox',
    'library/busybox',
    'daocloud.io/library/mysql',
    'a/b/c/d/e',
    'foo_bar',
    'foo__bar',
    'foo---bar',
    'foo.bar',
    'localhost:5000/foo',
    'Example.COM/foo',
    '[::1]:5000/foo',
    '0',
    'a'.repeat(255),
  ];
  for (const n of good) assert.equal(isValidRepositoryName(n), true, n);
  const bad = [
    '',
    'Busybox', // upper case outside the domain
    'foo/Bar',
    '-foo',
    'foo-',
    'foo..bar',
    'foo___bar',
    '_foo',
    'foo/_manifests',
    'foo/_layers/x',
    '.',
    '..',
    'foo/..',
    '../etc',
    'foo/../../etc',
    'foo//bar',
    '/foo',
    'foo/',
    'foo bar',
    'foo%2Fbar',
    'foo\0bar',
    'a'.repeat(256),
  ];
  for (const n of bad) assert.equal(isValidRepositoryName(n), false, JSON.stringify(n));
  assert.throws(
    () => checkRepositoryName('../x'),
    (e: unknown) => e instanceof RegistryError && e.status === 400 && e.entries[0].code === 'NAME_INVALID',
  );
});

test('tags, digests and manifest references', () => {
  for (const t of ['latest', 'v1.2.3', '_x', 'A-b_c.d', 'a'.repeat(128)]) assert.equal(isValidTag(t), true, t);
  for (const t of ['', '.x', '-x', 'a:b', 'a/b', 'a'.repeat(129)]) assert.equal(isValidTag(t), false, t);

  assert.deepEqual(parseDigest(`sha256:${HEX}`), { algorithm: 'sha256', hex: HEX });
  assert.deepEqual(parseDigest(`sha512:${'b'.repeat(128)}`), { algorithm: 'sha512', hex: 'b'.repeat(128) });
  for (const bad of [`sha256:${HEX.slice(1)}`, `sha256:${HEX.toUpperCase()}`, `md5:${HEX}`, HEX, `sha256:${'g'.repeat(64)}`, 'sha256:']) {
    assert.throws(
      () => parseDigest(bad),
      (e: unknown) => e instanceof RegistryError && e.entries[0].code === 'DIGEST_INVALID',
      bad,
    );
  }

  assert.deepEqual(parseManifestReference('latest'), { kind: 'tag', tag: 'latest' });
  assert.deepEqual(parseManifestReference(`sha256:${HEX}`), { kind: 'digest', digest: { algorithm: 'sha256', hex: HEX } });
  assert.throws(() => parseManifestReference('no/slash'), (e: unknown) => e instanceof RegistryError && e.entries[0].code === 'TAG_INVALID');
  assert.throws(() => parseManifestReference(`sha999:${HEX}`), (e: unknown) => e instanceof RegistryError && e.entries[0].code === 'DIGEST_INVALID');
});

test('routes: names with slashes, fixed paths, and what is not ours', () => {
  const table: Array<[string, unknown]> = [
    ['/', { kind: 'root' }],
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    ['/v2/_catalog', { kind: 'catalog' }],
    ['/v1/_ping', { kind: 'v1-ping' }],
    ['/v1/search', { kind: 'v1-search' }],
    ['/v2/a/b/c/tags/list', { kind: 'tags', name: 'a/b/c' }],
    ['/v2/busybox/manifests/latest', { kind: 'manifest', name: 'busybox', reference: 'latest' }],
    [`/v2/x/y/manifests/sha256:${HEX}`, { kind: 'manifest', name: 'x/y', reference: `sha256:${HEX}` }],
    ['/v2/busybox/blobs/uploads/', { kind: 'upload-start', name: 'busybox' }],
    ['/v2/busybox/blobs/uploads', { kind: 'upload-start', name: 'busybox' }],
    ['/v2/a/b/blobs/uploads/1234', { kind: 'upload', name: 'a/b', uuid: '1234' }],
    [`/v2/a/blobs/sha256:${HEX}`, { kind: 'blob', name: 'a', digest: `sha256:${HEX}` }],
    // A repository may be named like a route segment; the last segment decides.
    ['/v2/blobs/manifests/latest', { kind: 'manifest', name: 'blobs', reference: 'latest' }],
    ['/v2/busybox/manifests/', { kind: 'not-found' }],
    ['/v2/busybox', { kind: 'not-found' }],
    ['/v3/', { kind: 'not-found' }],
    ['/favicon.ico', { kind: 'not-found' }],
  ];
  for (const [path, want] of table) assert.deepEqual(matchRoute(path), want, path);
});

test('paging: n and last, the next link, and bad numbers', () => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);
  assert.deepEqual(parsePaging(q(''), 100), { n: 100, last: '' });
  assert.deepEqual(parsePaging(q('n=2&last=b'), 100), { n: 2, last: 'b' });
  assert.deepEqual(parsePaging(q('n=0'), 100), { n: 0, last: '' });
  for (const bad of ['n=-1', 'n=x', 'n=1.5', 'n=%201']) assert.equal(parsePaging(q(bad), 100), null, bad);

  const items = ['a', 'b', 'c', 'd', 'e'];
  assert.deepEqual(page(items, 2, ''), { items: ['a', 'b'], more: true });
  assert.deepEqual(page(items, 2, 'b'), { items: ['c', 'd'], more: true });
  assert.deepEqual(page(items, 2, 'd'), { items: ['e'], more: false });
  assert.deepEqual(page(items, 5, ''), { items, more: false });
  assert.deepEqual(page(items, 0, ''), { items: [], more: false });
  assert.deepEqual(page(items, 10, 'bb'), { items: ['c', 'd', 'e'], more: false });
  assert.deepEqual(page(items, Infinity, ''), { items, more: false });

  assert.equal(nextLink('/v2/_catalog', 2, 'a/b'), '</v2/_catalog?last=a%2Fb&n=2>; rel="next"');
});
