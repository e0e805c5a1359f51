import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from '../../src/util/signals.js';

test('signals by name, short name and number', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal(undefined, 'SIGKILL'), 9);
  assert.throws(() => parseSignal('NOPE'), /Invalid signal: NOPE/);
  assert.throws(() => parseSignal('0'), /Invalid signal: 0/);
});
