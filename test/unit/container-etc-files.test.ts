import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureEtcFiles, writeEtcFiles, type EtcFilesInput } from '../../src/container/etc-files.js';

const input: EtcFilesInput = {
  hostname: 'abc123', domainname: '', extraHosts: ['db:10.0.0.5'], dns: ['1.1.1.1'], dnsSearch: [], dnsOptions: [], addresses: [],
};

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'berth-etc-'));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

test('writeEtcFiles writes the three files whole and leaves no temp file', async (t) => {
  const dir = join(await tempDir(t), 'ctr');
  await writeEtcFiles(dir, input);
  assert.deepEqual((await readdir(dir)).sort(), ['hostname', 'hosts', 'resolv.conf']);
  assert.equal(await readFile(join(dir, 'hostname'), 'utf8'), 'abc123\n');
  assert.match(await readFile(join(dir, 'hosts'), 'utf8'), /\n10\.0\.0\.5\tdb\n$/);
  assert.equal(await readFile(join(dir, 'resolv.conf'), 'utf8'), 'nameserver 1.1.1.1\n');
});

test('ensureEtcFiles rewrites what a crash emptied or lost, and nothing else', async (t) => {
  const dir = await tempDir(t);
  await writeEtcFiles(dir, input);
  const before = (await stat(join(dir, 'hosts'))).mtimeMs;
  await ensureEtcFiles(dir, input);
  assert.equal((await stat(join(dir, 'hosts'))).mtimeMs, before, 'whole files are left alone');
  await writeFile(join(dir, 'hosts'), '127.0.0.1\tlocalhost\n10.9.9.9\tadded-later\n');

  for (const damage of [(p: string) => truncate(p, 0), (p: string) => unlink(p)]) {
    await damage(join(dir, 'resolv.conf'));
    await ensureEtcFiles(dir, input);
    assert.equal(await readFile(join(dir, 'resolv.conf'), 'utf8'), 'nameserver 1.1.1.1\n');
    assert.equal(await readFile(join(dir, 'hostname'), 'utf8'), 'abc123\n');
    assert.match(await readFile(join(dir, 'hosts'), 'utf8'), /added-later/, 'a whole file keeps what was added to it');
  }
});
