import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveUserSpec, resolveUser, additionalGroups } from '../../src/runtime/user.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
  'app:x:1000:1000::/home/app:/bin/sh',
  '',
].join('\n');
const GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'wheel:x:10:app,root',
  'audio:x:29:app',
  'www-data:x:33:',
  'app:x:1000:',
].join('\n');

const cases: Array<{ spec: string; passwd?: string | null; group?: string | null; groupAdd?: string[]; want?: object; err?: RegExp }> = [
  // Supplementary groups are the ones listing the user by name (root is not listed in group 0).
  { spec: '', want: { uid: 0, gid: 0, additionalGids: [10], home: '/root' } },
  { spec: 'root', want: { uid: 0, gid: 0, additionalGids: [10], home: '/root' } },
  { spec: 'app', want: { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' } },
  { spec: '1000', want: { uid: 1000, gid: 1000, additionalGids: [10, 29], home: '/home/app' } },
  { spec: '1000:33', want: { uid: 1000, gid: 33, additionalGids: [], home: '/home/app' } },
  { spec: 'app:www-data', want: { uid: 1000, gid: 33, additionalGids: [], home: '/home/app' } },
  { spec: '4242', want: { uid: 4242, gid: 0, additionalGids: [], home: '/' } },
  { spec: '4242:4343', want: { uid: 4242, gid: 4343, additionalGids: [], home: '/' } },
  { spec: '33:audio', want: { uid: 33, gid: 29, additionalGids: [], home: '/var/www' } },
  { spec: 'nosuch', err: /^unable to find user nosuch: no matching entries in passwd file$/ },
  { spec: 'app:nogroup', err: /^unable to find group nogroup: no matching entries in group file$/ },
  { spec: '-1', err: /uids and gids must be in range/ },
  { spec: '1:99999999999', err: /uids and gids must be in range/ },
  // Files missing from the image: numbers work, names do not.
  { spec: '', passwd: null, group: null, want: { uid: 0, gid: 0, additionalGids: [], home: '/' } },
  { spec: '7:8', passwd: null, group: null, want: { uid: 7, gid: 8, additionalGids: [], home: '/' } },
  { spec: 'app', passwd: null, group: null, err: /unable to find user app: no matching entries in passwd file/ },
  { spec: '0:wheel', passwd: null, group: null, err: /unable to find group wheel/ },
  // --group-add
  { spec: 'app', groupAdd: ['www-data', '4000', 'wheel'], want: { uid: 1000, gid: 1000, additionalGids: [10, 29, 33, 4000], home: '/home/app' } },
  { spec: '', groupAdd: ['nope'], err: /^Unable to find group nope$/ },
];

for (const tc of cases) {
  test(`user ${JSON.stringify(tc.spec)}${tc.passwd === null ? ' without passwd' : ''}${tc.groupAdd ? ` +${tc.groupAdd}` : ''}`, () => {
    const run = () => resolveUserSpec(tc.spec, tc.passwd === undefined ? PASSWD : tc.passwd, tc.group === undefined ? GROUP : tc.group, tc.groupAdd);
    if (tc.err) assert.throws(run, { message: tc.err });
    else assert.deepEqual(run(), tc.want);
  });
}

test('additional groups: numbers without a group file', () => {
  assert.deepEqual(additionalGroups(['5', '5', '6'], null), [5, 6]);
});

test('resolveUser reads the rootfs files and never follows a link out of it', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'berth-user-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'etc'));
  await mkdir(join(root, 'data'));
  await writeFile(join(root, 'data/passwd'), 'svc:x:501:502::/srv:/bin/sh\n');
  // An absolute link is resolved inside the rootfs, as if the rootfs were '/'.
  await symlink('/data/passwd', join(root, 'etc/passwd'));
  await symlink('../../../../../../etc/nothing-here', join(root, 'etc/group'));
  assert.deepEqual(await resolveUser(root, 'svc'), { uid: 501, gid: 502, additionalGids: [], home: '/srv' });
  await assert.rejects(resolveUser(root, 'root'), /unable to find user root/);
  // No /etc at all.
  const empty = await mkdtemp(join(tmpdir(), 'berth-user-'));
  t.after(() => rm(empty, { recursive: true, force: true }));
  assert.deepEqual(await resolveUser(empty, '12:34', ['56']), { uid: 12, gid: 34, additionalGids: [56], home: '/' });
});
