import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon } from '../helpers/daemon.js';
import { ok } from './network-fixtures.js';
import { pushedDigest, startProxy, startRegistry, type TestRegistry } from './distribution-fixtures.js';

// pull, push, login, logout and search through a real berthd against berth's registry
// server on 127.0.0.1 (insecure by default, as loopback is for Docker), with the berth CLI
// and with the docker CLI.
let d: TestDaemon;
let reg: TestRegistry;

before(async () => {
  d = await TestDaemon.start();
  await ok(d, ['image', 'bootstrap', 'busybox']);
  reg = await startRegistry();
});
after(async () => {
  await d?.cleanup();
  await reg?.close();
});

const inspect = async (ref: string): Promise<{ Id: string; RepoTags: string[]; RepoDigests: string[] }> => JSON.parse(await ok(d, ['image', 'inspect', ref]))[0];

test('push, push again, rmi, pull back by tag and by digest, run', async () => {
  const repo = `${reg.host}/dist/busybox`;
  await ok(d, ['tag', 'busybox', repo]);
  const id = (await inspect('busybox')).Id;

  const first = await ok(d, ['push', repo]);
  assert.match(first, /^Using default tag: latest\n/);
  assert.match(first, new RegExp(`The push refers to repository \\[${repo}\\]\\n`));
  assert.match(first, /^[a-f0-9]{12}: Pushed$/m);
  const digest = pushedDigest(first);
  assert.ok((await inspect(repo)).RepoDigests.includes(`${repo}@${digest}`));

  const again = await ok(d, ['push', repo]);
  assert.match(again, /^[a-f0-9]{12}: Layer already exists$/m);
  assert.doesNotMatch(again, /Pushed/);
  assert.equal(pushedDigest(again), digest);

  // The seed's check of the registry itself.
  const catalog = (await (await fetch(`http://${reg.host}/v2/_catalog`)).json()) as { repositories: string[] };
  assert.ok(catalog.repositories.includes('dist/busybox'));
  assert.deepEqual(await (await fetch(`http://${reg.host}/v2/dist/busybox/tags/list`)).json(), { name: 'dist/busybox', tags: ['latest'] });

  // Gone locally (busybox too: the image itself must go), then back from the registry.
  await ok(d, ['rmi', repo, 'busybox']);
  const pulled = await ok(d, ['pull', repo]);
  assert.match(pulled, /^latest: Pulling from dist\/busybox$/m);
  assert.match(pulled, /^[a-f0-9]{12}: Pulling fs layer$/m);
  assert.match(pulled, /^[a-f0-9]{12}: Pull complete$/m);
  assert.match(pulled, new RegExp(`^Digest: ${digest}$`, 'm'));
  assert.match(pulled, new RegExp(`Status: Downloaded newer image for ${repo}:latest\\n${repo}:latest\\n$`));
  const img = await inspect(repo);
  assert.equal(img.Id, id, 'the same image ID: the config came back byte for byte');
  assert.deepEqual(img.RepoDigests, [`${repo}@${digest}`]);
  await ok(d, ['tag', repo, 'busybox']);

  const upToDate = await ok(d, ['pull', repo]);
  assert.match(upToDate, new RegExp(`Status: Image is up to date for ${repo}:latest\\n`));
  assert.doesNotMatch(upToDate, /Pulling fs layer/);

  const byDigest = await ok(d, ['pull', `${repo}@${digest}`]);
  assert.match(byDigest, new RegExp(`^${digest}: Pulling from dist/busybox$`, 'm'));
  assert.match(byDigest, new RegExp(`Status: Image is up to date for ${repo}@${digest}\\n${repo}@${digest}\\n$`));

  const run = await d.run(['run', '--rm', `${repo}@${digest}`, 'echo', 'pulled and running']);
  assert.equal(run.stdout, 'pulled and running\n', run.stderr);
  const digests = await ok(d, ['images', '--digests', '--format', '{{.Repository}} {{.Digest}}', repo]);
  assert.match(digests, new RegExp(`^${repo} ${digest}$`, 'm'));
});

