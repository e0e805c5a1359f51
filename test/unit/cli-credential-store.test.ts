import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CredentialStore, credentialFiles, registryAuthFor } from '../../src/cli/credential-store.js';
import { decodeAuthConfig, INDEX_SERVER } from '../../src/distribution/auth-config.js';

async function home(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-creds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('where credentials live: --config, BERTH_CONFIG, DOCKER_CONFIG, else ~/.berth then ~/.docker', () => {
  assert.deepEqual(credentialFiles({ HOME: '/h' }), { write: '/h/.berth/config.json', read: ['/h/.berth/config.json', '/h/.docker/config.json'] });
  assert.deepEqual(credentialFiles({ HOME: '/h', DOCKER_CONFIG: '/d' }), { write: '/d/config.json', read: ['/d/config.json'] });
  assert.deepEqual(credentialFiles({ HOME: '/h', DOCKER_CONFIG: '/d', BERTH_CONFIG: '/b' }), { write: '/b/config.json', read: ['/b/config.json'] });
  assert.deepEqual(credentialFiles({ HOME: '/h', BERTH_CONFIG: '/b' }, '/flag'), { write: '/flag/config.json', read: ['/flag/config.json'] });
});

test('login stores "auth" as docker does, keeps the file\'s other keys, mode 0600', async (t) => {
  const h = await home(t);
  const file = join(h, '.berth', 'config.json');
  await mkdir(join(h, '.berth'));
  await writeFile(file, JSON.stringify({ psFormat: 'table {{.ID}}', auths: { 'other:5000': { auth: b64('o:p') } } }));
  const store = new CredentialStore(credentialFiles({ HOME: h }));
  await store.store({ username: 'alice', password: 'pa:ss', serveraddress: '127.0.0.1:5000' });
  const saved = JSON.parse(await readFile(file, 'utf8'));
  assert.deepEqual(saved, { psFormat: 'table {{.ID}}', auths: { 'other:5000': { auth: b64('o:p') }, '127.0.0.1:5000': { auth: b64('alice:pa:ss') } } });
  assert.match(await readFile(file, 'utf8'), /^\{\n\t"psFormat"/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(store.get('127.0.0.1:5000'), { serveraddress: '127.0.0.1:5000', username: 'alice', password: 'pa:ss' });
  assert.deepEqual(store.get('nowhere:1'), {});

  assert.equal(await store.erase('127.0.0.1:5000'), true);
  assert.equal(await store.erase('127.0.0.1:5000'), false);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')).auths, { 'other:5000': { auth: b64('o:p') } });
});

test('docker\'s own config.json is read when berth has nothing, legacy keys included', async (t) => {
  const h = await home(t);
  await mkdir(join(h, '.docker'));
  await writeFile(
    join(h, '.docker', 'config.json'),
    JSON.stringify({ auths: { 'https://legacy.example:5000/v1/': { auth: b64('old:pw') }, [INDEX_SERVER]: { auth: b64('hub:pw') }, 'tok.example': { identitytoken: 'refresh' } } }),
  );
  const store = new CredentialStore(credentialFiles({ HOME: h }));
  assert.deepEqual(store.get('legacy.example:5000'), { serveraddress: 'legacy.example:5000', username: 'old', password: 'pw' });
  assert.deepEqual(store.get('tok.example'), { serveraddress: 'tok.example', identitytoken: 'refresh' });
  // berth's file wins once it has an entry.
  await store.store({ username: 'new', password: 'pw2', serveraddress: INDEX_SERVER });
  assert.equal(store.get(INDEX_SERVER).username, 'new');
  assert.deepEqual(store.elsewhere(INDEX_SERVER), [join(h, '.docker', 'config.json')]);
  const ctx = { io: { env: { HOME: h } as NodeJS.ProcessEnv }, explicitConfigDir: () => undefined };
  assert.deepEqual(decodeAuthConfig(registryAuthFor(ctx, 'docker.io')), { username: 'new', password: 'pw2', serveraddress: INDEX_SERVER });
  assert.equal(registryAuthFor(ctx, 'unknown.example'), 'e30=');
});

test('an unreadable or malformed config.json is treated as empty', async (t) => {
  const h = await home(t);
  await mkdir(join(h, '.berth'));
  await writeFile(join(h, '.berth', 'config.json'), '{not json');
  const store = new CredentialStore(credentialFiles({ HOME: h }));
  assert.deepEqual(store.get('x'), {});
  await store.store({ username: 'u', password: 'p', serveraddress: 'x' });
  assert.deepEqual(JSON.parse(await readFile(join(h, '.berth', 'config.json'), 'utf8')), { auths: { x: { auth: b64('u:p') } } });
});
