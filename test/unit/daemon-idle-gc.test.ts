import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { giveMemoryBack, IdleCollector } from '../../src/daemon/idle-gc.js';

test('collects once, after the last touch has been quiet for the delay', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const collect = mock.fn();
  const c = new IdleCollector(collect, 1000);
  c.touch();
  t.mock.timers.tick(600);
  c.touch(); // more work: the delay starts again
  t.mock.timers.tick(600);
  assert.equal(collect.mock.callCount(), 0);
  t.mock.timers.tick(400);
  assert.equal(collect.mock.callCount(), 1);
  t.mock.timers.tick(5000);
  assert.equal(collect.mock.callCount(), 1, 'nothing new happened: no second collection');
  c.touch();
  t.mock.timers.tick(1000);
  assert.equal(collect.mock.callCount(), 2);
});

test('stop cancels a pending collection', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const collect = mock.fn();
  const c = new IdleCollector(collect, 1000);
  c.touch();
  c.stop();
  t.mock.timers.tick(2000);
  assert.equal(collect.mock.callCount(), 0);
});

test('giving memory back works without --expose-gc (malloc_trim only)', () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  giveMemoryBack();
});
