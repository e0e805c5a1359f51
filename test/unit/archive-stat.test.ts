import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePathStat, goFileMode, pathStat } from '../../src/container/archive-stat.js';

// st_mode → Go os.FileMode, as the docker CLI reads X-Docker-Container-Path-Stat.
test('goFileMode: file types in the high bits, permission bits kept', () => {
  const cases: Array<[number, number, string]> = [
    [0o100644, 0o644, 'regular file'],
    [0o040755, 2 ** 31 + 0o755, 'directory'],
    [0o120777, 2 ** 27 + 0o777, 'symlink'],
    [0o020666, 2 ** 26 + 2 ** 21 + 0o666, 'char device'],
    [0o060660, 2 ** 26 + 0o660, 'block device'],
    [0o010644, 2 ** 25 + 0o644, 'fifo'],
    [0o140755, 2 ** 24 + 0o755, 'socket'],
    [0o104755, 2 ** 23 + 0o755, 'setuid'],
    [0o102755, 2 ** 22 + 0o755, 'setgid'],
    [0o041777, 2 ** 31 + 2 ** 20 + 0o777, 'sticky dir (/tmp)'],
  ];
  for (const [st, want, what] of cases) assert.equal(goFileMode(st), want, what);
});

test('pathStat: Go JSON field order, RFC 3339 mtime with nanoseconds, base64 header', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-archive-stat-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'f'), 'hello');
  await symlink('/etc', join(dir, 'l'));
  const st = pathStat('f', await lstat(join(dir, 'f'), { bigint: true }), '');
  assert.deepEqual(Object.keys(st), ['name', 'size', 'mode', 'mtime', 'linkTarget']);
  assert.equal(st.size, 5);
  assert.equal(st.mode, goFileMode((await lstat(join(dir, 'f'))).mode));
  assert.match(st.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  const link = pathStat('l', await lstat(join(dir, 'l'), { bigint: true }), '/etc');
  assert.equal(Math.floor(link.mode / 2 ** 27) % 2, 1);
  assert.deepEqual(JSON.parse(Buffer.from(encodePathStat(link), 'base64').toString()), link);
});
