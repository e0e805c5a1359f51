import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUnder, parseMountPoints } from '../../bench/lib/mounts.js';

test('parseMountPoints takes field 5 and decodes octal escapes', () => {
  const info = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '90 22 0:50 / /tmp/b/docker-root/overlay2/x/merged rw - overlay overlay rw',
    '91 22 0:51 / /tmp/with\\040space rw - tmpfs tmpfs rw',
    '',
  ].join('\n');
  assert.deepEqual(parseMountPoints(info), ['/', '/tmp/b/docker-root/overlay2/x/merged', '/tmp/with space']);
});

test('isUnder matches the directory and its descendants only', () => {
  const cases: [string, string, boolean][] = [
    ['/tmp/b/root', '/tmp/b/root', true],
    ['/tmp/b/root/x', '/tmp/b/root', true],
    ['/tmp/b/root/x', '/tmp/b/root/', true],
    ['/tmp/b/root2', '/tmp/b/root', false],
    ['/tmp/b', '/tmp/b/root', false],
  ];
  for (const [path, dir, want] of cases) assert.equal(isUnder(path, dir), want, `${path} under ${dir}`);
});
