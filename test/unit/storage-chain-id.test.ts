import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chainId, chainIds } from '../../src/storage/chain-id.js';
import { BerthError } from '../../src/util/errors.js';

// Digests of "a", "b", "c"; expected chain ids computed independently with sha256sum:
// printf 'sha256:<a> sha256:<b>' | sha256sum
const a = 'sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';
const b = 'sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d';
const c = 'sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6';
const ab = 'sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676';
const abc = 'sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106';

test('chain id of a base layer is its diff id', () => {
  assert.equal(chainId(null, a), a);
});

test('chain id of a stacked layer hashes "parent diff"', () => {
  assert.equal(chainId(a, b), ab);
  assert.equal(chainId(ab, c), abc);
  assert.notEqual(chainId(b, a), ab, 'order matters');
});

test('chainIds walks a whole rootfs', () => {
  assert.deepEqual(chainIds([a, b, c]), [a, ab, abc]);
  assert.deepEqual(chainIds([]), []);
});

test('chain id rejects malformed digests', () => {
  const bad: Array<[string | null, string]> = [
    [null, ''],
    [null, 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'],
    [null, 'sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB'],
    [null, 'sha512:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb'],
    [null, 'sha256:ca97'],
    ['sha256:nothex', b],
    [a, `${b} `],
  ];
  for (const [parent, diff] of bad) {
    assert.throws(() => chainId(parent, diff), (err: unknown) => err instanceof BerthError && err.kind === 'InvalidParameter', `${parent} ${diff}`);
  }
});
