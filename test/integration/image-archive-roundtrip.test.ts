import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { TestDaemon, runCommand } from '../helpers/daemon.js';
import { makeTar, type TarSpec } from '../unit/image-archive-tar.js';

// save and load end to end through a real berthd: the berth CLI and the docker CLI, one
// image and several, docker-archive and OCI layout, and archives crafted to do harm.
let d: TestDaemon;
let busyboxId = '';
let busyboxDiffId = '';

const sha256 = async (b: Buffer | string) => `sha256:${(await import('node:crypto')).createHash('sha256').update(b).digest('hex')}`;

async function ok(args: string[], input?: string | Buffer, cli: 'berth' | 'docker' = 'berth'): Promise<string> {
  const r = await d.run(args, { input, cli });
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}${d.log.slice(-2000)}`);
  return r.stdout;
}

const inspectId = async (ref: string) => (await ok(['image', 'inspect', '--format', '{{.Id}}', ref])).trim();

async function tarEntries(file: string): Promise<Map<string, { type: string; linkname: string; body: Buffer }>> {
  const out = new Map<string, { type: string; linkname: string; body: Buffer }>();
  const ex = tar.extract();
  Readable.from([await readFile(file)]).pipe(ex);
  for await (const e of ex) {
    const parts: Buffer[] = [];
    for await (const c of e) parts.push(c as Buffer);
    out.set(e.header.name, { type: e.header.type ?? '', linkname: e.header.linkname ?? '', body: Buffer.concat(parts) });
  }
  return out;
}

// What a load must leave untouched when it fails: images, layers, blobs, and no spool.
async function state(): Promise<string> {
  const ls = async (p: string) => (await readdir(join(d.dataRoot, p)).catch(() => [] as string[])).sort().join(',');
  return JSON.stringify({
    images: await ok(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']),
    layers: await ls('layerdb/sha256'),
    overlay: await ls('overlay2'),
    blobs: await ls('content/sha256'),
    tmp: await ls('tmp'),
    marks: await ls('image/layer-tars'),
  });
}

function loadViaApi(body: Buffer, quiet: boolean): Promise<{ status: number; type: string; messages: Array<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: d.sock, method: 'POST', path: `/v1.41/images/load?quiet=${quiet ? 1 : 0}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type']),
          messages: text
            .split(/\r?\n/)
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

before(async () => {
  d = await TestDaemon.start();
  await ok(['image', 'bootstrap', 'busybox']);
  busyboxId = await inspectId('busybox');
  busyboxDiffId = JSON.parse(await ok(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', 'busybox']))[0];
});
after(async () => {
  await d?.cleanup();
});

test('berth save, rmi, berth load: the same ID, the tags back, and it runs', async () => {
  const file = join(d.dir, 'busybox.tar');
  await ok(['tag', 'busybox', 'busybox:second']);
  await ok(['save', '-o', file, 'busybox']);
  const entries = await tarEntries(file);
  const manifest = JSON.parse(entries.get('manifest.json')!.body.toString());
  // A name alone saves all its tags, as dockerd does.
  assert.deepEqual(manifest[0].RepoTags, ['busybox:latest', 'busybox:second']);
  assert.equal(manifest[0].Config, `${busyboxId.slice(7)}.json`);
  assert.ok(entries.get(`blobs/sha256/${busyboxDiffId.slice(7)}`), 'the layer tar is there under its diff ID');
  assert.equal(await sha256(entries.get(`blobs/sha256/${busyboxDiffId.slice(7)}`)!.body), busyboxDiffId);

  await ok(['rmi', 'busybox', 'busybox:second']);
  assert.equal((await d.run(['image', 'inspect', busyboxId])).code, 1);
  // The layer went, and its kept tar with it.
  assert.equal(existsSync(join(d.dataRoot, 'content/sha256', busyboxDiffId.slice(7))), false);

  assert.equal(await ok(['load', '-i', file]), 'Loaded image: busybox:latest\nLoaded image: busybox:second\n');
  assert.equal(await inspectId('busybox'), busyboxId);
  assert.equal(await inspectId('busybox:second'), busyboxId);
  assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'loaded and running']), 'loaded and running\n');
  await ok(['rmi', 'busybox:second']);

  // Saving again gives the same bytes.
  const again = join(d.dir, 'busybox-again.tar');
  await ok(['save', '-o', again, 'busybox:latest']);
  const one = join(d.dir, 'busybox-one.tar');
  await ok(['save', '-o', one, 'busybox:latest']);
  assert.ok((await readFile(again)).equals(await readFile(one)));
});

