import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownerForUser } from '../../src/container/archive-owner.js';

// `docker cp -a` into a container with a Config.User: moby's getUIDGID against the
// container's own /etc/passwd and /etc/group.
const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\nwww:x:33:33::/var/www:/bin/sh\n';
const group = 'root:x:0:\nwww-data:x:33:\nstaff:x:50:www\n';
const etc = (p: string | null, g: string | null) => async (f: 'passwd' | 'group') => (f === 'passwd' ? p : g);

test('names and ids, user and group', async () => {
  const cases: Array<[string, { uid: number; gid: number }]> = [
    ['nobody', { uid: 65534, gid: 65534 }],
    ['www', { uid: 33, gid: 33 }],
    ['33', { uid: 33, gid: 33 }],
    ['12345', { uid: 12345, gid: 0 }], // unknown uid: as `docker run --user 12345`
    ['www:staff', { uid: 33, gid: 50 }],
    ['www:7', { uid: 33, gid: 7 }],
    [':50', { uid: 0, gid: 50 }],
    ['nobody:', { uid: 65534, gid: 65534 }],
  ];
  for (const [spec, want] of cases) assert.deepEqual(await ownerForUser(spec, etc(passwd, group)), want, spec);
});

test('names that are not there are errors, with moby\'s words', async () => {
  await assert.rejects(ownerForUser('bob', etc(passwd, group)), (err: Error) => err.message === 'failed to look up user "bob" in container: no matching entries in passwd file');
  await assert.rejects(ownerForUser('www:wheel', etc(passwd, group)), /failed to look up group "wheel" in container: no matching entries in group file/);
  await assert.rejects(ownerForUser('bob', etc(null, null)), /open \/etc\/passwd: no such file or directory/);
  assert.deepEqual(await ownerForUser('42:43', etc(null, null)), { uid: 42, gid: 43 });
});
