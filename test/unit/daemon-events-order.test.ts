import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/daemon/events.js';

// Events carry strictly increasing timeNano in the order they are emitted (docker events
// --since and clients sort by it), though the wall clock has only millisecond steps.
test('event times never go back, even many in one millisecond', () => {
  const bus = new EventBus();
  for (let i = 0; i < 5000; i++) bus.emit('container', i % 2 ? 'exec_start' : 'exec_create', 'c'.repeat(64));
  const times = bus.since(0).map((e) => e.timeNano);
  assert.equal(times.length, 1024);
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!, `event ${i}: ${times[i]} after ${times[i - 1]}`);
  const last = bus.since(0).at(-1)!;
  assert.equal(last.time, Math.floor(last.timeNano / 1e9));
  assert.ok(Math.abs(last.timeNano / 1e6 - Date.now()) < 5_000, 'still the wall clock');
});
