import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLogsReadable, logSizeMax, validateLogConfig, logDetailsPrefix } from '../../src/container/log-config.js';
import { defaultHostConfig } from '../../src/container/create-config.js';

test('log drivers: json-file by default, local and none; unknown drivers and options refused as dockerd does', () => {
  assert.doesNotThrow(() => validateLogConfig(undefined));
  assert.doesNotThrow(() => validateLogConfig({ Type: '', Config: {} }));
  assert.doesNotThrow(() => validateLogConfig({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } }));
  assert.doesNotThrow(() => validateLogConfig({ Type: 'none' }));
  assert.throws(() => validateLogConfig({ Type: 'syslog' }), { message: "logger: no log driver named 'syslog' is registered" });
  assert.throws(() => validateLogConfig({ Type: 'json-file', Config: { foo: '1' } }), { message: "unknown log opt 'foo' for json-file log driver" });
  assert.throws(() => validateLogConfig({ Type: 'none', Config: { 'max-size': '1m' } }), { message: "unknown log opt 'max-size' for none log driver" });
  assert.throws(() => assertLogsReadable('none'), { message: 'configured logging driver does not support reading', kind: 'NotImplemented' });
  assert.doesNotThrow(() => assertLogsReadable('json-file'));
});

test('max-size in bytes with Docker units; a bad size refused at create', () => {
  assert.equal(logSizeMax({ Config: { 'max-size': '10m' } }), 10 * 1024 * 1024);
  assert.equal(logSizeMax({ Config: { 'max-size': '2k' } }), 2048);
  assert.equal(logSizeMax({ Config: {} }), undefined);
  assert.equal(logSizeMax(undefined), undefined);
  assert.throws(() => validateLogConfig({ Type: '', Config: { 'max-size': 'abc' } }), { message: "invalid size: 'abc'" });
});

test('a create with --log-opt and no --log-driver keeps its options under json-file', () => {
  const hc = defaultHostConfig({ LogConfig: { Type: '', Config: { 'max-size': '1m' } } });
  assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
});

test('logs --details prefix: the named labels and env, sorted, query-escaped, then a space', () => {
  const labels = { app: 'web', tier: 'front end', 'com.x/y': 'a&b', other: 'no' };
  const env = ['PATH=/bin', 'E=1', 'EMPTY=', 'NOVALUE', 'SECRET=s'];
  const cases: Array<[Record<string, string> | null, string]> = [
    [null, ' '],
    [{}, ' '],
    [{ labels: 'app' }, 'app=web '],
    [{ labels: 'tier,app,missing' }, 'app=web,tier=front+end '],
    [{ 'labels-regex': '^com\\.' }, 'com.x%2Fy=a%26b '],
    [{ env: 'E,EMPTY,NOVALUE' }, 'E=1,EMPTY= '],
    [{ 'env-regex': '^P' }, 'PATH=%2Fbin '],
    [{ labels: 'app', env: 'E' }, 'E=1,app=web '],
    [{ 'labels-regex': '(' }, ' '],
  ];
  for (const [opts, want] of cases) assert.equal(logDetailsPrefix(opts === null ? null : { Config: opts }, labels, env), want, JSON.stringify(opts));
  assert.equal(logDetailsPrefix({ Config: { env: 'E' } }, null, null), ' ');
});