test('the docker CLI saves and loads through berthd; gzip and stdin work', async () => {
  const file = join(d.dir, 'docker-saved.tar');
  await ok(['save', '-o', file, 'busybox'], undefined, 'docker');
  await ok(['rmi', 'busybox'], undefined, 'docker');
  assert.equal(await ok(['load', '-i', file], undefined, 'docker'), 'Loaded image: busybox:latest\n');
  assert.equal(await inspectId('busybox'), busyboxId);
  await ok(['rmi', 'busybox']);
  const gz = gzipSync(await readFile(file));
  assert.equal(await ok(['load'], gz, 'docker'), 'Loaded image: busybox:latest\n');
  assert.equal(await ok(['run', '--rm', 'busybox', 'true'], undefined, 'docker'), '');
  // berth save to stdout through a pipe into berth load (the tar must arrive whole).
  await ok(['tag', 'busybox', 'piped:1']);
  const piped = await runCommand('sh', ['-c', `node ${join(import.meta.dirname, '../../dist/berth.mjs')} -H ${d.host} save piped:1 | gzip | node ${join(import.meta.dirname, '../../dist/berth.mjs')} -H ${d.host} load`]);
  assert.equal(piped.stdout, 'Loaded image: piped:1\n', piped.stderr);
  await ok(['rmi', 'piped:1']);
});

test('save errors come before any byte, as dockerd words them', async () => {
  const out = join(d.dir, 'never.tar');
  for (const cli of ['berth', 'docker'] as const) {
    const missing = await d.run(['save', '-o', out, 'nosuchimage'], { cli });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error response from daemon: No such image: nosuchimage/);
    const tag = await d.run(['save', '-o', out, 'busybox:nosuchtag'], { cli });
    assert.equal(tag.code, 1);
    assert.match(tag.stderr, /Error response from daemon: reference does not exist/);
    assert.equal(existsSync(out), false);
    // The output path is checked first, as docker 28's atomic writer does.
    const dir = await d.run(['save', '-o', d.dir, 'busybox'], { cli });
    assert.equal(dir.stderr, 'failed to save image: cannot write to a directory\n');
    const noDir = await d.run(['save', '-o', '/nonexistent-dir/x.tar', 'busybox'], { cli });
    assert.equal(noDir.stderr, 'failed to save image: invalid output path: stat /nonexistent-dir: no such file or directory\n');
  }
});

test('two images in one archive, one saved by ID: both come back, the shared layer once', async () => {
  // A second image on the same layer: busybox's kept tar, imported with another command.
  await writeFile(join(d.dir, 'layer.tar'), await readFile(join(d.dataRoot, 'content/sha256', busyboxDiffId.slice(7))));
  await ok(['import', '--change', 'CMD ["echo","from the second image"]', join(d.dir, 'layer.tar'), 'second:1']);
  const secondId = await inspectId('second:1');
  const file = join(d.dir, 'two.tar');
  await ok(['save', '-o', file, 'busybox:latest', secondId]);
  const entries = await tarEntries(file);
  const manifest = JSON.parse(entries.get('manifest.json')!.body.toString());
  assert.deepEqual(
    manifest.map((m: { RepoTags: string[] | null }) => m.RepoTags),
    [['busybox:latest'], null],
  );
  assert.equal([...entries.keys()].filter((n) => n === `blobs/sha256/${busyboxDiffId.slice(7)}`).length, 1);
  const index = JSON.parse(entries.get('index.json')!.body.toString());
  assert.equal(index.manifests.length, 2);

  await ok(['rmi', 'busybox', 'second:1']);
  // The last image had no tag: dockerd then lists every loaded image's ID.
  assert.equal(await ok(['load', '-i', file]), `Loaded image: busybox:latest\nLoaded image ID: ${busyboxId}\nLoaded image ID: ${secondId}\n`);
  assert.equal(await inspectId('busybox'), busyboxId);
  assert.equal(await inspectId(secondId), secondId);
  assert.equal(await ok(['run', '--rm', secondId]), 'from the second image\n');
  await ok(['rmi', secondId]);
});

