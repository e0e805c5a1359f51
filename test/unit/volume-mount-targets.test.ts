import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { resolveMountTargets } from '../../src/volume/mount-targets.js';
import type { SpecMount } from '../../src/runtime/types.js';

const bind = (destination: string): SpecMount => ({ destination, type: 'bind', source: '/src', options: ['rbind'] });

test('mount destinations through symlinks of the image resolve inside the rootfs', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mount-targets-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'data'));
  await symlink('/tmp/outside', join(root, 'escape')); // absolute, dangling: stays in the root
  await symlink('../data', join(root, 'rel'));
  await symlink('/data', join(root, 'abs'));

  const out = await resolveMountTargets(root, [
    bind('/plain/new'),
    bind('/escape'),
    bind('/rel/sub'),
    bind('/abs'),
    bind('/abs/under'), // under the mount above: left to the runtime
    bind('/data/./x/'),
  ]);
  assert.deepEqual(out.map((m) => m.destination), ['/plain/new', '/tmp/outside', '/data/sub', '/data', '/abs/under', '/data/./x/']);
  // Nothing but the destination changes.
  assert.deepEqual({ ...out[1], destination: '/escape' }, bind('/escape'));
});

test('a destination through a regular file is refused', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mount-targets-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(root, 'file'), 'x');
  await assert.rejects(resolveMountTargets(root, [bind('/file/x')]), /not a directory/);
});
