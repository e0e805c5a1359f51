import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, humanSize } from '../../src/util/units.js';
import { parseSignal } from '../../src/util/signals.js';

test('humanDuration as go-units', () => {
  const cases: Array<[number, string]> = [
    [500, 'Less than a second'], [1000, '1 second'], [45_000, '45 seconds'], [60_000, 'About a minute'],
    [5 * 60_000, '5 minutes'], [3_600_000, 'About an hour'], [5 * 3_600_000, '5 hours'],
    [3 * 86_400_000, '3 days'], [15 * 86_400_000, '2 weeks'], [90 * 86_400_000, '3 months'], [800 * 86_400_000, '2 years'],
  ];
  for (const [ms, s] of cases) assert.equal(humanDuration(ms), s, `${ms}`);
});

test('humanSize as units.HumanSizeWithPrecision(…, 3)', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(512), '512B');
  assert.equal(humanSize(4_261_000), '4.26MB');
  assert.equal(humanSize(1_000_000), '1MB');
  assert.equal(humanSize(1_234_567_890), '1.23GB');
});

test('signals by name, short name and number', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal(undefined, 'SIGKILL'), 9);
  assert.throws(() => parseSignal('NOPE'), /Invalid signal: NOPE/);
});
