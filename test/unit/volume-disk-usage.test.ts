import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diskUsage, type DfSources } from '../../src/volume/disk-usage-report.js';
import type { ContainerRecord } from '../../src/container/types.js';
import { ZERO_TIME } from '../../src/container/types.js';

function rec(id: string, created: string): ContainerRecord {
  return {
    Id: id.padEnd(64, '0'),
    Created: created,
    Path: 'true',
    Args: [],
    State: { Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
    Image: 'sha256:' + 'b'.repeat(64),
    Name: `/${id}`,
    RestartCount: 0,
    Config: { Labels: {}, Image: 'busybox' } as ContainerRecord['Config'],
    HostConfig: {} as ContainerRecord['HostConfig'],
    ImageChainId: null,
  };
}

test('system df lists containers newest first, as docker ps -a does', async () => {
  // The store hands records back in whatever order it keeps them (here oldest first).
  const records = [rec('aaa', '2026-01-01T00:00:01.000Z'), rec('ccc', '2026-01-01T00:00:03.000Z'), rec('bbb', '2026-01-01T00:00:02.000Z')];
  const src: DfSources = {
    images: { list: async () => [], inspect: async () => ({}) },
    layers: { list: async () => [], rwSize: async () => 0 },
    containers: () => records,
    volumes: async () => [],
  };
  const du = (await diskUsage(src, new Set(['container']), '1.44')) as { Containers: Array<{ Names: string[] }> };
  assert.deepEqual(du.Containers.map((c) => c.Names[0]), ['/ccc', '/bbb', '/aaa']);
  assert.deepEqual(records.map((r) => r.Name), ['/aaa', '/ccc', '/bbb'], 'the store order is left alone');
});
