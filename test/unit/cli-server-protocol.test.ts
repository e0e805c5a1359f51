import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRequest,
  decodeU32,
  encodeExit,
  encodeRequest,
  encodeSignal,
  FrameDecoder,
  HEADER_BYTES,
  MessageType,
  ProtocolError,
  PROTOCOL_VERSION,
} from '../../src/cli/server/protocol.js';
import { parseRights } from '../../src/cli/server/unix-socket.js';

// The CLI server's framing (the launcher in C writes the same bytes).

const req = { umask: 0o22, cwd: '/home/u/dir with space', argv: ['run', '--rm', '', 'busybox', 'sh', '-c', 'echo "é"'], env: { HOME: '/home/u', EMPTY: '', 'A=B': 'no' } };

test('a request survives encode → frames → decode', () => {
  const wire = encodeRequest({ ...req, env: { HOME: '/home/u', EMPTY: '', X: 'a=b=c' } });
  const dec = new FrameDecoder();
  // Byte by byte: frames come out only once whole.
  const frames = [...wire].flatMap((b) => dec.push(Buffer.from([b])));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.type, MessageType.request);
  assert.deepEqual(decodeRequest(frames[0]!.payload), { umask: 0o22, cwd: req.cwd, argv: req.argv, env: { HOME: '/home/u', EMPTY: '', X: 'a=b=c' } });
  assert.equal(dec.pending, 0);
});

test('several frames in one chunk, and a partial one kept for later', () => {
  const dec = new FrameDecoder();
  const wire = Buffer.concat([encodeSignal(2), encodeSignal(28), encodeExit(3)]);
  const a = dec.push(wire.subarray(0, wire.length - 2));
  assert.deepEqual(a.map((f) => [f.type, decodeU32(f.payload)]), [[MessageType.signal, 2], [MessageType.signal, 28]]);
  const b = dec.push(wire.subarray(wire.length - 2));
  assert.deepEqual(b.map((f) => [f.type, decodeU32(f.payload)]), [[MessageType.exit, 3]]);
});

test('exit statuses are 0..255 as a process exit', () => {
  for (const [code, want] of [[0, 0], [1, 1], [125, 125], [256, 0], [-1, 255]] as const) {
    assert.equal(decodeU32(encodeExit(code).subarray(HEADER_BYTES)), want);
  }
});

test('bad input is refused', () => {
  assert.throws(() => new FrameDecoder(16).push(encodeRequest(req)), ProtocolError);
  const payload = (version: number, argc: number, envc: number, strings: string): Buffer => {
    const b = Buffer.alloc(16);
    b.writeUInt32LE(version, 0);
    b.writeUInt32LE(0o22, 4);
    b.writeUInt32LE(argc, 8);
    b.writeUInt32LE(envc, 12);
    return Buffer.concat([b, Buffer.from(strings)]);
  };
  const table: Array<[string, Buffer]> = [
    ['short', Buffer.alloc(8)],
    ['other version', payload(PROTOCOL_VERSION + 1, 0, 0, '/\0')],
    ['truncated', payload(PROTOCOL_VERSION, 2, 0, '/\0run\0')],
    ['no NUL at the end', payload(PROTOCOL_VERSION, 1, 0, '/\0run')],
    ['trailing bytes', payload(PROTOCOL_VERSION, 0, 0, '/\0extra')],
  ];
  for (const [name, p] of table) assert.throws(() => decodeRequest(p), ProtocolError, name);
  assert.throws(() => encodeRequest({ ...req, argv: ['a\0b'] }), ProtocolError);
});

test('environment entries: the first of a name wins, entries without a name are dropped', () => {
  const strings = ['/', 'A=1', 'A=2', 'noequals', '=x', 'B=', 'constructor=c'];
  const b = Buffer.alloc(16);
  b.writeUInt32LE(PROTOCOL_VERSION, 0);
  b.writeUInt32LE(0o777 | 0o7000, 4);
  b.writeUInt32LE(0, 8);
  b.writeUInt32LE(strings.length - 1, 12);
  const r = decodeRequest(Buffer.concat([b, Buffer.from(strings.map((s) => `${s}\0`).join(''))]));
  assert.deepEqual(r.env, { A: '1', B: '', constructor: 'c' });
  assert.equal(r.umask, 0o777);
});

test('SCM_RIGHTS control messages are parsed, others skipped', () => {
  const cmsg = (level: number, type: number, ints: number[]): Buffer => {
    const len = 16 + 4 * ints.length;
    const b = Buffer.alloc((len + 7) & ~7);
    b.writeBigUInt64LE(BigInt(len), 0);
    b.writeInt32LE(level, 8);
    b.writeInt32LE(type, 12);
    ints.forEach((v, i) => b.writeInt32LE(v, 16 + 4 * i));
    return b;
  };
  const ctl = Buffer.concat([cmsg(1, 2, [7]), cmsg(1, 1, [20, 21, 22])]);
  assert.deepEqual(parseRights(ctl, ctl.length), [20, 21, 22]);
  assert.deepEqual(parseRights(ctl, 10), []);
  const bad = Buffer.from(ctl);
  bad.writeBigUInt64LE(4n, 0); // a length shorter than the header stops the walk
  assert.deepEqual(parseRights(bad, bad.length), []);
});
