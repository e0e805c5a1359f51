import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, formatG, formatGoDuration, humanDuration, humanSize, humanSizeWithPrecision, parseGoDuration, ramInBytes, fromHumanSize } from '../../src/util/units.js';

test('humanDuration (go-units HumanDuration)', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: Array<[number, string]> = [
    [0, 'Less than a second'],
    [999, 'Less than a second'],
    [1 * s, '1 second'],
    [1999, '1 second'],
    [2 * s, '2 seconds'],
    [59 * s, '59 seconds'],
    [60 * s, 'About a minute'],
    [119 * s, 'About a minute'],
    [2 * m, '2 minutes'],
    [59 * m, '59 minutes'],
    [60 * m, 'About an hour'],
    [89 * m, 'About an hour'],
    [90 * m, '2 hours'],
    [47 * h, '47 hours'],
    [48 * h, '2 days'],
    [13 * d, '13 days'],
    [14 * d, '2 weeks'],
    [59 * d, '8 weeks'],
    [60 * d, '2 months'],
    [729 * d, '24 months'],
    [730 * d, '2 years'],
    [3 * 365 * d, '3 years'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test("formatG is Go's %.Ng", () => {
  const cases: Array<[number, number, string]> = [
    [4.26, 3, '4.26'],
    [4.2649, 3, '4.26'],
    [4.0, 3, '4'],
    [123.456, 3, '123'],
    [999.9, 3, '1e+03'],
    [0.5, 3, '0.5'],
    [0.0001234, 3, '0.000123'],
    [0.00001234, 3, '1.23e-05'],
    [1234567, 4, '1.235e+06'],
    [0, 3, '0'],
  ];
  for (const [x, p, want] of cases) assert.equal(formatG(x, p), want, `${x} %.${p}g`);
});

test('sizes as docker prints them', () => {
  assert.equal(humanSizeWithPrecision(4_264_000, 3), '4.26MB');
  assert.equal(humanSizeWithPrecision(0, 3), '0B');
  assert.equal(humanSizeWithPrecision(512, 3), '512B');
  assert.equal(humanSizeWithPrecision(1000, 3), '1kB');
  assert.equal(humanSizeWithPrecision(1_230_000_000, 3), '1.23GB');
  assert.equal(humanSizeWithPrecision(999_999, 3), '1e+03kB');
  assert.equal(humanSize(1_234_567), '1.235MB');
  assert.equal(bytesSize(64 * 1024 * 1024), '64MiB');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(8_000_000_000), '7.451GiB');
});

test('RAMInBytes / FromHumanSize', () => {
  const ok: Array<[string, number]> = [
    ['32', 32],
    ['32b', 32],
    ['32B', 32],
    ['32k', 32 * 1024],
    ['32K', 32 * 1024],
    ['32kb', 32 * 1024],
    ['32Kib', 32 * 1024],
    ['32Mb', 32 * 1024 * 1024],
    ['32Gb', 32 * 1024 ** 3],
    ['32.3', 32],
    ['0.3k', 307],
    ['1 g', 1024 ** 3],
  ];
  for (const [s, want] of ok) assert.equal(ramInBytes(s), want, s);
  assert.equal(fromHumanSize('1k'), 1000);
  assert.equal(fromHumanSize('1.5MB'), 1_500_000);
  const bad: Array<[string, RegExp]> = [
    ['', /invalid size: ''/],
    ['hello', /invalid size: 'hello'/],
    ['-32', /invalid size: '-32'/],
    ['32x', /invalid suffix: 'x'/],
    ['32kbb', /invalid suffix: 'kbb'/],
    ['32bk', /invalid suffix: 'bk'/],
    ['1.2.3k', /strconv.ParseFloat/],
  ];
  for (const [s, re] of bad) assert.throws(() => ramInBytes(s), re, s);
});

test('Go durations', () => {
  assert.equal(parseGoDuration('30s'), 30e9);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('500ms'), 500e6);
  assert.equal(parseGoDuration('-2s'), -2e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('5'), /time: missing unit in duration "5"/);
  assert.throws(() => parseGoDuration('5x'), /time: unknown unit "x" in duration "5x"/);
  assert.throws(() => parseGoDuration(''), /time: invalid duration ""/);
  assert.equal(formatGoDuration(0), '0s');
  assert.equal(formatGoDuration(90e9), '1m30s');
  assert.equal(formatGoDuration(3600e9), '1h0m0s');
  assert.equal(formatGoDuration(500e6), '500ms');
  assert.equal(formatGoDuration(12e9), '12s');
});

test('log timestamps (moby timetypes.GetTimestamp)', async () => {
  const { getTimestamp } = await import('../../src/cli/timestamps.js');
  const ref = new Date(Date.UTC(2024, 0, 2, 12, 0, 0));
  assert.equal(getTimestamp('10m', ref), String(ref.getTime() / 1000 - 600));
  assert.equal(getTimestamp('1h30m', ref), String(ref.getTime() / 1000 - 5400));
  assert.equal(getTimestamp('2013-01-02T13:23:37Z', ref), '1357133017.000000000');
  assert.equal(getTimestamp('2013-01-02T13:23:37.5Z', ref), '1357133017.500000000');
  assert.equal(getTimestamp('2013-01-02T13:23:37+01:00', ref), '1357129417.000000000');
  assert.equal(getTimestamp('1700000000', ref), '1700000000');
  assert.equal(getTimestamp('1700000000.123', ref), '1700000000.123');
  assert.equal(getTimestamp('0', ref), '0');
  assert.throws(() => getTimestamp('yesterday', ref), /failed to parse value as time or duration: "yesterday"/);
});

test('CSV records as encoding/csv reads --mount and --network values', async () => {
  const { parseCsvRecord } = await import('../../src/cli/opts/validators.js');
  assert.deepEqual(parseCsvRecord('type=bind,src=/a,dst=/b'), ['type=bind', 'src=/a', 'dst=/b']);
  assert.deepEqual(parseCsvRecord('"a,b",c'), ['a,b', 'c']);
  assert.deepEqual(parseCsvRecord('"say ""hi""",x,'), ['say "hi"', 'x', '']);
  assert.throws(() => parseCsvRecord('a"b'), /bare " in non-quoted-field/);
  assert.throws(() => parseCsvRecord('"ab'), /extraneous or missing " in quoted-field/);
});