test('an OCI image layout (gzip layers, nested index, containerd name) loads and runs', async () => {
  const base = await readFile(join(d.dataRoot, 'content/sha256', busyboxDiffId.slice(7)));
  const top = await makeTar([{ name: 'greeting', body: 'hello from an OCI layer\n' }]);
  const topGz = gzipSync(top);
  const baseConfig = JSON.parse(await readFile(join(d.dataRoot, 'content/sha256', busyboxId.slice(7)), 'utf8'));
  const config = Buffer.from(
    JSON.stringify({
      ...baseConfig,
      config: { ...baseConfig.config, Cmd: ['cat', '/greeting'] },
      rootfs: { type: 'layers', diff_ids: [busyboxDiffId, await sha256(top)] },
      history: [...(baseConfig.history ?? []), { created: '2024-01-01T00:00:00Z', created_by: 'ADD greeting' }],
    }),
  );
  const desc = async (mediaType: string, b: Buffer | string) => ({ mediaType, digest: await sha256(b), size: Buffer.byteLength(b) });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: await desc('application/vnd.oci.image.config.v1+json', config),
    layers: [await desc('application/vnd.oci.image.layer.v1.tar', base), await desc('application/vnd.oci.image.layer.v1.tar+gzip', topGz)],
  });
  const nested = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [{ ...(await desc('application/vnd.oci.image.manifest.v1+json', manifest)), platform: { architecture: baseConfig.architecture, os: 'linux' } }],
  });
  const index = JSON.stringify({
    schemaVersion: 2,
    manifests: [
      { ...(await desc('application/vnd.oci.image.index.v1+json', nested)), annotations: { 'io.containerd.image.name': 'docker.io/library/ocibox:1', 'org.opencontainers.image.ref.name': '1' } },
    ],
  });
  const entries: TarSpec[] = [{ name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', body: index }, { name: 'blobs/', type: 'directory' }, { name: 'blobs/sha256/', type: 'directory' }];
  for (const b of [base, topGz, config, manifest, nested]) entries.push({ name: `blobs/sha256/${(await sha256(b)).slice(7)}`, body: b });
  const file = join(d.dir, 'oci.tar');
  await writeFile(file, await makeTar(entries));

  assert.equal(await ok(['load', '-i', file]), 'Loaded image: ocibox:1\n');
  assert.equal(await inspectId('ocibox:1'), await sha256(config));
  assert.equal(await ok(['run', '--rm', 'ocibox:1']), 'hello from an OCI layer\n');
  // Its gzip layer is kept uncompressed, so it saves (and loads into Docker) as any other.
  assert.ok(existsSync(join(d.dataRoot, 'content/sha256', (await sha256(top)).slice(7))));
  await ok(['rmi', 'ocibox:1']);
});

test('load progress is a JSON-message stream; events say save and load', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const file = join(d.dir, 'events.tar');
  await ok(['save', '-o', file, 'busybox']);
  await ok(['rmi', 'busybox']);
  const r = await loadViaApi(await readFile(file), false);
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/json');
  const progress = r.messages.filter((m) => m.status === 'Loading layer');
  assert.ok(progress.length >= 1, JSON.stringify(r.messages));
  const last = progress[progress.length - 1]!;
  assert.equal(last.id, busyboxDiffId.slice(7, 19));
  const detail = last.progressDetail as { current: number; total: number };
  assert.equal(detail.current, detail.total);
  assert.deepEqual(r.messages[r.messages.length - 1], { stream: 'Loaded image: busybox:latest\n' });
  const until = Math.ceil(Date.now() / 1000) + 1;
  const ev = await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
  assert.match(ev, new RegExp(`^save ${busyboxId} ${busyboxId}$`, 'm'));
  assert.match(ev, new RegExp(`^load ${busyboxId} ${busyboxId}$`, 'm'));
});

