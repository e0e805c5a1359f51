import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLogsReadable, logSizeMax, validateLogConfig } from '../../src/container/log-config.js';
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
