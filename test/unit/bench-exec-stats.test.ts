// The pure parts of bench/exec-stats.ts: the calls it makes, how it finds the stats row, and
// the table it prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figureArgs, statsRow, type ExecStatsClientResult, type ExecStatsEngineResult, type TimedFigure } from '../../bench/lib/exec-stats-bench.js';
import { berthColumn, renderExecStatsReport } from '../../bench/lib/exec-stats-report.js';
import { summarize } from '../../bench/lib/stats.js';

const ID = 'e4ff59eadc93' + '0'.repeat(52);

test('figureArgs: the exact CLI calls', () => {
  assert.deepEqual(figureArgs('exec', ID), ['exec', ID, 'true']);
  assert.deepEqual(figureArgs('execStdin', ID), ['exec', '-i', ID, 'cat']);
  assert.deepEqual(figureArgs('stats', ID), ['stats', '--no-stream', ID]);
});

test('statsRow: the header and the container row, or null', () => {
  const table = 'CONTAINER ID   NAME   CPU %\ne4ff59eadc93   x      0.00%   \n';
  const cases: [string, string | null][] = [
    [table, 'CONTAINER ID   NAME   CPU %\ne4ff59eadc93   x      0.00%'],
    ['e4ff59eadc93   x', 'e4ff59eadc93   x'],
    ['CONTAINER ID   NAME\n', null],
    ['CONTAINER ID   NAME\nffffffffffff   other\n', null],
    ['', null],
  ];
  for (const [out, want] of cases) assert.equal(statsRow(out, ID), want, JSON.stringify(out));
});

test('berthColumn names the clients as run-latency does', () => {
  assert.equal(berthColumn('berth CLI'), 'berth');
  assert.equal(berthColumn('docker CLI'), 'berth via docker CLI');
  assert.equal(berthColumn('berth warm CLI'), 'berth warm CLI');
});

const timed = (...samples: number[]): TimedFigure => ({ ...summarize(samples), samples });
const client = (name: string, ms: number, stats: string | null = null): ExecStatsClientResult => ({
  client: name, exec: timed(ms, ms), execStdin: timed(2 * ms), stats: timed(1000 + ms), lastStats: stats,
});

test('renderExecStatsReport: medians, p90s, ratios per berth client, stats rows, failures', () => {
  const results: ExecStatsEngineResult[] = [
    { engine: 'docker', status: 'ok', notes: [], container: ID, clients: [client('docker CLI', 400, 'CONTAINER ID\ne4ff59eadc93 0.00%')] },
    { engine: 'berth', status: 'ok', notes: ['a note'], container: ID, clients: [client('berth CLI', 200), client('docker CLI', 100)] },
  ];
  const out = renderExecStatsReport(results);
  const line = (start: string) => out.split('\n').find((l) => l.startsWith(start))?.split(/\s{2,}/);
  assert.deepEqual(line('figure'), ['figure', 'docker', 'berth', 'berth via docker CLI', 'berth/docker', 'berth via docker CLI/docker']);
  assert.deepEqual(line('exec <c> true, median'), ['exec <c> true, median', '0.400 s', '0.200 s', '0.100 s', '0.50 ×', '0.25 ×']);
  assert.deepEqual(line('exec -i <c> cat (1024 B stdin), p90'), ['exec -i <c> cat (1024 B stdin), p90', '0.800 s', '0.400 s', '0.200 s', '0.50 ×', '0.25 ×']);
  assert.deepEqual(line('stats --no-stream <c>, median'), ['stats --no-stream <c>, median', '1.400 s', '1.200 s', '1.100 s', '0.86 ×', '0.79 ×']);
  assert.match(out, /last stats --no-stream via docker CLI:\n {4}CONTAINER ID\n {4}e4ff59eadc93 0\.00%/);
  assert.match(out, /note: a note/);

  // A broken engine: its columns are dashes, the error is printed.
  const broken = renderExecStatsReport([
    results[0],
    { engine: 'berth', status: 'broken', error: 'berthd died', notes: [], container: null, clients: [{ client: 'berth CLI', exec: null, execStdin: null, stats: null, lastStats: null }] },
  ]);
  assert.deepEqual(broken.split('\n').find((l) => l.startsWith('exec <c> true, median'))?.split(/\s{2,}/), ['exec <c> true, median', '0.400 s', '–', '–']);
  assert.match(broken, /berth: broken — berthd died/);
  // --no-stdin: no exec -i rows.
  const noStdin = renderExecStatsReport([{ ...results[0], clients: [{ ...results[0].clients[0], execStdin: null }] }]);
  assert.doesNotMatch(noStdin, /exec -i/);
});
