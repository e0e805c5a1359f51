import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { EscapeDetector, detachKeysToBytes, streamHijacked, DetachedError } from '../../src/cli/hijack.js';
import { displayJsonMessages, progressString, JsonMessageError } from '../../src/cli/jsonmessage.js';
import type { HijackedConnection } from '../../src/client/engine-client.js';
import { frame } from '../../src/client/stdcopy.js';

test('detach keys: docker syntax to bytes', () => {
  assert.deepEqual([...detachKeysToBytes('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...detachKeysToBytes('ctrl-a,x,ctrl-[,ctrl-@,ctrl-_')], [1, 120, 27, 0, 31]);
  assert.throws(() => detachKeysToBytes('ctrl-1'), /Unknown character: 'ctrl-1'/);
  assert.throws(() => detachKeysToBytes('ab'), /Unknown character: 'ab'/);
});

test('escape detection holds a partial sequence and releases it on a mismatch', () => {
  const d = new EscapeDetector(Buffer.from([16, 17]));
  assert.deepEqual([...(d.feed(Buffer.from('ab')) as Buffer)], [97, 98]);
  assert.equal((d.feed(Buffer.from([16])) as Buffer).length, 0);
  assert.deepEqual([...(d.feed(Buffer.from('x')) as Buffer)], [16, 120]);
  assert.equal((d.feed(Buffer.from([16])) as Buffer).length, 0);
  assert.equal(d.feed(Buffer.from([17])), 'detach');
  assert.equal(d.feed(Buffer.from([16, 17])), 'detach');
});

function fakeConn(): { conn: HijackedConnection; reader: PassThrough; written: Buffer[]; state: { closedWrite: boolean } } {
  const reader = new PassThrough();
  const written: Buffer[] = [];
  const state = { closedWrite: false };
  return {
    reader,
    written,
    state,
    conn: {
      reader,
      contentType: undefined,
      write: (b) => written.push(Buffer.from(b)),
      closeWrite: () => (state.closedWrite = true),
      close: () => reader.destroy(),
    },
  };
}

test('hijacked session: demux output, forward stdin, half-close at EOF', async () => {
  const { conn, reader, written, state } = fakeConn();
  const stdin = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c.toString()));
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c.toString()));
  const s = streamHijacked({ conn, stdin, stdout, stderr, tty: false });
  stdin.end('input');
  reader.write(frame(1, 'o1'));
  reader.write(frame(2, 'e1'));
  reader.end(frame(1, 'o2'));
  await s.done;
  assert.equal(out.join(''), 'o1o2');
  assert.equal(err.join(''), 'e1');
  assert.equal(Buffer.concat(written).toString(), 'input');
  assert.equal(state.closedWrite, true);
});

test('hijacked TTY session: raw output, ctrl-p ctrl-q detaches', async () => {
  const { conn, reader, written } = fakeConn();
  const stdin = new PassThrough();
  const out: string[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c.toString()));
  const s = streamHijacked({ conn, stdin, stdout, tty: true });
  reader.write('$ ');
  stdin.write('ls\r');
  stdin.write(Buffer.from([16]));
  stdin.write(Buffer.from([17]));
  await assert.rejects(s.done, DetachedError);
  assert.equal(out.join(''), '$ ');
  assert.equal(Buffer.concat(written).toString(), 'ls\r');
  s.close();
});

test('progress bars as docker draws them', () => {
  const now = 1_000_000;
  assert.equal(progressString({ current: 0, total: 0 }, 200), '');
  assert.equal(progressString({ current: 1_500_000 }, 200), '   1.5MB');
  assert.equal(progressString({ current: 5_000_000, total: 10_000_000 }, 80, now), '     5MB/10MB');
  assert.equal(
    progressString({ current: 5_000_000, total: 10_000_000 }, 200, now),
    '[=========================>                         ]      5MB/10MB',
  );
  assert.equal(progressString({ current: 5_000_000, total: 10_000_000, start: 990 }, 200, now), '[=========================>                         ]      5MB/10MB 10s');
  assert.equal(progressString({ current: 3, total: 5, units: 'items' }, 80), '3/5 items');
});

test('JSON message display off a terminal: statuses only, errors end the stream', async () => {
  const lines = [
    { status: 'Pulling from library/busybox', id: 'latest' },
    { status: 'Downloading', progressDetail: { current: 10, total: 100 }, id: 'abc' },
    { status: 'Pull complete', progressDetail: {}, id: 'abc' },
    { stream: 'Step 1/2\n' },
    { aux: { ID: 'sha256:x' } },
  ];
  let out = '';
  const sink = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  let aux: unknown;
  await displayJsonMessages(Readable.from([lines.map((l) => JSON.stringify(l)).join('\n')]), sink, { isTerminal: false, onAux: (a) => (aux = a) });
  assert.equal(out, 'latest: Pulling from library/busybox\nabc: Pull complete\nStep 1/2\n');
  assert.deepEqual(aux, { ID: 'sha256:x' });
  await assert.rejects(
    displayJsonMessages(Readable.from(['{"status":"a"}{"errorDetail":{"message":"boom"},"error":"boom"}']), new PassThrough(), { isTerminal: false }),
    (e: unknown) => e instanceof JsonMessageError && e.message === 'boom',
  );
});

test('JSON message display on a terminal moves the cursor per layer id', async () => {
  let out = '';
  const sink = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
  const msgs = [
    { status: 'Downloading', progressDetail: { current: 1, total: 2 }, id: 'a' },
    { status: 'Downloading', progressDetail: { current: 1, total: 2 }, id: 'b' },
    { status: 'Done', progressDetail: {}, id: 'a' },
  ];
  await displayJsonMessages(Readable.from([msgs.map((m) => JSON.stringify(m)).join('')]), sink, { isTerminal: true, width: 80 });
  assert.equal(
    out,
    '\n\x1b[1A\x1b[2K\ra: Downloading       1B/2B\r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rb: Downloading       1B/2B\r\x1b[1B' +
      '\x1b[2A\x1b[2K\ra: Done \r\x1b[2B',
  );
});
