import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bcryptBase64Decode,
  bcryptBase64Encode,
  bcryptHash,
  bcryptVerify,
  blowfishInitialState,
  parseBcryptHash,
} from '../../src/distribution/bcrypt.js';
import { HtpasswdFile, parseHtpasswd, verifyHtpasswdHash } from '../../src/distribution/htpasswd.js';

// The published vectors (OpenBSD / jBCrypt / Openwall's crypt_blowfish), each also
// checked against glibc's libxcrypt on this machine.
const VECTORS: Array<[string, string]> = [
  ['', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'],
  ['', '$2a$08$HqWuK6/Ng6sg9gQzbLrgb.Tl.ZHfXLhvt/SgVyWhQqgqcZ7ZuUtye'],
  ['a', '$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe'],
  ['abc', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'],
  ['abcdefghijklmnopqrstuvwxyz', '$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC'],
  ['~!@#$%^&*()      ~!@#$%^&*()PNBFRD', '$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO'],
  ['U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  ['0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', '$2y$04$abcdefghijklmnopqrstuuRAip/W0RPQX4QKkqYqXE3GIXWH518Sm'],
  ['pässwörd', '$2b$04$saltsaltsaltsaltsaltsO03P8HowJIPuBQEodmCRtvu1cqhUhuC.'],
];

test('bcrypt reproduces the published vectors', () => {
  for (const [password, hash] of VECTORS) {
    const p = parseBcryptHash(hash)!;
    assert.ok(p, hash);
    assert.equal(bcryptHash(password, p.cost, p.salt, p.version), hash, `password ${JSON.stringify(password)}`);
    assert.equal(bcryptVerify(password, hash), true);
    if (Buffer.byteLength(password) < 72) assert.equal(bcryptVerify(`${password}x`, hash), false);
  }
});

test('bcrypt ignores everything after the 72nd byte ($2b$)', () => {
  const long = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const hash = '$2b$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui';
  assert.equal(bcryptVerify(`${long}chars after 72 are ignored`, hash), true);
  assert.equal(bcryptVerify(long, hash), true);
  assert.equal(bcryptVerify(long.slice(0, 71), hash), false);
});

test('a fresh hash verifies, with a random salt each time', () => {
  const a = bcryptHash('secret', 4);
  const b = bcryptHash('secret', 4);
  assert.match(a, /^\$2b\$04\$[./A-Za-z0-9]{53}$/);
  assert.notEqual(a, b);
  assert.ok(bcryptVerify('secret', a) && bcryptVerify('secret', b));
  assert.equal(bcryptVerify('Secret', a), false);
});

test('malformed hashes never verify', () => {
  for (const bad of [
    '',
    '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s', // one char short
    '$2x$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.', // unknown version
    '$2a$03$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.', // cost below 4
    '$2a$32$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.', // cost above 31
    '$2a$06$DCq7YPn5Rq63x1Lad4cll!TV4S6ytwfsfvkgY8jIucDrjc8deX1s.', // bad alphabet
    '$1$saltsalt$hash',
  ]) {
    assert.equal(parseBcryptHash(bad), null, bad);
    assert.equal(bcryptVerify('', bad), false, bad);
  }
});

test('Blowfish starts from the hex digits of pi', () => {
  const w = blowfishInitialState();
  assert.equal(w.length, 18 + 1024);
  // P1, P18, S1[0] and S4[255] as printed in Schneier's tables.
  assert.deepEqual([w[0], w[17], w[18], w[1041]].map((x) => x.toString(16)), ['243f6a88', '8979fb1b', 'd1310ba6', '3ac372e6']);
});

test('bcrypt base64 round-trips and rejects foreign characters', () => {
  const bytes = Buffer.from('00ff10203040506070ab', 'hex');
  assert.deepEqual(bcryptBase64Decode(bcryptBase64Encode(bytes), bytes.length), bytes);
  assert.equal(bcryptBase64Encode(Buffer.alloc(16)), '......................');
  assert.throws(() => bcryptBase64Decode('ab+d', 3), /invalid base64/);
  assert.throws(() => bcryptBase64Decode('ab', 3), /too short/);
});

test('htpasswd: bcrypt and {SHA} lines; the first line of a user wins; junk is skipped', () => {
  const sha = `{SHA}${createHash('sha1').update('pw2').digest('base64')}`;
  const entries = parseHtpasswd(`# comment\nalice:${VECTORS[3][1]}\n\nbob:${sha}\nalice:${VECTORS[2][1]}\nnocolon\n:nouser\n`);
  assert.deepEqual([...entries.keys()], ['alice', 'bob']);
  assert.equal(verifyHtpasswdHash('abc', entries.get('alice')!), true);
  assert.equal(verifyHtpasswdHash('a', entries.get('alice')!), false);
  assert.equal(verifyHtpasswdHash('pw2', entries.get('bob')!), true);
  assert.equal(verifyHtpasswdHash('pw3', entries.get('bob')!), false);
  assert.equal(verifyHtpasswdHash('x', 'plaintext'), false);
  assert.equal(verifyHtpasswdHash('x', '$apr1$abc$def'), false);
});

test('HtpasswdFile checks users and re-reads the file when it changes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'regsrv-htpasswd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'htpasswd');
  await writeFile(path, `alice:${VECTORS[3][1]}\n`);
  const f = new HtpasswdFile(path);
  assert.equal(await f.check('alice', 'abc'), true);
  assert.equal(await f.check('alice', 'abc'), true); // from the cache
  assert.equal(await f.check('alice', 'nope'), false);
  assert.equal(await f.check('bob', 'abc'), false);
  await writeFile(path, `bob:${VECTORS[3][1]}\n# alice removed, and the file is longer now\n`);
  assert.equal(await f.check('alice', 'abc'), false);
  assert.equal(await f.check('bob', 'abc'), true);
});
