import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostError, parseHost, resolveHost } from '../../src/client/host.js';
import { encodeQuery } from '../../src/client/transport.js';
import { encodeFilters } from '../../src/client/engine-client.js';

test('host resolution: -H, then BERTH_HOST, then DOCKER_HOST, then the default socket', () => {
  assert.deepEqual(resolveHost([], {}), { kind: 'unix', path: '/run/berth/berth.sock', url: 'unix:///run/berth/berth.sock' });
  assert.equal(resolveHost([], { DOCKER_HOST: 'unix:///d.sock' }).url, 'unix:///d.sock');
  assert.equal(resolveHost([], { DOCKER_HOST: 'unix:///d.sock', BERTH_HOST: 'unix:///b.sock' }).url, 'unix:///b.sock');
  assert.equal(resolveHost(['unix:///h.sock'], { BERTH_HOST: 'unix:///b.sock' }).url, 'unix:///h.sock');
  assert.throws(() => resolveHost(['unix:///a', 'unix:///b'], {}), (e: unknown) => e instanceof HostError && e.message === 'Specify only one -H');
});

test('host syntax', () => {
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375, url: 'tcp://127.0.0.1:2375' });
  assert.deepEqual(parseHost('tcp://:2376'), { kind: 'tcp', host: '127.0.0.1', port: 2376, url: 'tcp://127.0.0.1:2376' });
  assert.deepEqual(parseHost('tcp://example:'), { kind: 'tcp', host: 'example', port: 2375, url: 'tcp://example:2375' });
  assert.equal(parseHost('tcp://[::1]:80').url, 'tcp://[::1]:80');
  assert.equal(parseHost('unix://').url, 'unix:///run/berth/berth.sock');
  assert.throws(() => parseHost('http://x'), /invalid bind address format: http:\/\/x/);
  assert.throws(() => parseHost('localhost:2375'), /invalid bind address format/);
  assert.throws(() => parseHost('tcp://h:port'), /invalid bind address format/);
  assert.throws(() => parseHost('unix://a://b'), /invalid proto, expected unix/);
});

test('query strings are encoded in sorted key order, repeated keys kept, empty values dropped', () => {
  assert.equal(encodeQuery({ tag: 'latest', fromImage: 'docker.io/library/busybox' }), '?fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest');
  assert.equal(encodeQuery({ changes: ['CMD ["sh"]', 'ENV A=1'], x: undefined, y: null }), '?changes=CMD+%5B%22sh%22%5D&changes=ENV+A%3D1');
  assert.equal(encodeQuery({}), '');
  assert.equal(encodeFilters({ status: ['running', 'exited'], label: ['a=b'] }), '{"status":{"running":true,"exited":true},"label":{"a=b":true}}');
  assert.equal(encodeFilters({}), undefined);
});
