import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortedMap } from '../../src/util/sorted-map.js';

test('sortedMap orders keys as Go marshals a map (byte order), and keeps null', () => {
  assert.deepEqual(Object.keys(sortedMap({ zeta: 1, Alpha: 2, alpha: 3, 'a.b': 4 })), ['Alpha', 'a.b', 'alpha', 'zeta']);
  assert.equal(sortedMap(null), null);
  assert.equal(sortedMap(undefined), null);
});
