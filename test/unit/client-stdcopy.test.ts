import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdDemuxer, StreamFramingError, frame } from '../../src/client/stdcopy.js';
import { JsonValueSplitter } from '../../src/client/json-stream.js';

function demux(chunks: Buffer[]): { out: string; err: string; sys?: string } {
  let out = '';
  let err = '';
  const d = new StdDemuxer({ stdout: (b) => (out += b.toString()), stderr: (b) => (err += b.toString()) });
  for (const c of chunks) d.push(c);
  return { out, err, sys: d.end() };
}

test('demuxes whole frames', () => {
  const r = demux([Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2\n')])]);
  assert.deepEqual(r, { out: 'out1\nout2\n', err: 'err1\n', sys: undefined });
});

test('frames split at every possible byte boundary', () => {
  const all = Buffer.concat([frame(1, 'hello'), frame(2, 'world!'), frame(0, ''), frame(1, 'x')]);
  for (let cut = 0; cut <= all.length; cut++) {
    const r = demux([all.subarray(0, cut), all.subarray(cut)]);
    assert.equal(r.out, 'hellox', `cut at ${cut}`);
    assert.equal(r.err, 'world!', `cut at ${cut}`);
  }
  // One byte at a time.
  const bytes = [...all].map((b) => Buffer.from([b]));
  assert.equal(demux(bytes).out, 'hellox');
});

test('a large payload spanning many chunks', () => {
  const payload = Buffer.alloc(200_000, 'a');
  const all = frame(2, payload);
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += 4096) chunks.push(all.subarray(i, i + 4096));
  assert.equal(demux(chunks).err.length, 200_000);
});

test('stream 3 carries the daemon error; unknown streams are rejected', () => {
  assert.equal(demux([frame(3, 'boom')]).sys, 'boom');
  assert.throws(() => demux([Buffer.from([7, 0, 0, 0, 0, 0, 0, 1, 65])]), StreamFramingError);
});

test('JSON message splitter handles concatenated and split values', () => {
  const s = new JsonValueSplitter();
  assert.deepEqual(s.push('{"a":1}{"b":"}{"}\n{"c'), ['{"a":1}', '{"b":"}{"}']);
  assert.equal(s.idle, false);
  assert.deepEqual(s.push('":[1,{"d":2}]}  '), ['{"c":[1,{"d":2}]}']);
  assert.equal(s.idle, true);
  assert.deepEqual(s.push('{"e":"\\"}"}'), ['{"e":"\\"}"}']);
  assert.throws(() => new JsonValueSplitter().push('x'), /invalid character 'x'/);
});
