import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachScanner, parseDetachKeys } from '../../src/api/detach-keys.js';
import { Router, filtersParam, boolParam } from '../../src/api/router.js';

test('detach keys parse like Docker', () => {
  assert.deepEqual(parseDetachKeys(null), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x'), [1, 120]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys/);
});

test('the scanner passes bytes through and detaches on the sequence', () => {
  const s = new DetachScanner([16, 17]);
  assert.deepEqual(s.scan(Buffer.from('ab')), { data: Buffer.from('ab'), detached: false });
  assert.deepEqual(s.scan(Buffer.from([16])), { data: Buffer.alloc(0), detached: false });
  assert.deepEqual(s.scan(Buffer.from('x')), { data: Buffer.from([16, 120]), detached: false });
  assert.deepEqual(s.scan(Buffer.from([99, 16, 17])), { data: Buffer.from([99]), detached: true });
});

test('router matches params, greedy names and methods', () => {
  const r = new Router();
  const h = async (): Promise<unknown> => null;
  r.add([
    { method: 'GET', path: '/images/json', handler: h },
    { method: 'GET', path: '/images/{name:.*}/json', handler: h },
    { method: 'POST', path: '/containers/{id}/start', handler: h },
  ]);
  const m = r.match('GET', '/images/127.0.0.1:5000/busybox/json');
  assert.ok(m && m !== 'method');
  assert.equal(m.params.name, '127.0.0.1:5000/busybox');
  assert.equal(r.match('GET', '/containers/abc/start'), 'method');
  assert.equal(r.match('GET', '/nope'), null);
  const list = r.match('GET', '/images/json');
  assert.ok(list && list !== 'method' && list.route.path === '/images/json');
});

test('filters accept both JSON shapes; booleans as Docker', () => {
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"status":["running"]}' })), { status: ['running'] });
  assert.deepEqual(filtersParam(new URLSearchParams({ filters: '{"status":{"exited":true}}' })), { status: ['exited'] });
  assert.equal(boolParam(new URLSearchParams('all=1'), 'all'), true);
  assert.equal(boolParam(new URLSearchParams('all=0'), 'all'), false);
  assert.equal(boolParam(new URLSearchParams('all=True'), 'all'), true);
});
