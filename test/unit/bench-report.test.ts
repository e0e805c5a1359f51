import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineResult } from '../../bench/lib/latency.js';
import { MiB, formatTable, ratio, renderReport, verdict } from '../../bench/lib/report.js';

test('ratio is berth over docker, absent when either is missing or docker is zero', () => {
  assert.equal(ratio(1, 4), 0.25);
  assert.equal(ratio(null, 4), null);
  assert.equal(ratio(1, null), null);
  assert.equal(ratio(1, 0), null);
});

test('verdict judges ratios and absolute limits inclusively', () => {
  const r = { kind: 'ratio', max: 0.4 } as const;
  const a = { kind: 'absolute', max: 150, unit: 'MiB' } as const;
  const cases: [number | null, number | null, typeof r | typeof a | null, string][] = [
    [0.1, 0.25, r, 'ok'],
    [0.1, 0.5, r, 'ok'],
    [0.2, 0.25, r, 'MISS'],
    [null, 0.25, r, ''],
    [0.2, null, r, ''],
    [150, 800, a, 'ok'],
    [150.1, 800, a, 'MISS'],
    [120, null, a, 'ok'],
    [1, 1, null, ''],
  ];
  for (const [berth, docker, target, want] of cases) {
    assert.equal(verdict({ berth, docker, target }), want, JSON.stringify({ berth, docker, target }));
  }
});

test('formatTable pads columns to the widest cell', () => {
  const t = formatTable(['a', 'bb'], [['xxx', '1'], ['y', '22']]).split('\n');
  assert.deepEqual(t, ['a    bb', '───  ──', 'xxx   1', 'y    22']);
});

test('renderReport shows docker alone when berth was skipped', () => {
  const mem = (mib: number) => ({ rss: mib * MiB, pss: mib * MiB, processes: 2, monitors: 0, byComm: {} });
  const docker: EngineResult = {
    engine: 'docker', status: 'ok', notes: [], idle: mem(100), loaded: { ...mem(300), running: 50 },
    clients: [{ client: 'docker CLI', runRm: { n: 1, min: 400, median: 400, p90: 500, max: 500, mean: 400, samples: [400] }, detachedTotalMs: 20000 }],
  };
  const berth: EngineResult = {
    engine: 'berth', status: 'skipped', error: 'not there yet', notes: [], idle: null, loaded: null, clients: [],
  };
  const out = renderReport([docker, berth], 50);
  assert.match(out, /run --rm busybox true, median\s+0\.400 s\s+–/);
  assert.match(out, /50 × run -d busybox sleep 600\s+20\.000 s/);
  assert.match(out, /idle daemon memory \(PSS\)\s+100\.0 MiB/);
  assert.match(out, /berth: skipped — not there yet/);
  assert.doesNotMatch(out, /MISS|\bok\b/);
});

test('renderReport computes ratios and verdicts when both engines ran', () => {
  const mem = (mib: number) => ({ rss: mib * MiB, pss: mib * MiB, processes: 1, monitors: 0, byComm: {} });
  const run = (ms: number) => ({ n: 1, min: ms, median: ms, p90: ms, max: ms, mean: ms, samples: [ms] });
  const docker: EngineResult = {
    engine: 'docker', status: 'ok', notes: [], idle: mem(100), loaded: { ...mem(300), running: 50 },
    clients: [{ client: 'docker CLI', runRm: run(400), detachedTotalMs: 20000 }],
  };
  const berth: EngineResult = {
    engine: 'berth', status: 'ok', notes: [], idle: mem(70), loaded: { ...mem(120), running: 50 },
    clients: [
      { client: 'berth CLI', runRm: run(100), detachedTotalMs: 8000 },
      { client: 'docker CLI', runRm: run(150), detachedTotalMs: 9000 },
    ],
  };
  const lines = renderReport([docker, berth], 50).split('\n');
  const line = (start: string) => lines.find((l) => l.startsWith(start)) ?? '';
  assert.match(line('run --rm busybox true, median'), /0\.100 s\s+0\.150 s\s+0\.25 ×.*ok$/);
  assert.match(line('50 × run -d'), /8\.000 s\s+9\.000 s\s+0\.40 ×.*MISS$/);
  assert.match(line('memory, 50 running (PSS)'), /120\.0 MiB.*ok$/);
  assert.match(line('idle daemon memory (PSS)'), /70\.0 MiB.*MISS$/);
});
