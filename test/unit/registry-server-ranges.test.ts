import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../src/distribution/server/errors.js';
import { checkChunk, parseContentRange, parseRangeHeader, uploadRangeHeader } from '../../src/distribution/server/ranges.js';

test('blob Range headers: one range, suffixes, open ends, and what falls back or fails', () => {
  const size = 100;
  const table: Array<[string | undefined, ReturnType<typeof parseRangeHeader>]> = [
    [undefined, null],
    ['', null],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=10-', { start: 10, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-1000', { start: 0, end: 99 }],
    ['bytes=90-1000', { start: 90, end: 99 }], // the end is clamped
    ['bytes=99-99', { start: 99, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=200-300', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-2', null], // invalid: ignored, whole body
    ['bytes=0-1,5-6', null], // several ranges: whole body
    ['items=0-1', null],
    ['bytes=-', null],
  ];
  for (const [h, want] of table) assert.deepEqual(parseRangeHeader(h, size), want, String(h));
  assert.equal(parseRangeHeader('bytes=0-', 0), 'unsatisfiable');
  assert.equal(parseRangeHeader('bytes=-5', 0), 'unsatisfiable');
});

test('upload Range header: distribution writes 0-0 for empty uploads', () => {
  assert.equal(uploadRangeHeader(0), '0-0');
  assert.equal(uploadRangeHeader(1), '0-0');
  assert.equal(uploadRangeHeader(1024), '0-1023');
});

test('Content-Range of a chunk', () => {
  assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
  assert.deepEqual(parseContentRange('bytes 5-9'), { start: 5, end: 9 });
  assert.deepEqual(parseContentRange('bytes=5-9'), { start: 5, end: 9 });
  for (const bad of ['', '5', '-5', 'a-b', '1-2-3', 'bytes 1-2/3']) {
    assert.throws(() => parseContentRange(bad), (e: unknown) => e instanceof RegistryError && e.status === 416, bad);
  }
});

test('chunk offsets: must start at the upload size; Content-Length must match', () => {
  const code = (fn: () => void): string | null => {
    try {
      fn();
      return null;
    } catch (e) {
      assert.ok(e instanceof RegistryError);
      return `${e.status} ${e.entries[0].code}`;
    }
  };
  assert.equal(code(() => checkChunk(undefined, '10', 0)), null);
  assert.equal(code(() => checkChunk('', undefined, 7)), null);
  assert.equal(code(() => checkChunk('0-9', '10', 0)), null);
  assert.equal(code(() => checkChunk('10-19', '10', 10)), null);
  assert.equal(code(() => checkChunk('10-19', undefined, 10)), null);
  assert.equal(code(() => checkChunk('0-9', '10', 10)), '416 RANGE_INVALID');
  assert.equal(code(() => checkChunk('20-29', '10', 10)), '416 RANGE_INVALID');
  assert.equal(code(() => checkChunk('19-10', '10', 19)), '416 RANGE_INVALID');
  assert.equal(code(() => checkChunk('10-19', '11', 10)), '400 SIZE_INVALID');
});
