import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rm, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { parseLogLine, parseTimestamp, readLog, tailOffset, LogAssembler, LineSplitter, type LogEntry } from '../../src/runtime/log-reader.js';

const ts = (sec: number): string => `2024-03-01T10:00:${String(sec).padStart(2, '0')}.123456789+00:00`;
const line = (sec: number, stream: string, tag: string, content: string): string => `${ts(sec)} ${stream} ${tag} ${content}\n`;

async function tempLog(t: { after: (fn: () => Promise<void>) => void }, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'ctr.log');
  await writeFile(path, text);
  return path;
}

async function collect(it: AsyncIterable<LogEntry>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for await (const e of it) out.push([e.stream, e.data.toString()]);
  return out;
}

test('timestamps: offsets, nanoseconds, bad input', () => {
  const a = parseTimestamp('2024-03-01T12:00:00.123456789+02:00');
  assert.equal(a?.time.toISOString(), '2024-03-01T10:00:00.123Z');
  assert.equal(a?.timeNano, '2024-03-01T10:00:00.123456789Z');
  assert.equal(parseTimestamp('2024-03-01T10:00:00Z')?.timeNano, '2024-03-01T10:00:00.000000000Z');
  assert.equal(parseTimestamp('2024-03-01T10:00:00.5-01:30')?.time.toISOString(), '2024-03-01T11:30:00.500Z');
  for (const bad of ['', 'yesterday', '2024-03-01 10:00:00Z', '2024-03-01T10:00:00.1234567890Z']) assert.equal(parseTimestamp(bad), null, bad);
});

test('lines: fields, empty content, garbage', () => {
  const r = parseLogLine(Buffer.from(`${ts(1)} stderr F a b  c`));
  assert.equal(r?.stream, 'stderr');
  assert.equal(r?.partial, false);
  assert.equal(r?.content.toString(), 'a b  c');
  assert.equal(parseLogLine(Buffer.from(`${ts(1)} stdout F `))?.content.length, 0);
  assert.equal(parseLogLine(Buffer.from(`${ts(1)} stdout P`))?.partial, true);
  for (const bad of ['', 'x', `${ts(1)} stdin F x`, `${ts(1)} stdout X x`, `${ts(1)} stdout Fx`, `nottime stdout F x`]) {
    assert.equal(parseLogLine(Buffer.from(bad)), null, bad);
  }
});

test('assembler joins partials per stream and flushes the unfinished', () => {
  const a = new LogAssembler();
  const rec = (s: string) => parseLogLine(Buffer.from(s.replace(/\n$/, '')))!;
  assert.equal(a.push(rec(line(1, 'stdout', 'P', 'hel'))), null);
  assert.equal(a.push(rec(line(2, 'stderr', 'P', 'er'))), null);
  const e = a.push(rec(line(3, 'stdout', 'F', 'lo')));
  assert.equal(e?.data.toString(), 'hello\n');
  assert.equal(e?.time.getUTCSeconds(), 1); // the time the line began
  assert.deepEqual(a.flush().map((x) => x.data.toString()), ['er']);
  assert.deepEqual(a.flush(), []);
});

test('splitter keeps an unterminated tail for later', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push(Buffer.from('a\nb')).map(String), ['a']);
  assert.deepEqual(s.push(Buffer.from('c\n\nd')).map(String), ['bc', '']);
});

test('readLog: all entries, partial lines joined, binary content kept', async (t) => {
  const path = await tempLog(t, [
    line(1, 'stdout', 'F', 'one'),
    line(2, 'stdout', 'P', 'tw'),
    line(2, 'stderr', 'F', 'err'),
    line(3, 'stdout', 'F', 'o'),
    line(4, 'stdout', 'F', ''),
    'garbage line\n',
    line(5, 'stdout', 'P', 'no newline at the end'),
  ].join(''));
  assert.deepEqual(await collect(readLog(path)), [
    ['stdout', 'one\n'], ['stderr', 'err\n'], ['stdout', 'two\n'], ['stdout', '\n'], ['stdout', 'no newline at the end'],
  ]);
  const bin = await tempLog(t, `${ts(1)} stdout F \u00ff\u0001\n`);
  const datas: number[][] = [];
  for await (const x of readLog(bin)) datas.push([...x.data]);
  assert.deepEqual(datas, [[0xc3, 0xbf, 0x01, 0x0a]]);
});

test('readLog: missing file is empty', async () => {
  assert.deepEqual(await collect(readLog('/nonexistent/berth/ctr.log')), []);
});

test('readLog: since / until', async (t) => {
  const path = await tempLog(t, [1, 2, 3, 4, 5].map((s) => line(s, 'stdout', 'F', `l${s}`)).join(''));
  const at = (sec: number) => new Date(`2024-03-01T10:00:0${sec}.123Z`);
  assert.deepEqual((await collect(readLog(path, { since: at(3) }))).map((x) => x[1]), ['l3\n', 'l4\n', 'l5\n']);
  assert.deepEqual((await collect(readLog(path, { until: at(2) }))).map((x) => x[1]), ['l1\n', 'l2\n']);
  assert.deepEqual((await collect(readLog(path, { since: at(2), until: at(4), tail: 1 }))).map((x) => x[1]), []);
  assert.deepEqual((await collect(readLog(path, { since: at(2), tail: 2 }))).map((x) => x[1]), ['l4\n', 'l5\n']);
});

