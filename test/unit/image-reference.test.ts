import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  familiarName,
  familiarString,
  parseAnyReference,
  parseDockerRef,
  parseNormalizedNamed,
  referenceMatches,
  refName,
  refString,
  withTag,
} from '../../src/image/reference.js';
import { pathMatch } from '../../src/image/path-match.js';
import { BerthError } from '../../src/util/errors.js';

const FF = 'f'.repeat(64);
const HEX = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
    assert.equal(err.kind, 'InvalidParameter');
    return err.message;
  }
  assert.fail('expected an error');
}

// What users type → canonical string, familiar string, domain, path (distribution/reference cases).
const normalised: Array<[string, string, string, string, string]> = [
  ['busybox', 'docker.io/library/busybox', 'busybox', 'docker.io', 'library/busybox'],
  ['busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest', 'docker.io', 'library/busybox'],
  ['library/busybox', 'docker.io/library/busybox', 'busybox', 'docker.io', 'library/busybox'],
  ['docker.io/busybox', 'docker.io/library/busybox', 'busybox', 'docker.io', 'library/busybox'],
  ['index.docker.io/library/busybox', 'docker.io/library/busybox', 'busybox', 'docker.io', 'library/busybox'],
  ['user/app', 'docker.io/user/app', 'user/app', 'docker.io', 'user/app'],
  ['user/app:v1', 'docker.io/user/app:v1', 'user/app:v1', 'docker.io', 'user/app'],
  ['library/foo/bar', 'docker.io/library/foo/bar', 'library/foo/bar', 'docker.io', 'library/foo/bar'],
  ['localhost/fooo', 'localhost/fooo', 'localhost/fooo', 'localhost', 'fooo'],
  ['localhost:5000/x', 'localhost:5000/x', 'localhost:5000/x', 'localhost:5000', 'x'],
  ['127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox', '127.0.0.1:5000/busybox', '127.0.0.1:5000', 'busybox'],
  ['127.0.0.1:5000/busybox:latest', '127.0.0.1:5000/busybox:latest', '127.0.0.1:5000/busybox:latest', '127.0.0.1:5000', 'busybox'],
  ['192.168.245.136:5000/daocloud.io/library/mysql', '192.168.245.136:5000/daocloud.io/library/mysql', '192.168.245.136:5000/daocloud.io/library/mysql', '192.168.245.136:5000', 'daocloud.io/library/mysql'],
  ['daocloud.io/library/centos:7', 'daocloud.io/library/centos:7', 'daocloud.io/library/centos:7', 'daocloud.io', 'library/centos'],
  ['example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000/private/moonbase', 'example.com:8000', 'private/moonbase'],
  ['Foo/bar', 'Foo/bar', 'Foo/bar', 'Foo', 'bar'],
  ['LOCALDOMAIN/debian', 'LOCALDOMAIN/debian', 'LOCALDOMAIN/debian', 'LOCALDOMAIN', 'debian'],
  ['[fc00::1]:5000/docker', '[fc00::1]:5000/docker', '[fc00::1]:5000/docker', '[fc00::1]:5000', 'docker'],
  ['test_com/foo', 'docker.io/test_com/foo', 'test_com/foo', 'docker.io', 'test_com/foo'],
  ['dock__er/docker', 'docker.io/dock__er/docker', 'dock__er/docker', 'docker.io', 'dock__er/docker'],
  ['docker---rules/docker', 'docker.io/docker---rules/docker', 'docker---rules/docker', 'docker.io', 'docker---rules/docker'],
  ['lowercase:Uppercase', 'docker.io/library/lowercase:Uppercase', 'lowercase:Uppercase', 'docker.io', 'library/lowercase'],
  [`busybox:latest@sha256:${FF}`, `docker.io/library/busybox:latest@sha256:${FF}`, `busybox:latest@sha256:${FF}`, 'docker.io', 'library/busybox'],
  [`docker.io/${HEX}`, `docker.io/library/${HEX}`, HEX, 'docker.io', `library/${HEX}`],
];

test('parseNormalizedNamed normalises as Docker does', () => {
  for (const [input, full, familiar, domain, path] of normalised) {
    const ref = parseNormalizedNamed(input);
    assert.equal(refString(ref), full, input);
    assert.equal(familiarString(ref), familiar, input);
    assert.equal(ref.domain, domain, input);
    assert.equal(ref.path, path, input);
  }
});

const bad: Array<[string, string]> = [
  ['', 'invalid reference format'],
  [':justtag', 'invalid reference format'],
  [`@sha256:${FF}`, 'invalid reference format'],
  ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
  ['Uppercase:tag', 'invalid reference format: repository name (library/Uppercase) must be lowercase'],
  ['docker/Docker', 'invalid reference format: repository name (docker/Docker) must be lowercase'],
  ['test:5000/Uppercase/lowercase:tag', 'invalid reference format: repository name (Uppercase/lowercase) must be lowercase'],
  [HEX, `invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`],
  ['https://github.com/docker/docker', 'invalid reference format'],
  ['-docker', 'invalid reference format'],
  ['-docker/docker', 'invalid reference format'],
  ['docker-/docker', 'invalid reference format'],
  ['docker///docker', 'invalid reference format'],
  ['____/____', 'invalid reference format'],
  ['dock..er/docker', 'invalid reference format'],
  ['dock_.er/docker', 'invalid reference format'],
  ['docker/', 'invalid reference format'],
  ['aa/asdf$$^/aa', 'invalid reference format'],
  ['busybox:', 'invalid reference format'],
  ['busybox:-tag', 'invalid reference format'],
  ['[fc00::1]:5000', 'invalid reference format'],
  ['[fe80::1%eth0]:5000/debian', 'invalid reference format'],
  [`repo@sha256:${'f'.repeat(34)}`, 'invalid checksum digest length'],
  [`validname@invaliddigest:${FF}`, 'unsupported digest algorithm'],
  [`validname@sha512:${'f'.repeat(128)}`, 'unsupported digest algorithm'],
  [`domain/${'a'.repeat(256)}:tag`, 'repository name must not be more than 255 characters'],
];

