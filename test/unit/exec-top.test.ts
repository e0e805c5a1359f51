import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePsOutput, validatePsArgs, psPidsArg, cgroupPids, cgroupProcsFile } from '../../src/container/top.js';

const PS_EF = [
  'UID          PID    PPID  C STIME TTY          TIME CMD',
  'root           1       0  0 10:00 ?        00:00:01 /sbin/init splash',
  'root         812     790  0 10:01 ?        00:00:00 sleep 600',
  'nobody       900     812  0 10:02 pts/0    00:00:00 sh -c echo  two  spaces',
  '',
].join('\n');

test('rows of the container\'s pids only; the last column keeps the rest of the line', () => {
  const r = parsePsOutput(PS_EF, [812, 900]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '812', '790', '0', '10:01', '?', '00:00:00', 'sleep 600'],
    // Runs of spaces inside the command collapse, as moby's field split does.
    ['nobody', '900', '812', '0', '10:02', 'pts/0', '00:00:00', 'sh -c echo two spaces'],
  ]);
  assert.deepEqual(parsePsOutput(PS_EF, []).Processes, []);
});

test('thread lines (PID "-") follow the process above them', () => {
  const out = [
    'USER       PID %CPU COMMAND',
    'root       812  0.0 sleep',
    'root         -  0.0 -',
    'root         1  0.0 init',
    'root         -  0.0 -',
  ].join('\n');
  const r = parsePsOutput(out, [812]);
  assert.deepEqual(r.Processes, [['root', '812', '0.0', 'sleep'], ['root', '-', '0.0', '-']]);
});

test('bad ps output is an error', () => {
  assert.throws(() => parsePsOutput('UID CMD\nroot sleep\n', [1]), /Couldn't find PID field in ps output/);
  assert.throws(() => parsePsOutput('PID CMD\nabc sleep\n', [1]), /Unexpected pid 'abc'/);
  assert.throws(() => parsePsOutput('', [1]), /Couldn't find PID field/);
});

test('ps_args may not rename the PID column', () => {
  for (const ok of ['-ef', 'aux', '-o pid,comm', '-o pid=PID', '-eo pid,user']) assert.doesNotThrow(() => validatePsArgs(ok), ok);
  assert.throws(() => validatePsArgs('-o user=PID'), /specifying "user=PID" is not allowed/);
  assert.throws(() => validatePsArgs('-o comm= PIDX'), /specifying "comm=PIDX" is not allowed/);
});

test('-q with the pids, comma separated', () => {
  assert.equal(psPidsArg([1, 22, 333]), '-q1,22,333');
  assert.equal(psPidsArg([]), '-q');
});

const dir = await mkdtemp(join(tmpdir(), 'berth-top-'));
after(() => rm(dir, { recursive: true, force: true }));

test('cgroup v1: the pids controller\'s cgroup.procs, then the others', async () => {
  const v1 = join(dir, 'v1');
  await mkdir(join(v1, 'memory/berth/c1'), { recursive: true });
  await writeFile(join(v1, 'memory/berth/c1/cgroup.procs'), '5\n7\n');
  assert.equal(await cgroupProcsFile('/berth/c1', v1), join(v1, 'memory/berth/c1/cgroup.procs'));
  await mkdir(join(v1, 'pids/berth/c1'), { recursive: true });
  await writeFile(join(v1, 'pids/berth/c1/cgroup.procs'), '5\n7\n9\n');
  assert.deepEqual(await cgroupPids('/berth/c1', v1), [5, 7, 9]);
  assert.deepEqual(await cgroupPids('/berth/gone', v1), []);
});

test('cgroup v2: the unified tree', async () => {
  const v2 = join(dir, 'v2');
  await mkdir(join(v2, 'berth/c1'), { recursive: true });
  await writeFile(join(v2, 'cgroup.controllers'), 'cpu memory pids\n');
  await writeFile(join(v2, 'berth/c1/cgroup.procs'), '42\n');
  assert.deepEqual(await cgroupPids('/berth/c1', v2), [42]);
});