test('readLog: tail counts entries, not lines', async (t) => {
  const path = await tempLog(t, [
    line(1, 'stdout', 'F', 'a'),
    line(2, 'stdout', 'P', 'b1'),
    line(2, 'stdout', 'P', 'b2'),
    line(2, 'stdout', 'F', 'b3'),
    line(3, 'stderr', 'F', 'c'),
  ].join('') + `${ts(4)} stdout F half-writ`);
  const tail = async (n: number) => (await collect(readLog(path, { tail: n }))).map((x) => x[1]);
  assert.deepEqual(await tail(0), []);
  assert.deepEqual(await tail(1), ['c\n']);
  assert.deepEqual(await tail(2), ['b1b2b3\n', 'c\n']);
  assert.deepEqual(await tail(3), ['a\n', 'b1b2b3\n', 'c\n']);
  assert.deepEqual(await tail(10), ['a\n', 'b1b2b3\n', 'c\n']);
  assert.deepEqual(await tail(-1), ['a\n', 'b1b2b3\n', 'c\n']);
});

test('tail of a big log reads only its end', async (t) => {
  const n = 100_000;
  const body = Array.from({ length: n }, (_, i) => line(i % 60, 'stdout', 'F', `line ${i}`)).join('');
  const path = await tempLog(t, body);
  const fh = await open(path, 'r');
  t.after(() => fh.close());
  let bytesRead = 0;
  const counting = {
    read: async (buf: Buffer, off: number, len: number, pos: number) => {
      const r = await fh.read(buf, off, len, pos);
      bytesRead += r.bytesRead;
      return r;
    },
  } as unknown as FileHandle;
  const size = Buffer.byteLength(body);
  const start = await tailOffset(counting, size, 5);
  assert.ok(bytesRead <= 64 * 1024, `read ${bytesRead} bytes`);
  assert.equal(body.slice(start).split('\n').filter(Boolean).length, 5);
  assert.deepEqual((await collect(readLog(path, { tail: 3 }))).map((x) => x[1]), ['line 99997\n', 'line 99998\n', 'line 99999\n']);
  assert.equal(await tailOffset(counting, size, n), 0);
  assert.equal(await tailOffset(counting, size, n - 1), Buffer.byteLength(line(0, 'stdout', 'F', 'line 0')));
});

test('follow: new lines arrive, abort ends after a final read', async (t) => {
  const path = await tempLog(t, line(1, 'stdout', 'F', 'old'));
  const ac = new AbortController();
  const it = readLog(path, { follow: true, tail: 1, signal: ac.signal })[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.data.toString(), 'old\n');
  const first = it.next();
  await appendFile(path, line(2, 'stdout', 'P', 'par'));
  await appendFile(path, line(2, 'stdout', 'F', 'tial'));
  assert.equal((await first).value?.data.toString(), 'partial\n');
  const second = it.next();
  await appendFile(path, line(3, 'stderr', 'F', 'x'));
  assert.equal((await second).value?.data.toString(), 'x\n');
  // Written just before the stop: the final read still sees it, and the unfinished partial.
  await appendFile(path, line(4, 'stdout', 'F', 'last') + line(5, 'stdout', 'P', 'tail'));
  ac.abort();
  const rest: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.data.toString());
  assert.deepEqual(rest, ['last\n', 'tail']);
});

test('follow: waits for the file to appear; already-aborted signal returns at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'later.log');
  const ac = new AbortController();
  const it = readLog(path, { follow: true, signal: ac.signal })[Symbol.asyncIterator]();
  const first = it.next();
  await writeFile(path, line(1, 'stdout', 'F', 'hello'));
  assert.equal((await first).value?.data.toString(), 'hello\n');
  ac.abort();
  assert.equal((await it.next()).done, true);
  const done = new AbortController();
  done.abort();
  assert.deepEqual(await collect(readLog(path, { follow: true, signal: done.signal })), [['stdout', 'hello\n']]);
});

test('follow: a truncated log is read again from the start', async (t) => {
  const path = await tempLog(t, line(1, 'stdout', 'F', 'aaaaaaaaaaaaaaaaaaaa'));
  const ac = new AbortController();
  t.after(() => ac.abort());
  const it = readLog(path, { follow: true, signal: ac.signal })[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.data.toString(), 'aaaaaaaaaaaaaaaaaaaa\n');
  const next = it.next();
  await writeFile(path, line(2, 'stdout', 'F', 'b'));
  assert.equal((await next).value?.data.toString(), 'b\n');
  ac.abort();
  assert.equal((await it.next()).done, true);
});
