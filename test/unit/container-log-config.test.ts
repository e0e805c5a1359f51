import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLogsReadable, validateLogConfig } from '../../src/container/log-config.js';

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
