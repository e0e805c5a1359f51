import assert from 'node:assert/strict';
import { BerthError } from '../../src/util/errors.js';

// The message of the InvalidParameter error fn throws (the build tests' table checks).
export function invalidMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'InvalidParameter');
    return err.message;
  }
  assert.fail('expected an error');
}
