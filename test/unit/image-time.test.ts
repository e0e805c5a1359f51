import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatRfc3339Nano,
  normaliseRfc3339,
  parseFilterTimestamp,
  parseGoDuration,
  parseRfc3339Ns,
  unixSeconds,
} from '../../src/image/time.js';
import { BerthError } from '../../src/util/errors.js';

test('RFC 3339 with nanoseconds, as Go writes and reads it', () => {
  const cases: Array<[string, bigint]> = [
    ['2024-01-02T03:04:05Z', 1704164645_000000000n],
    ['2024-01-02T03:04:05.5Z', 1704164645_500000000n],
    ['2024-01-02T03:04:05.123456789Z', 1704164645_123456789n],
    ['2024-01-02T05:04:05.000000001+02:00', 1704164645_000000001n],
    ['0001-01-01T00:00:00Z', -62135596800_000000000n],
  ];
  for (const [s, ns] of cases) assert.equal(parseRfc3339Ns(s), ns, s);
  assert.equal(formatRfc3339Nano(1704164645_123456789n), '2024-01-02T03:04:05.123456789Z');
  assert.equal(formatRfc3339Nano(1704164645_120000000n), '2024-01-02T03:04:05.12Z');
  assert.equal(formatRfc3339Nano(1704164645_000000000n), '2024-01-02T03:04:05Z');
  assert.equal(parseRfc3339Ns('yesterday'), null);
  assert.equal(unixSeconds('2024-01-02T03:04:05.9Z'), 1704164645);
  assert.equal(unixSeconds(undefined), 0);
  assert.equal(normaliseRfc3339('2024-01-02T03:04:05.120000000Z'), '2024-01-02T03:04:05.12Z');
  assert.equal(normaliseRfc3339('2024-01-02T03:04:05.000Z'), '2024-01-02T03:04:05Z');
  assert.equal(normaliseRfc3339(undefined), '0001-01-01T00:00:00Z');
});

test('Go durations', () => {
  const cases: Array<[string, number]> = [['0', 0], ['5s', 5e9], ['1m30s', 90e9], ['1.5h', 5400e9], ['300ms', 3e8], ['2us', 2000], ['-1h', -3600e9], ['10µs', 10000]];
  for (const [s, ns] of cases) assert.equal(parseGoDuration(s), ns, s);
  const bad: Array<[string, string]> = [
    ['', 'time: invalid duration ""'],
    ['5', 'time: missing unit in duration "5"'],
    ['5x', 'time: unknown unit "x" in duration "5x"'],
    ['.s', 'time: invalid duration ".s"'],
  ];
  for (const [s, msg] of bad) assert.throws(() => parseGoDuration(s), (e: unknown) => e instanceof BerthError && e.message === msg, s);
});

test('filter timestamps: durations, unix seconds, dates', () => {
  const now = Date.UTC(2024, 0, 10);
  assert.equal(parseFilterTimestamp('24h', now), BigInt(Date.UTC(2024, 0, 9)) * 1_000_000n);
  assert.equal(parseFilterTimestamp('1704164645', now), 1704164645_000000000n);
  assert.equal(parseFilterTimestamp('1704164645.25', now), 1704164645_250000000n);
  assert.equal(parseFilterTimestamp('2024-01-02T03:04:05Z', now), 1704164645_000000000n);
  assert.equal(typeof parseFilterTimestamp('2024-01-02', now), 'bigint');
  assert.throws(() => parseFilterTimestamp('whenever', now), { message: 'failed to parse value as time or duration: "whenever"' });
});
