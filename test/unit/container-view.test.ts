import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statusText, commandText, listContainers } from '../../src/container/container-view.js';
import type { ContainerRecord } from '../../src/container/types.js';
import { ZERO_TIME } from '../../src/container/types.js';

function rec(id: string, over: Partial<ContainerRecord['State']> = {}, extra: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    Id: id.padEnd(64, '0'),
    Created: extra.Created ?? '2026-01-01T00:00:00.000Z',
    Path: 'sh',
    Args: ['-c', 'while true; do date; done'],
    State: { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, ...over },
    Image: 'sha256:' + 'b'.repeat(64),
    Name: extra.Name ?? `/${id}`,
    RestartCount: 0,
    Config: { Labels: extra.Config?.Labels ?? {}, Image: 'busybox' } as ContainerRecord['Config'],
    HostConfig: {} as ContainerRecord['HostConfig'],
    ImageChainId: null,
    ...(extra.MountPoints ? { MountPoints: extra.MountPoints } : {}),
  };
}

test('status lines as Docker prints them', () => {
  const now = Date.parse('2026-01-01T00:10:00.000Z');
  assert.equal(statusText(rec('a'), now), 'Created');
  assert.equal(statusText(rec('a', { Status: 'running', Running: true, StartedAt: '2026-01-01T00:09:57.000Z' }), now), 'Up 3 seconds');
  assert.equal(statusText(rec('a', { Status: 'exited', ExitCode: 137, FinishedAt: '2026-01-01T00:08:00.000Z' }), now), 'Exited (137) 2 minutes ago');
  assert.equal(statusText(rec('a', { Status: 'paused', Running: true, Paused: true, StartedAt: '2026-01-01T00:09:00.000Z' }), now), 'Up About a minute (Paused)');
});

test('command quotes arguments with spaces', () => {
  assert.equal(commandText(rec('a')), "sh -c 'while true; do date; done'");
});

test('list: running only by default, newest first, filters', () => {
  const recs = [
    rec('a', { Status: 'running', Running: true }, { Created: '2026-01-01T00:00:01.000Z', Config: { Labels: { app: 'web' } } as never }),
    rec('b', { Status: 'exited', ExitCode: 1 }, { Created: '2026-01-01T00:00:02.000Z' }),
    rec('c', { Status: 'exited', ExitCode: 0 }, { Created: '2026-01-01T00:00:03.000Z', Name: '/web2' }),
  ];
  const ctx = { matchesAncestor: () => true, resolve: (r: string) => recs.find((x) => x.Name === `/${r}`)! };
  const ids = (xs: ContainerRecord[]): string[] => xs.map((x) => x.Id[0]!);
  assert.deepEqual(ids(listContainers(recs, { all: false, filters: {} }, ctx)), ['a']);
  assert.deepEqual(ids(listContainers(recs, { all: true, filters: {} }, ctx)), ['c', 'b', 'a']);
  assert.deepEqual(ids(listContainers(recs, { all: false, limit: 1, filters: {} }, ctx)), ['c']);
  assert.deepEqual(ids(listContainers(recs, { all: true, filters: { status: ['exited'] } }, ctx)), ['c', 'b']);
  assert.deepEqual(ids(listContainers(recs, { all: true, filters: { exited: ['1'] } }, ctx)), ['b']);
  assert.deepEqual(ids(listContainers(recs, { all: true, filters: { name: ['web'] } }, ctx)), ['c']);
  assert.deepEqual(ids(listContainers(recs, { all: true, filters: { label: ['app=web'] } }, ctx)), ['a']);
  assert.deepEqual(ids(listContainers(recs, { all: true, filters: { before: ['web2'] } }, ctx)), ['b', 'a']);
  assert.throws(() => listContainers(recs, { all: true, filters: { bogus: ['x'] } }, ctx), /invalid filter 'bogus'/);
  assert.throws(() => listContainers(recs, { all: true, filters: { status: ['nope'] } }, ctx), /invalid filter 'status=nope'/);
});

test('list: volume filter by name, bind source or destination; is-task', () => {
  const mp = (Type: 'volume' | 'bind', Name: string, Source: string, Destination: string) =>
    ({ Type, Name, Source, Destination, Driver: Type === 'volume' ? 'local' : '', Mode: '', RW: true, Propagation: '' });
  const recs = [
    rec('a', {}, { MountPoints: [mp('volume', 'data', '/var/lib/berth/volumes/data/_data', '/v')] }),
    rec('b', {}, { MountPoints: [mp('bind', '', '/srv', '/w')] }),
    rec('c'),
  ];
  const ctx = { matchesAncestor: () => false, resolve: () => recs[0]! };
  const names = (filters: Record<string, string[]>) => listContainers(recs, { all: true, filters }, ctx).map((r) => r.Name).sort();
  assert.deepEqual(names({ volume: ['data'] }), ['/a']);
  assert.deepEqual(names({ volume: ['/v'] }), ['/a']);
  assert.deepEqual(names({ volume: ['/srv'] }), ['/b']);
  assert.deepEqual(names({ volume: ['/w', 'data'] }), ['/a', '/b']);
  assert.deepEqual(names({ volume: ['nope'] }), []);
  assert.deepEqual(names({ 'is-task': ['true'] }), []);
  assert.deepEqual(names({ 'is-task': ['false'] }), ['/a', '/b', '/c']);
});