test('docker errors: unknown manifest, unknown image to push, unreachable registries', async () => {
  const r = await d.run(['pull', `${reg.host}/dist/busybox:nope`]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `Error response from daemon: manifest for ${reg.host}/dist/busybox:nope not found: manifest unknown: manifest unknown\n`);

  const push = await d.run(['push', `${reg.host}/dist/never-tagged`]);
  assert.equal(push.code, 1);
  assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.host}/dist/never-tagged\\]`));
  assert.equal(push.stderr, `An image does not exist locally with the tag: ${reg.host}/dist/never-tagged\n`);

  // Docker Hub is not reachable here: a clear error at once, not a hang.
  const started = Date.now();
  const hub = await d.run(['pull', 'busybox:does-not-matter']);
  assert.equal(hub.code, 1);
  assert.match(hub.stderr, /^Error response from daemon: Get "https:\/\/registry-1\.docker\.io\/v2\/": dial tcp: lookup registry-1\.docker\.io/);
  assert.ok(Date.now() - started < 20_000);

  const refused = await d.run(['pull', '127.0.0.1:1/nothing']);
  assert.equal(refused.stderr, 'Error response from daemon: Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused\n');
});

test('run and create pull a missing image first', async () => {
  const repo = `${reg.host}/dist/runme`;
  await ok(d, ['tag', 'busybox', repo]);
  await ok(d, ['push', repo]);
  await ok(d, ['rmi', repo]);
  const r = await d.run(['run', '--rm', repo, 'echo', 'ran after pull']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'ran after pull\n');
  assert.match(r.stderr, new RegExp(`^Unable to find image '${repo}:latest' locally\\nlatest: Pulling from dist/runme\\n`));
  assert.match(r.stderr, new RegExp(`Status: (Downloaded newer image|Image is up to date) for ${repo}:latest\\n$`));
});

test('-a pushes and pulls every tag; a second repository mounts the blobs', async () => {
  const repo = `${reg.host}/dist/multi`;
  await ok(d, ['tag', 'busybox', `${repo}:one`]);
  await ok(d, ['tag', 'busybox', `${repo}:two`]);
  const pushed = await ok(d, ['push', '-a', repo]);
  const one = pushedDigest(pushed, 'one');
  assert.equal(pushedDigest(pushed, 'two'), one);
  await ok(d, ['rmi', `${repo}:one`, `${repo}:two`]);
  const pulled = await ok(d, ['pull', '-a', repo]);
  assert.match(pulled, /^one: Pulling from dist\/multi$/m);
  assert.match(pulled, /^two: Pulling from dist\/multi$/m);
  assert.match(pulled, new RegExp(`${repo}\\n$`));
  const tags = (await inspect(`${repo}:one`)).RepoTags.sort();
  assert.ok(tags.includes(`${repo}:one`) && tags.includes(`${repo}:two`), tags.join(' '));

  const tagged = await d.run(['pull', '-a', `${repo}:one`]);
  assert.equal(tagged.stderr, "tag can't be used with --all-tags/-a\n");

  // Known to be in dist/multi already: mounted into a sibling instead of uploaded.
  await ok(d, ['tag', 'busybox', `${reg.host}/other/copy`]);
  const mounted = await ok(d, ['push', `${reg.host}/other/copy`]);
  assert.match(mounted, /^[a-f0-9]{12}: Mounted from dist\/(busybox|multi|runme)$/m);
});

test('search asks the registry', async () => {
  const out = await ok(d, ['search', `${reg.host}/dist`]);
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/);
  assert.ok(lines.some((l) => /^dist\/busybox\s+0\s*$/.test(l)), out);
  const names = await ok(d, ['search', '--format', '{{.Name}}', '--limit', '100', `${reg.host}/busybox`]);
  assert.ok(names.split('\n').includes('dist/busybox'), names);
  const starred = await ok(d, ['search', '-f', 'stars=3', `${reg.host}/dist`]);
  assert.equal(starred.trim().split('\n').length, 1, 'only the header: nothing has stars');
  const bad = await d.run(['search', '--limit', '101', `${reg.host}/dist`]);
  assert.equal(bad.stderr, 'Error response from daemon: limit 101 is outside the range of [1, 100]\n');
});

test('pull and push events', async () => {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const repo = `${reg.host}/dist/events`;
  await ok(d, ['tag', 'busybox', repo]);
  await ok(d, ['push', repo]);
  await ok(d, ['pull', repo]);
  const until = String(Math.floor(Date.now() / 1000) + 1);
  const ev = await ok(d, ['events', '--since', since, '--until', until, '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
  assert.match(ev, new RegExp(`^push ${repo}:latest ${repo}$`, 'm'));
  assert.match(ev, new RegExp(`^pull ${repo}:latest ${repo}$`, 'm'));
});

test('the docker CLI pushes and pulls through berthd', async () => {
  const repo = `${reg.host}/dist/viadocker`;
  await ok(d, ['tag', 'busybox', repo]);
  const pushed = await ok(d, ['push', repo], 'docker');
  assert.match(pushed, new RegExp(`The push refers to repository \\[${repo}\\]`));
  const digest = pushedDigest(pushed);
  await ok(d, ['rmi', repo], 'docker');
  const pulled = await ok(d, ['pull', repo], 'docker');
  assert.match(pulled, new RegExp(`Digest: ${digest}\\n`));
  assert.match(pulled, new RegExp(`${repo}:latest\\n$`));
  const missing = await d.docker(['pull', `${reg.host}/dist/viadocker:nope`]);
  assert.match(missing.stderr, new RegExp(`manifest for ${reg.host}/dist/viadocker:nope not found: manifest unknown: manifest unknown`));
  const search = await ok(d, ['search', `${reg.host}/viadocker`], 'docker');
  assert.match(search, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL\n/);
  assert.match(search, /^dist\/viadocker\s+0\s*$/m);
});

test('basic auth: no credentials, wrong ones, login, push, pull, logout', async (t) => {
  const secured = await startRegistry({ user: 'alice', password: 's3cret' });
  t.after(() => secured.close());
  const repo = `${secured.host}/team/busybox`;
  await ok(d, ['tag', 'busybox', repo]);

  const anon = await d.run(['push', repo]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /no basic auth credentials\n$/);

  const wrong = await d.run(['login', '-u', 'alice', '--password-stdin', secured.host], { input: 'nope\n' });
  assert.equal(wrong.code, 1);
  assert.equal(wrong.stderr, `Error response from daemon: login attempt to http://${secured.host}/v2/ failed with status: 401 Unauthorized\n`);

  const login = await d.run(['login', '-u', 'alice', '--password-stdin', secured.host], { input: 's3cret\n' });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, 'Login Succeeded\n');
  const cfgPath = join(d.dir, 'docker-config', 'config.json');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
  assert.deepEqual(cfg.auths[secured.host], { auth: Buffer.from('alice:s3cret').toString('base64') });
  assert.match(login.stderr, /WARNING! Your credentials are stored unencrypted/);

  assert.match(await ok(d, ['push', repo]), /: Pushed$/m);
  await ok(d, ['rmi', repo]);
  assert.match(await ok(d, ['pull', repo]), new RegExp(`${repo}:latest\\n$`));
  // The docker CLI reads the same config.json.
  assert.match(await ok(d, ['push', repo], 'docker'), /Layer already exists/);

  // The docker CLI logs in through berthd's POST /auth too.
  const viaDocker = await d.run(['login', '-u', 'alice', '--password-stdin', secured.host], { cli: 'docker', input: 's3cret' });
  assert.match(viaDocker.stdout, /Login Succeeded/, viaDocker.stderr);
  const dockerWrong = await d.run(['login', '-u', 'alice', '--password-stdin', secured.host], { cli: 'docker', input: 'bad' });
  assert.match(dockerWrong.stderr, new RegExp(`login attempt to http://${secured.host}/v2/ failed with status: 401 Unauthorized`));

  const logout = await ok(d, ['logout', secured.host]);
  assert.equal(logout, `Removing login credentials for ${secured.host}\n`);
  assert.equal(JSON.parse(await readFile(cfgPath, 'utf8')).auths[secured.host], undefined);
  const after = await d.run(['pull', repo]);
  assert.match(after.stderr, /no basic auth credentials\n$/);
});

