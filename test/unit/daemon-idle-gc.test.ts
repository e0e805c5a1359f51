import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { giveMemoryBack, IdleCollector } from '../../src/daemon/idle-gc.js';

test('collects once no call has run for the delay, never while one runs', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const collect = mock.fn();
  const c = new IdleCollector(collect, 1000);
  c.begin();
  c.begin();
  c.end();
  t.mock.timers.tick(5000);
  assert.equal(collect.mock.callCount(), 0, 'a call still runs');
  c.end();
  t.mock.timers.tick(600);
  c.begin(); // more work before the delay is over
  c.end();
  t.mock.timers.tick(600);
  assert.equal(collect.mock.callCount(), 0);
  t.mock.timers.tick(400);
  assert.equal(collect.mock.callCount(), 1);
  t.mock.timers.tick(5000);
  assert.equal(collect.mock.callCount(), 1, 'nothing new happened: no second collection');
});

test('arm (start-up) and cancel (stop)', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const collect = mock.fn();
  const c = new IdleCollector(collect, 1000);
  c.arm();
  t.mock.timers.tick(1000);
  assert.equal(collect.mock.callCount(), 1);
  c.arm();
  c.cancel();
  t.mock.timers.tick(2000);
  assert.equal(collect.mock.callCount(), 1);
});

test('giving memory back works without --expose-gc (malloc_trim only)', () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  giveMemoryBack();
});
