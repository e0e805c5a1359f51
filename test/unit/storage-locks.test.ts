import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedExclusiveLock } from '../../src/storage/locks.js';

// A promise and the function that resolves it: lets a test hold a lock open.
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

test('shared holders run side by side', async () => {
  const lock = new SharedExclusiveLock();
  const g = gate();
  let inside = 0;
  let most = 0;
  const holders = [1, 2, 3].map(() =>
    lock.shared(async () => {
      inside++;
      most = Math.max(most, inside);
      await g.opened;
      inside--;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(inside, 3);
  g.open();
  await Promise.all(holders);
  assert.equal(most, 3);
});

test('exclusive waits for shared holders, and later shared ones wait for it', async () => {
  const lock = new SharedExclusiveLock();
  const order: string[] = [];
  const g = gate();
  const first = lock.shared(async () => {
    order.push('shared-1 in');
    await g.opened;
    order.push('shared-1 out');
  });
  const excl = lock.exclusive(async () => {
    order.push('exclusive');
  });
  const second = lock.shared(async () => {
    order.push('shared-2');
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, ['shared-1 in'], 'exclusive and the later shared wait');
  g.open();
  await Promise.all([first, excl, second]);
  assert.deepEqual(order, ['shared-1 in', 'shared-1 out', 'exclusive', 'shared-2']);
});

test('exclusive holders run one at a time; a failure releases the lock', async () => {
  const lock = new SharedExclusiveLock();
  let inside = 0;
  let most = 0;
  const run = (fail: boolean) =>
    lock.exclusive(async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setImmediate(r));
      inside--;
      if (fail) throw new Error('boom');
    });
  const results = await Promise.allSettled([run(false), run(true), run(false)]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal(most, 1);
  assert.equal(await lock.shared(async () => 'after'), 'after');
  await assert.rejects(lock.shared(async () => { throw new Error('shared boom'); }), /shared boom/);
  assert.equal(await lock.exclusive(async () => 'still usable'), 'still usable');
});