test('bearer tokens from a token server, cached per scope', async (t) => {
  const proxy = await startProxy(reg.host, { tokenUsers: { bob: 'hunter2' } });
  t.after(() => proxy.close());
  const repo = `${proxy.host}/tok/busybox`;
  await ok(d, ['tag', 'busybox', repo]);

  const anon = await d.run(['push', repo]);
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /unauthorized: authentication required\n$/);

  const bad = await d.run(['login', '-u', 'bob', '-p', 'wrong', proxy.host]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, `WARNING! Using --password via the CLI is insecure. Use --password-stdin.\nError response from daemon: Get "http://${proxy.host}/v2/": unauthorized: incorrect username or password\n`);
  const login = await d.run(['login', '-u', 'bob', '--password-stdin', proxy.host], { input: 'hunter2' });
  assert.equal(login.stdout, 'Login Succeeded\n', login.stderr);

  const before = proxy.tokenRequests.length;
  const pushed = await ok(d, ['push', repo]);
  assert.match(pushed, /: (Pushed|Mounted from .*|Layer already exists)$/m);
  const pushTokens = proxy.tokenRequests.slice(before);
  assert.ok(pushTokens.some((s) => s.includes('repository:tok/busybox:push,pull')), pushTokens.join(' | '));
  // One token serves every request of the push with the same scopes.
  assert.ok(pushTokens.filter((s) => s === 'repository:tok/busybox:push,pull').length <= 1, pushTokens.join(' | '));

  await ok(d, ['rmi', repo]);
  assert.match(await ok(d, ['pull', repo]), new RegExp(`${repo}:latest\\n$`));
  await ok(d, ['logout', proxy.host]);
});
