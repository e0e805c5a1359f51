import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenges } from '../../src/distribution/challenge.js';
import {
  authConfigKey,
  basicCredentials,
  convertToHostname,
  decodeAuthConfig,
  encodeAuthConfig,
  fromJson,
  INDEX_SERVER,
} from '../../src/distribution/auth-config.js';
import { splitSearchTerm } from '../../src/distribution/search-term.js';

test('WWW-Authenticate challenges', () => {
  const cases: Array<[string | string[] | undefined, Array<{ scheme: string; params: Record<string, string> }>]> = [
    [undefined, []],
    ['', []],
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    // Token values, odd spacing, upper-case names, escaped quotes.
    ['BASIC  Realm = registry , charset="UTF-8"', [{ scheme: 'basic', params: { realm: 'registry', charset: 'UTF-8' } }]],
    ['Bearer realm="a\\"b"', [{ scheme: 'bearer', params: { realm: 'a"b' } }]],
    // Two challenges in one header, and in two headers.
    [
      'Basic realm="x", Bearer realm="https://t/token",error="invalid_token"',
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', error: 'invalid_token' } },
      ],
    ],
    [['Basic realm="x"', 'Bearer realm="y"'], [{ scheme: 'basic', params: { realm: 'x' } }, { scheme: 'bearer', params: { realm: 'y' } }]],
    ['Negotiate', [{ scheme: 'negotiate', params: {} }]],
  ];
  for (const [header, want] of cases) assert.deepEqual(parseChallenges(header), want, JSON.stringify(header));
});

test('X-Registry-Auth: base64url JSON as docker encodes it; lenient decoding', () => {
  const enc = encodeAuthConfig({ username: 'alice', password: 'p?>w~', serveraddress: '127.0.0.1:5000' });
  assert.doesNotMatch(enc, /[+/]/);
  assert.equal(Buffer.from(enc.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString(), '{"username":"alice","password":"p?>w~","serveraddress":"127.0.0.1:5000"}');
  assert.equal(encodeAuthConfig({}), 'e30=');
  assert.deepEqual(decodeAuthConfig(enc), { username: 'alice', password: 'p?>w~', serveraddress: '127.0.0.1:5000' });
  // Standard base64, no padding, Go-style capitalised keys: all accepted.
  const std = Buffer.from('{"Username":"bob","Password":"x"}').toString('base64').replace(/=+$/, '');
  assert.deepEqual(decodeAuthConfig(std), { username: 'bob', password: 'x' });
  for (const bad of [undefined, '', 'e30=', '!!!', Buffer.from('[1,2]').toString('base64'), Buffer.from('"s"').toString('base64')]) {
    assert.deepEqual(decodeAuthConfig(bad), {}, String(bad));
  }
  assert.deepEqual(fromJson({ username: 1, password: 'x', other: 'y' }), { password: 'x' });
});

test('credentials from username/password or from the config.json "auth" field', () => {
  assert.deepEqual(basicCredentials({ username: 'a', password: 'b' }), { username: 'a', password: 'b' });
  assert.deepEqual(basicCredentials({ auth: Buffer.from('u:p:with:colons').toString('base64') }), { username: 'u', password: 'p:with:colons' });
  assert.equal(basicCredentials({ username: 'a' }), null);
  assert.equal(basicCredentials({}), null);
  assert.equal(basicCredentials({ auth: Buffer.from('nocolon').toString('base64') }), null);
});

test('server addresses and config.json keys', () => {
  assert.equal(convertToHostname('https://index.docker.io/v1/'), 'index.docker.io');
  assert.equal(convertToHostname('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(convertToHostname('127.0.0.1:5000/v2/'), '127.0.0.1:5000');
  assert.equal(convertToHostname('localhost:5000'), 'localhost:5000');
  assert.equal(authConfigKey('docker.io'), INDEX_SERVER);
  assert.equal(authConfigKey('index.docker.io'), INDEX_SERVER);
  assert.equal(authConfigKey('127.0.0.1:5000'), '127.0.0.1:5000');
});

test('search terms name Docker Hub unless the first part looks like a registry', () => {
  const cases: Array<[string, [string, string]]> = [
    ['busybox', ['docker.io', 'busybox']],
    ['library/busybox', ['docker.io', 'library/busybox']],
    ['user/app', ['docker.io', 'user/app']],
    ['127.0.0.1:5000/busybox', ['127.0.0.1:5000', 'busybox']],
    ['localhost/x', ['localhost', 'x']],
    ['registry.example/a/b', ['registry.example', 'a/b']],
  ];
  for (const [term, want] of cases) assert.deepEqual(splitSearchTerm(term), want, term);
});