test('crafted archives are refused, and leave nothing behind', async () => {
  const good = await tarEntries(join(d.dir, 'events.tar'));
  const base = Buffer.from(good.get(`blobs/sha256/${busyboxDiffId.slice(7)}`)!.body);
  const escapeTarget = join('/tmp', `berth-escape-${process.pid}-${Date.now()}`);
  const evilLayer = await makeTar([{ name: `../../../../../../..${escapeTarget}`, body: 'pwned' }]);
  const linkLayer = await makeTar([
    { name: 'evil', type: 'symlink', linkname: escapeTarget },
    { name: 'evil/pwn', body: 'pwned' },
  ]);
  const configFor = async (layers: Buffer[]) =>
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: await Promise.all(layers.map((l) => sha256(l))) } }));
  const dockerArchive = async (layers: Buffer[], cfg?: Buffer): Promise<TarSpec[]> => {
    const c = cfg ?? (await configFor(layers));
    return [
      ...layers.map((l, i) => ({ name: `l${i}/layer.tar`, body: l })),
      { name: 'c.json', body: c },
      { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: ['crafted:1'], Layers: layers.map((_, i) => `l${i}/layer.tar`) }]) },
    ];
  };
  const goodManifest = good.get('manifest.json')!.body.toString();
  const cases: Array<[string, TarSpec[], RegExp]> = [
    ['entry climbing out', [{ name: `../../../../../..${escapeTarget}`, body: 'x' }, ...(await dockerArchive([base]))], /points outside the archive/],
    ['symlinked manifest', [{ name: 'm', body: goodManifest }, { name: 'manifest.json', type: 'symlink', linkname: 'm' }], /is a symlink/],
    ['layer path outside', [{ name: 'c.json', body: await configFor([base]) }, { name: 'l0/layer.tar', type: 'symlink', linkname: `../../..${escapeTarget}` }, { name: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: ['l0/layer.tar'] }]) }], /points outside the archive/],
    ['missing layer', (await dockerArchive([base])).filter((e) => e.name !== 'l0/layer.tar'), /is not in the archive/],
    ['diff ID mismatch', await dockerArchive([base], await configFor([Buffer.from('something else')])), /layer digest mismatch/],
    ['second layer climbs out', await dockerArchive([base, evilLayer]), /is outside of the layer root/],
    ['second layer symlinks out', await dockerArchive([base, linkLayer]), /./],
    ['OCI blob digest mismatch', [{ name: 'index.json', body: '{"manifests":[]}' }, { name: `blobs/sha256/${'0'.repeat(64)}`, body: 'x' }], /does not match its digest/],
    [
      'OCI missing blob',
      [{ name: 'index.json', body: JSON.stringify({ manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 }] }) }],
      /blob sha256:1{64} is missing/,
    ],
  ];
  // busybox's layer is registered (the image exists): the first layer of each is not new.
  // Remove it so a failed load has to clean up a layer it registered itself.
  await ok(['rmi', 'busybox']);
  const before = await state();
  for (const [what, entries, re] of cases) {
    const file = join(d.dir, 'crafted.tar');
    await writeFile(file, await makeTar(entries));
    const r = await d.run(['load', '-i', file]);
    if (what === 'second layer symlinks out') {
      // The symlink stays inside the layer's root: this one may load, but writes nothing out.
      if (r.code === 0) await ok(['rmi', 'crafted:1']);
    } else {
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      assert.match(r.stderr, re, what);
    }
    assert.equal(existsSync(escapeTarget), false, `${what}: wrote outside`);
    assert.equal(await state(), before, `${what}: left something`);
  }
  await ok(['load', '-i', join(d.dir, 'events.tar')]);
});
