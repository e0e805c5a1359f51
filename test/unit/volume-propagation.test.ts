import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rootfsPropagation, sourceMount } from '../../src/volume/propagation.js';
import type { SpecMount } from '../../src/runtime/types.js';

// A host with a private root, a shared /mnt/shared, a slave /mnt/slave, and a mount point
// with a space in its name stacked twice (the later one wins).
const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '40 26 0:50 / /mnt/shared rw,relatime shared:7 - tmpfs tmpfs rw',
  '41 26 0:51 / /mnt/slave rw,relatime master:7 - tmpfs tmpfs rw',
  '42 26 0:52 / /mnt/a\\040b rw,relatime - tmpfs tmpfs rw',
  '43 42 0:53 / /mnt/a\\040b rw,relatime shared:9 - tmpfs tmpfs rw',
  '',
].join('\n');

const bind = (source: string, ...options: string[]): SpecMount => ({ destination: '/x', type: 'bind', source, options: ['rbind', ...options] });
const propagation = (mounts: SpecMount[]): Promise<string | undefined> => rootfsPropagation(mounts, async () => MOUNTINFO);

test('the mount a path lives on: the longest mount point above it, the later of stacked ones', () => {
  assert.deepEqual(sourceMount('/mnt/shared/dir', MOUNTINFO), { mountPoint: '/mnt/shared', optional: ['shared:7'] });
  assert.deepEqual(sourceMount('/mnt/sharedx', MOUNTINFO), { mountPoint: '/', optional: [] });
  assert.deepEqual(sourceMount('/mnt/a b/c', MOUNTINFO), { mountPoint: '/mnt/a b', optional: ['shared:9'] });
  assert.deepEqual(sourceMount('/', MOUNTINFO), { mountPoint: '/', optional: [] });
});

test('bind propagation: a source of the right kind, and the rootfs propagation it needs (moby\'s WithMounts)', async () => {
  assert.equal(await propagation([bind('/srv'), bind('/mnt/shared', 'rprivate')]), undefined);
  assert.equal(await propagation([bind('/mnt/shared/d', 'rshared')]), 'shared');
  assert.equal(await propagation([bind('/mnt/slave/d', 'rslave')]), 'rslave');
  assert.equal(await propagation([bind('/mnt/shared/d', 'slave')]), 'rslave');
  assert.equal(await propagation([bind('/mnt/slave/d', 'rslave'), bind('/mnt/shared', 'shared')]), 'shared');
  assert.equal(await propagation([bind('/mnt/shared', 'shared'), bind('/mnt/slave', 'rslave')]), 'shared');
  await assert.rejects(propagation([bind('/srv/data', 'rshared')]), /^BerthError: path \/srv\/data is mounted on \/ but it is not a shared mount$/);
  await assert.rejects(propagation([bind('/mnt/slave/d', 'shared')]), /path \/mnt\/slave\/d is mounted on \/mnt\/slave but it is not a shared mount/);
  await assert.rejects(propagation([bind('/srv/data', 'rslave')]), /path \/srv\/data is mounted on \/ but it is not a shared or slave mount/);
  // Volumes and tmpfs carry no propagation of their own.
  assert.equal(await propagation([{ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['rprivate'] }]), undefined);
});
