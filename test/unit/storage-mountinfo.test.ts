import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMountinfo } from '../../src/storage/mounts.js';

test('parseMountinfo reads mount points, types and sources', () => {
  const text = [
    '21 26 0:20 / /proc rw,relatime - proc proc rw',
    '26 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
    '90 26 0:50 / /var/lib/berth/overlay2/abc/merged rw,relatime shared:40 master:2 - overlay overlay rw,lowerdir=l/A:l/B,upperdir=abc/diff,workdir=abc/work',
    '91 26 0:51 / /tmp/with\\040space\\011tab\\134slash rw - tmpfs tmp\\040fs rw',
    '',
  ].join('\n');
  assert.deepEqual(parseMountinfo(text), [
    { mountPoint: '/proc', fsType: 'proc', source: 'proc', superOptions: 'rw' },
    { mountPoint: '/', fsType: 'ext4', source: '/dev/vda', superOptions: 'rw,discard' },
    {
      mountPoint: '/var/lib/berth/overlay2/abc/merged',
      fsType: 'overlay',
      source: 'overlay',
      superOptions: 'rw,lowerdir=l/A:l/B,upperdir=abc/diff,workdir=abc/work',
    },
    { mountPoint: '/tmp/with space\ttab\\slash', fsType: 'tmpfs', source: 'tmp fs', superOptions: 'rw' },
  ]);
});

test('parseMountinfo skips malformed lines', () => {
  assert.deepEqual(parseMountinfo('garbage\n1 2 3 4 /x rw no-separator here\n'), []);
});
