import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentile, summarize } from '../../bench/lib/stats.js';

test('percentile uses the nearest rank', () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const cases: [number, number][] = [[0, 1], [10, 1], [50, 5], [90, 9], [91, 10], [100, 10]];
  for (const [p, want] of cases) assert.equal(percentile(s, p), want, `p${p}`);
  assert.equal(percentile([7], 90), 7);
  assert.ok(Number.isNaN(percentile([], 90)));
  for (const bad of [-1, 101, NaN]) assert.throws(() => percentile(s, bad), RangeError);
});

test('median of odd, even and empty sets', () => {
  assert.equal(median([1, 2, 9]), 2);
  assert.equal(median([1, 2, 4, 9]), 3);
  assert.ok(Number.isNaN(median([])));
});

test('summarize sorts its own copy and rejects non-finite samples', () => {
  const samples = [300, 100, 200, 500, 400];
  const s = summarize(samples);
  assert.deepEqual(samples, [300, 100, 200, 500, 400]);
  assert.deepEqual(s, { n: 5, min: 100, median: 300, p90: 500, max: 500, mean: 300 });
  assert.throws(() => summarize([1, NaN]), RangeError);
  assert.throws(() => summarize([1, Infinity]), RangeError);
  assert.equal(summarize([]).n, 0);
});