test('parseNormalizedNamed rejects bad names with Docker’s messages', () => {
  for (const [input, msg] of bad) assert.equal(errorOf(() => parseNormalizedNamed(input)), msg, JSON.stringify(input));
});

test('long names: 255 path characters pass, tags do not count', () => {
  const ref = parseNormalizedNamed(`example.com/${'a'.repeat(255)}:tag`);
  assert.equal(ref.path.length, 255);
  const many = parseNormalizedNamed(`${'a/'.repeat(127)}a:tag-puts-this-over-max`);
  assert.equal(many.tag, 'tag-puts-this-over-max');
});

test('parseAnyReference: a 64-hex string or sha256 digest is an image ID', () => {
  assert.deepEqual(parseAnyReference(HEX), { kind: 'digest', digest: `sha256:${HEX}` });
  assert.deepEqual(parseAnyReference(`sha256:${HEX}`), { kind: 'digest', digest: `sha256:${HEX}` });
  const shorter = parseAnyReference(HEX.slice(0, 63));
  assert.equal(shorter.kind, 'named');
  const short = parseAnyReference('dbcc1');
  assert.ok(short.kind === 'named' && refString(short.ref) === 'docker.io/library/dbcc1');
  const prefixed = parseAnyReference('sha256:dbcc1');
  assert.ok(prefixed.kind === 'named' && refString(prefixed.ref) === 'docker.io/library/sha256:dbcc1');
  assert.equal(errorOf(() => parseAnyReference('Nope')), 'invalid reference format: repository name (library/Nope) must be lowercase');
});

test('parseDockerRef adds :latest and drops a tag next to a digest', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:latest', 'docker.io/library/busybox:latest'],
    [`busybox@sha256:${FF}`, `docker.io/library/busybox@sha256:${FF}`],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
    [`gcr.io/library/busybox:latest@sha256:${FF}`, `gcr.io/library/busybox@sha256:${FF}`],
  ];
  for (const [input, want] of cases) assert.equal(refString(parseDockerRef(input)), want, input);
});

test('withTag validates the tag', () => {
  const ref = parseNormalizedNamed('busybox');
  assert.equal(familiarString(withTag(ref, 'v1.2_3-rc')), 'busybox:v1.2_3-rc');
  assert.equal(errorOf(() => withTag(ref, '-foo')), 'invalid tag format');
  assert.equal(errorOf(() => withTag(ref, 'a'.repeat(129))), 'invalid tag format');
  assert.equal(familiarName(ref), 'busybox');
  assert.equal(refName(ref), 'docker.io/library/busybox');
});

test('reference filter patterns match familiar and canonical forms', () => {
  const cases: Array<[string, string, boolean]> = [
    ['foo', 'foo/**/ba[rz]', false],
    ['foo/any/bat', 'foo/**/ba[rz]', false],
    ['foo/a/bar', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/**/ba[rz]', true],
    ['foo/c/baz:tag', 'foo/*/baz:tag', true],
    ['example.com/foo/c/baz:tag', '*/foo/c/baz', true],
    ['example.com/foo/c/baz:tag', 'example.com/foo/c/baz', true],
    ['busybox:latest', 'busy*', true],
    ['busybox:latest', 'busybox:*', true],
    ['busybox:latest', 'busybox:1*', false],
    ['busybox:latest', 'docker.io/library/busybox', true],
    ['busybox:latest', 'docker.io/library/busybox:latest', true],
    ['busybox:latest', 'bus?box', true],
    ['busybox:latest', 'b[^x]sybox', true],
    ['user/app:v1', 'app*', false],
    ['user/app:v1', '*/app', true],
  ];
  for (const [ref, pattern, want] of cases) {
    assert.equal(referenceMatches(pattern, parseNormalizedNamed(ref)), want, `${pattern} ~ ${ref}`);
  }
  assert.equal(errorOf(() => referenceMatches('[-x]', parseNormalizedNamed('foo'))), 'syntax error in pattern');
});

test('pathMatch follows Go path.Match', () => {
  const cases: Array<[string, string, boolean | 'bad']> = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['*x', 'xxx', true],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[', 'a', 'bad'],
    ['[^', 'a', 'bad'],
    ['[^bc', 'a', 'bad'],
    ['a[', 'a', 'bad'],
    ['[]a]', ']', 'bad'],
    ['[-]', '-', 'bad'],
    ['[x-]', 'x', 'bad'],
    ['[a-b-c]', 'a', 'bad'],
    ['\\', 'a', 'bad'],
  ];
  for (const [pattern, name, want] of cases) {
    if (want === 'bad') assert.equal(errorOf(() => pathMatch(pattern, name)), 'syntax error in pattern', pattern);
    else assert.equal(pathMatch(pattern, name), want, `${pattern} ~ ${name}`);
  }
});
