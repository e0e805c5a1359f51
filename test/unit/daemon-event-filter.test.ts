import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventMatches, type EventFilters } from '../../src/daemon/event-filter.js';
import type { EngineEvent } from '../../src/daemon/events.js';

const ev = (Type: EngineEvent['Type'], Action: string, ID: string, Attributes: Record<string, string> = {}): EngineEvent => ({
  Type, Action, Actor: { ID, Attributes }, scope: 'local', time: 1, timeNano: 1e9,
});

const web = ev('container', 'start', 'c0ffee', { name: 'web', image: 'busybox:latest', tier: 'front', env: 'prod' });
const web1 = ev('container', 'die', 'beef01', { name: 'web_1', image: 'busybox' });
const health = ev('container', 'health_status: healthy', 'c0ffee', { name: 'web', image: 'busybox' });
const netWeb = ev('network', 'create', 'n1', { name: 'webnet', type: 'bridge' });
const vol = ev('volume', 'create', 'data', { driver: 'local' });
const tag = ev('image', 'tag', 'sha256:aa', { name: 'busybox:latest' });

// Each row: filters, then which of the events above match (moby's daemon/events/filter.go).
const all = { web, web1, health, netWeb, vol, tag };
const cases: Array<[string, EventFilters, Array<keyof typeof all>]> = [
  ['no filters', {}, ['web', 'web1', 'health', 'netWeb', 'vol', 'tag']],
  ['type', { type: ['container'] }, ['web', 'web1', 'health']],
  ['two types', { type: ['network', 'volume'] }, ['netWeb', 'vol']],
  ['event exact', { event: ['start'] }, ['web']],
  ['health_status matches its suffixed actions', { event: ['health_status'] }, ['health']],
  ['container name is a prefix, of any type', { container: ['web'] }, ['web', 'web1', 'health', 'netWeb']],
  ['container id prefix', { container: ['beef'] }, ['web1']],
  ['container and type together', { container: ['web'], type: ['container'], event: ['die'] }, ['web1']],
  ['volume by name (its id)', { volume: ['data'] }, ['vol']],
  ['network by name', { network: ['webnet'] }, ['netWeb']],
  ['image with or without tag', { image: ['busybox'] }, ['web', 'web1', 'health', 'tag']],
  ['image with its tag', { image: ['busybox:latest'] }, ['web', 'tag']],
  ['image by id exactly', { image: ['sha256:aa'] }, ['tag']],
  ['image id prefix is no match', { image: ['sha256:a'] }, []],
  ['label key', { label: ['tier'] }, ['web']],
  ['labels are all required', { label: ['tier=front', 'env=prod'] }, ['web']],
  ['one label wrong', { label: ['tier=front', 'env=dev'] }, []],
  ['scope', { scope: ['swarm'] }, []],
  ['swarm objects match nothing', { service: ['x'] }, []],
];

for (const [name, filters, want] of cases) {
  test(`event filter: ${name}`, () => {
    const got = (Object.keys(all) as Array<keyof typeof all>).filter((k) => eventMatches(all[k], filters));
    assert.deepEqual(got, want);
  });
}
