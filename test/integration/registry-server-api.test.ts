import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { bcryptHash } from '../../src/distribution/bcrypt.js';
import { startRegistryServer, type RegistryServer } from '../../src/distribution/server/server.js';

// The registry server in-process on 127.0.0.1:0, driven with raw HTTP the way docker,
// containerd and berth's client drive it: every endpoint, the upload flavours, the
// error bodies, auth and TLS.

const MT = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  oci: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
};

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): any;
}

interface Opts {
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  tls?: boolean;
}

function call(base: string, method: string, path: string, opts: Opts = {}): Promise<Reply> {
  const url = new URL(path, base);
  const send = opts.tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: opts.headers, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString(), json: () => JSON.parse(body.toString()) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body instanceof Readable) opts.body.pipe(req);
    else req.end(opts.body);
  });
}

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const errorCodes = (r: Reply): string[] => r.json().errors.map((e: { code: string }) => e.code);

let dir: string;
let srv: RegistryServer;
let logLines: string[] = [];
const R = (method: string, path: string, opts?: Opts): Promise<Reply> => call(srv.url, method, path, opts);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regsrv-api-'));
  srv = await startRegistryServer({ address: '127.0.0.1:0', root: join(dir, 'root'), log: (l) => logLines.push(l) });
});
after(async () => {
  await srv?.close();
  await rm(dir, { recursive: true, force: true });
});

async function pushBlob(name: string, data: Buffer | string): Promise<string> {
  const digest = sha(data);
  const r = await R('POST', `/v2/${name}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(r.status, 201, r.text);
  return digest;
}

async function pushImage(name: string, tag: string, layerText: string): Promise<{ manifest: Buffer; digest: string; config: string; layer: string }> {
  const config = await pushBlob(name, JSON.stringify({ architecture: 'amd64', os: 'linux', layer: layerText }));
  const layer = await pushBlob(name, layerText);
  const manifest = Buffer.from(
    JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MT.manifest,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 1, digest: config },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layerText.length, digest: layer }],
      },
      null,
      3, // stored and served byte for byte: the digest is of these exact bytes
    ),
  );
  const r = await R('PUT', `/v2/${name}/manifests/${tag}`, { body: manifest, headers: { 'Content-Type': MT.manifest } });
  assert.equal(r.status, 201, r.text);
  return { manifest, digest: sha(manifest), config, layer };
}

test('base, root, v1 ping, unknown paths and methods', async () => {
  const base = await R('GET', '/v2/');
  assert.equal(base.status, 200);
  assert.equal(base.text, '{}');
  assert.equal(base.headers['docker-distribution-api-version'], 'registry/2.0');
  assert.match(base.headers['content-type']!, /^application\/json/);
  // The seed's `curl -I 127.0.0.1:5000`.
  const root = await R('HEAD', '/');
  assert.equal(root.status, 200);
  assert.equal((await R('GET', '/v1/_ping')).status, 200);
  assert.equal((await R('GET', '/nope')).status, 404);
  const post = await R('POST', '/v2/');
  assert.equal(post.status, 405);
  assert.deepEqual(errorCodes(post), ['UNSUPPORTED']);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.ok(logLines.some((l) => /"GET \/v2\/ HTTP\/1.1" 200 2 /.test(l)), logLines.join('\n'));
});

test('monolithic upload, blob HEAD/GET, ranges, digest mismatch', async () => {
  const data = Buffer.from('0123456789abcdefghij');
  const digest = sha(data);
  const up = await R('POST', `/v2/mono/blobs/uploads/?digest=${digest}`, { body: data });
  assert.equal(up.status, 201);
  assert.equal(up.headers.location, `/v2/mono/blobs/${digest}`);
  assert.equal(up.headers['docker-content-digest'], digest);

  const head = await R('HEAD', `/v2/mono/blobs/${digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '20');
  assert.equal(head.headers['docker-content-digest'], digest);
  assert.equal(head.body.length, 0);
  const get = await R('GET', `/v2/mono/blobs/${digest}`);
  assert.deepEqual(get.body, data);
  assert.equal(get.headers['content-type'], 'application/octet-stream');

  const part = await R('GET', `/v2/mono/blobs/${digest}`, { headers: { Range: 'bytes=5-9' } });
  assert.equal(part.status, 206);
  assert.equal(part.text, '56789');
  assert.equal(part.headers['content-range'], 'bytes 5-9/20');
  const tail = await R('GET', `/v2/mono/blobs/${digest}`, { headers: { Range: 'bytes=-3' } });
  assert.equal(tail.text, 'hij');
  const beyond = await R('GET', `/v2/mono/blobs/${digest}`, { headers: { Range: 'bytes=20-' } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers['content-range'], 'bytes */20');
  const cached = await R('GET', `/v2/mono/blobs/${digest}`, { headers: { 'If-None-Match': `"${digest}"` } });
  assert.equal(cached.status, 304);

  // The blob is linked per repository, as in distribution.
  const other = await R('HEAD', `/v2/other/blobs/${digest}`);
  assert.equal(other.status, 404);
  const missing = await R('GET', `/v2/other/blobs/${digest}`);
  assert.deepEqual(missing.json(), { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: digest }] });

  const wrong = sha('something else');
  const bad = await R('POST', `/v2/mono/blobs/uploads/?digest=${wrong}`, { body: data });
  assert.equal(bad.status, 400);
  assert.deepEqual(errorCodes(bad), ['DIGEST_INVALID']);
  assert.equal((await R('HEAD', `/v2/mono/blobs/${wrong}`)).status, 404);
  const unparsable = await R('POST', '/v2/mono/blobs/uploads/?digest=sha256:xyz', { body: data });
  assert.deepEqual(errorCodes(unparsable), ['DIGEST_INVALID']);
  // Nothing half-done stays behind in _uploads.
  const uploads = await readdirSafe(join(dir, 'root/docker/registry/v2/repositories/mono/_uploads'));
  assert.deepEqual(uploads, []);
});

async function readdirSafe(p: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return readdir(p).catch(() => []);
}

test('chunked upload: PATCH with offsets, status, a streamed chunk, final PUT with the last chunk', async () => {
  const parts = ['hello ', 'chunked ', 'world'];
  const whole = parts.join('');
  const start = await R('POST', '/v2/chunky/blobs/uploads/');
  assert.equal(start.status, 202);
  assert.equal(start.headers.range, '0-0');
  const uuid = start.headers['docker-upload-uuid'] as string;
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  const loc = start.headers.location as string;
  assert.equal(loc, `/v2/chunky/blobs/uploads/${uuid}`);

  const p1 = await R('PATCH', loc, { body: parts[0], headers: { 'Content-Range': '0-5', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p1.status, 202, p1.text);
  assert.equal(p1.headers.range, '0-5');
  assert.equal(p1.headers['docker-upload-uuid'], uuid);

  // A chunk at the wrong offset: 416, and where the upload stands.
  const wrongOffset = await R('PATCH', loc, { body: parts[1], headers: { 'Content-Range': '0-7' } });
  assert.equal(wrongOffset.status, 416);
  assert.deepEqual(errorCodes(wrongOffset), ['RANGE_INVALID']);
  assert.equal(wrongOffset.headers.range, '0-5');
  const wrongLength = await R('PATCH', loc, { body: parts[1], headers: { 'Content-Range': '6-20' } });
  assert.equal(wrongLength.status, 400);
  assert.deepEqual(errorCodes(wrongLength), ['SIZE_INVALID']);

  const status = await R('GET', loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.range, '0-5');

  // Streamed (chunked transfer encoding, no Content-Range), as docker sends layers.
  const p2 = await R('PATCH', loc, { body: Readable.from([Buffer.from('chunk'), Buffer.from('ed ')]) });
  assert.equal(p2.status, 202, p2.text);
  assert.equal(p2.headers.range, '0-13');

  const noDigest = await R('PUT', loc);
  assert.deepEqual(noDigest.json().errors[0], { code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content', detail: 'digest missing' });

  const done = await R('PUT', `${loc}?digest=${sha(whole)}`, { body: parts[2], headers: { 'Content-Range': '14-18' } });
  assert.equal(done.status, 201, done.text);
  assert.equal(done.headers.location, `/v2/chunky/blobs/${sha(whole)}`);
  assert.equal((await R('GET', `/v2/chunky/blobs/${sha(whole)}`)).text, whole);
  const gone = await R('GET', loc);
  assert.equal(gone.status, 404);
  assert.deepEqual(errorCodes(gone), ['BLOB_UPLOAD_UNKNOWN']);
});

test('upload completion with the wrong digest, cancel, and unknown uploads', async () => {
  const start = await R('POST', '/v2/chunky/blobs/uploads/');
  const loc = start.headers.location as string;
  await R('PATCH', loc, { body: 'abc' });
  const bad = await R('PUT', `${loc}?digest=${sha('abd')}`);
  assert.equal(bad.status, 400);
  assert.deepEqual(errorCodes(bad), ['DIGEST_INVALID']);
  assert.equal((await R('HEAD', `/v2/chunky/blobs/${sha('abd')}`)).status, 404);
  assert.equal((await R('HEAD', `/v2/chunky/blobs/${sha('abc')}`)).status, 404);
  // distribution cancels the upload on a failed commit.
  assert.equal((await R('GET', loc)).status, 404);

  const again = await R('POST', '/v2/chunky/blobs/uploads/');
  const loc2 = again.headers.location as string;
  const del = await R('DELETE', loc2);
  assert.equal(del.status, 204);
  assert.equal((await R('DELETE', loc2)).status, 404);
  assert.equal((await R('PATCH', '/v2/chunky/blobs/uploads/not-a-uuid', { body: 'x' })).status, 404);
  assert.equal((await R('PATCH', '/v2/chunky/blobs/uploads/00000000-0000-0000-0000-000000000000', { body: 'x' })).status, 404);
});

test('cross-repository mount, and mounts that fall back to an upload', async () => {
  const digest = await pushBlob('mount-src', 'shared layer');
  const m = await R('POST', `/v2/mount-dst/blobs/uploads/?mount=${digest}&from=mount-src`);
  assert.equal(m.status, 201);
  assert.equal(m.headers.location, `/v2/mount-dst/blobs/${digest}`);
  assert.equal(m.headers['docker-content-digest'], digest);
  assert.equal((await R('GET', `/v2/mount-dst/blobs/${digest}`)).text, 'shared layer');

  const unknown = await R('POST', `/v2/mount-dst/blobs/uploads/?mount=${sha('nope')}&from=mount-src`);
  assert.equal(unknown.status, 202);
  assert.ok(unknown.headers['docker-upload-uuid']);
  const badFrom = await R('POST', `/v2/mount-dst/blobs/uploads/?mount=${digest}&from=../mount-src`);
  assert.equal(badFrom.status, 202);
});

test('manifests: PUT by tag and digest, GET/HEAD exact bytes, blob checks, Accept', async () => {
  // Blobs it references must be there first.
  const orphan = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: 'x', size: 1, digest: sha('no config') },
      layers: [{ mediaType: 'y', size: 1, digest: sha('no layer') }],
    }),
  );
  const refused = await R('PUT', '/v2/app/manifests/latest', { body: orphan, headers: { 'Content-Type': MT.manifest } });
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.json().errors, [
    { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: sha('no config') },
    { code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: sha('no layer') },
  ]);
  const junk = await R('PUT', '/v2/app/manifests/latest', { body: '{"schemaVersion":1}', headers: { 'Content-Type': MT.manifest } });
  assert.deepEqual(errorCodes(junk), ['MANIFEST_INVALID']);

  const img = await pushImage('app', 'latest', 'layer one');
  const get = await R('GET', '/v2/app/manifests/latest', { headers: { Accept: `${MT.manifest}, ${MT.list}` } });
  assert.equal(get.status, 200);
  assert.deepEqual(get.body, img.manifest);
  assert.equal(get.headers['content-type'], MT.manifest);
  assert.equal(get.headers['docker-content-digest'], img.digest);
  assert.equal(get.headers.etag, `"${img.digest}"`);
  const head = await R('HEAD', `/v2/app/manifests/${img.digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(img.manifest.length));
  assert.equal((await R('GET', '/v2/app/manifests/latest', { headers: { 'If-None-Match': `"${img.digest}"` } })).status, 304);

  // PUT by digest: the digest must be the body's.
  assert.equal((await R('PUT', `/v2/app/manifests/${img.digest}`, { body: img.manifest, headers: { 'Content-Type': MT.manifest } })).status, 201);
  const mismatch = await R('PUT', `/v2/app/manifests/${sha('x')}`, { body: img.manifest, headers: { 'Content-Type': MT.manifest } });
  assert.deepEqual(errorCodes(mismatch), ['DIGEST_INVALID']);

  const unknownTag = await R('GET', '/v2/app/manifests/nope');
  assert.equal(unknownTag.status, 404);
  assert.deepEqual(unknownTag.json().errors[0].code, 'MANIFEST_UNKNOWN');
  assert.equal((await R('GET', `/v2/app/manifests/${sha('x')}`)).status, 404);
  assert.deepEqual(errorCodes(await R('GET', '/v2/app/manifests/bad:tag')), ['TAG_INVALID']);
  assert.deepEqual(errorCodes(await R('GET', `/v2/app/manifests/md5:${'0'.repeat(32)}`)), ['DIGEST_INVALID']);

  // OCI: served with its own type, refused to a client that accepts only Docker types.
  const ociBody = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 1, digest: img.config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 1, digest: img.layer }],
    }),
  );
  assert.equal((await R('PUT', '/v2/app/manifests/oci', { body: ociBody, headers: { 'Content-Type': MT.oci } })).status, 201);
  const ociGet = await R('GET', '/v2/app/manifests/oci', { headers: { Accept: `${MT.oci}, ${MT.ociIndex}` } });
  assert.equal(ociGet.headers['content-type'], MT.oci);
  assert.equal((await R('GET', '/v2/app/manifests/oci')).status, 200); // no Accept: anything
  const refusedOci = await R('GET', '/v2/app/manifests/oci', { headers: { Accept: MT.manifest } });
  assert.equal(refusedOci.status, 404);
  assert.match(refusedOci.json().errors[0].message, /OCI manifest found/);

  // A manifest list needs its manifests in the repository.
  const list = (digests: string[]): Buffer =>
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.list,
        manifests: digests.map((digest) => ({ mediaType: MT.manifest, size: 1, digest, platform: { os: 'linux', architecture: 'amd64' } })),
      }),
    );
  const missingChild = await R('PUT', '/v2/app/manifests/multi', { body: list([sha('absent')]), headers: { 'Content-Type': MT.list } });
  assert.deepEqual(errorCodes(missingChild), ['MANIFEST_BLOB_UNKNOWN']);
  assert.equal((await R('PUT', '/v2/app/manifests/multi', { body: list([img.digest]), headers: { 'Content-Type': MT.list } })).status, 201);
  const multi = await R('GET', '/v2/app/manifests/multi', { headers: { Accept: MT.list } });
  assert.equal(multi.headers['content-type'], MT.list);
  // An old client that knows only schema 2 gets the amd64 manifest.
  const old = await R('GET', '/v2/app/manifests/multi', { headers: { Accept: MT.manifest } });
  if (process.arch === 'x64') assert.equal(old.headers['docker-content-digest'], img.digest);
});

test('tags list and catalog, with n/last paging and Link headers', async () => {
  for (const t of ['b', 'a', 'c', 'd']) await pushImage('paged', t, `layer ${t}`);
  const all = await R('GET', '/v2/paged/tags/list');
  assert.deepEqual(all.json(), { name: 'paged', tags: ['a', 'b', 'c', 'd'] });
  assert.equal(all.headers.link, undefined);
  const p1 = await R('GET', '/v2/paged/tags/list?n=2');
  assert.deepEqual(p1.json().tags, ['a', 'b']);
  assert.equal(p1.headers.link, '</v2/paged/tags/list?last=b&n=2>; rel="next"');
  const p2 = await R('GET', '/v2/paged/tags/list?n=2&last=b');
  assert.deepEqual(p2.json().tags, ['c', 'd']);
  assert.equal(p2.headers.link, undefined);
  assert.deepEqual(errorCodes(await R('GET', '/v2/paged/tags/list?n=-1')), ['PAGINATION_NUMBER_INVALID']);
  const unknown = await R('GET', '/v2/never/pushed/tags/list');
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.json().errors[0], { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'never/pushed' } });

  await pushImage('ns/deep/repo', 'v2', 'deep');
  const cat = (await R('GET', '/v2/_catalog')).json().repositories as string[];
  assert.ok(cat.includes('paged') && cat.includes('ns/deep/repo') && cat.includes('app'), cat.join());
  assert.ok(!cat.includes('mono'), 'a repository with blobs only is not listed');
  assert.deepEqual(cat, [...cat].sort());
  const c1 = await R('GET', '/v2/_catalog?n=1');
  assert.deepEqual(c1.json().repositories, [cat[0]]);
  assert.equal(c1.headers.link, `</v2/_catalog?last=${encodeURIComponent(cat[0])}&n=1>; rel="next"`);
  const c2 = await R('GET', `/v2/_catalog?n=1&last=${encodeURIComponent(cat[0])}`);
  assert.deepEqual(c2.json().repositories, [cat[1]]);
  assert.deepEqual(errorCodes(await R('GET', '/v2/_catalog?n=5000')), ['PAGINATION_NUMBER_INVALID']);

  const search = (await R('GET', '/v1/search?q=deep&n=25')).json();
  assert.equal(search.num_results, 1);
  assert.equal(search.results[0].name, 'ns/deep/repo');
});

test('deletes: tag, manifest (and the tags on it), blob', async () => {
  const img = await pushImage('del', 'one', 'to delete');
  await R('PUT', '/v2/del/manifests/two', { body: img.manifest, headers: { 'Content-Type': MT.manifest } });
  await R('PUT', '/v2/del/manifests/three', { body: img.manifest, headers: { 'Content-Type': MT.manifest } });

  assert.equal((await R('DELETE', '/v2/del/manifests/one')).status, 202);
  assert.equal((await R('GET', '/v2/del/manifests/one')).status, 404);
  assert.equal((await R('GET', `/v2/del/manifests/${img.digest}`)).status, 200);
  assert.deepEqual((await R('DELETE', '/v2/del/manifests/one')).json().errors[0].code, 'MANIFEST_UNKNOWN');

  assert.equal((await R('DELETE', `/v2/del/manifests/${img.digest}`)).status, 202);
  assert.equal((await R('GET', `/v2/del/manifests/${img.digest}`)).status, 404);
  assert.deepEqual((await R('GET', '/v2/del/tags/list')).json().tags, []);
  assert.equal((await R('DELETE', `/v2/del/manifests/${img.digest}`)).status, 404);

  assert.equal((await R('DELETE', `/v2/del/blobs/${img.layer}`)).status, 202);
  assert.equal((await R('HEAD', `/v2/del/blobs/${img.layer}`)).status, 404);
  assert.deepEqual(errorCodes(await R('DELETE', `/v2/del/blobs/${img.layer}`)), ['BLOB_UNKNOWN']);
});

test('names: NAME_INVALID, and nothing outside the root is reachable', async () => {
  const upper = await R('GET', '/v2/Foo/tags/list');
  assert.equal(upper.status, 400);
  assert.deepEqual(errorCodes(upper), ['NAME_INVALID']);
  for (const p of ['/v2/a/%2e%2e/%2e%2e/%2e%2e/etc/tags/list', '/v2/..%2f..%2fetc/tags/list', '/v2/a/../../../../tags/list', '/v2/_x/tags/list']) {
    const r = await R('GET', p);
    assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
  }
  const put = await R('PUT', '/v2/a/..%2f..%2fescape/manifests/latest', { body: '{}' });
  assert.ok(put.status >= 400);
  assert.equal(await stat(join(dir, 'escape')).catch(() => null), null);
});

test('the storage is distribution\'s layout and survives a restart', async () => {
  const img = await pushImage('persist/me', 'v1', 'persistent');
  const v2 = join(dir, 'root/docker/registry/v2');
  assert.equal((await readFile(join(v2, 'repositories/persist/me/_manifests/tags/v1/current/link'), 'utf8')).trim(), img.digest);
  const hex = img.layer.slice(7);
  assert.equal(await readFile(join(v2, 'blobs/sha256', hex.slice(0, 2), hex, 'data'), 'utf8'), 'persistent');
  assert.equal((await readFile(join(v2, 'repositories/persist/me/_layers/sha256', hex, 'link'), 'utf8')).trim(), img.layer);

  const second = await startRegistryServer({ address: '127.0.0.1:0', root: join(dir, 'root') });
  try {
    const r = await call(second.url, 'GET', '/v2/persist/me/manifests/v1');
    assert.deepEqual(r.body, img.manifest);
  } finally {
    await second.close();
  }
});

test('htpasswd auth: 401 with a Basic challenge, then 200 with the right credentials', async (t) => {
  const htpasswd = join(dir, 'htpasswd');
  await writeFile(htpasswd, `alice:${bcryptHash('wonderland', 5, undefined, '2y')}\n`);
  const auth = await startRegistryServer({ address: '127.0.0.1:0', root: join(dir, 'auth-root'), htpasswd, realm: 'berth-test' });
  t.after(() => auth.close());
  const basic = (u: string, p: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

  const none = await call(auth.url, 'GET', '/v2/');
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Basic realm="berth-test"');
  assert.equal(none.headers['docker-distribution-api-version'], 'registry/2.0');
  assert.deepEqual(none.json(), { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] });
  assert.equal((await call(auth.url, 'GET', '/v2/', { headers: basic('alice', 'wrong') })).status, 401);
  assert.equal((await call(auth.url, 'GET', '/v2/', { headers: basic('bob', 'wonderland') })).status, 401);
  assert.equal((await call(auth.url, 'GET', '/v2/_catalog')).status, 401);
  assert.equal((await call(auth.url, 'GET', '/v1/search?q=x')).status, 401);
  assert.equal((await call(auth.url, 'GET', '/v2/', { headers: basic('alice', 'wonderland') })).status, 200);
  assert.equal((await call(auth.url, 'GET', '/v2/_catalog', { headers: basic('alice', 'wonderland') })).status, 200);
  // The root and the v1 ping stay open, as on the reference registry.
  assert.equal((await call(auth.url, 'HEAD', '/')).status, 200);

  await assert.rejects(startRegistryServer({ address: '127.0.0.1:0', root: join(dir, 'auth-root'), htpasswd: join(dir, 'missing') }), /ENOENT/);
});

test('TLS with a certificate and key', async (t) => {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']);
  const tls = await startRegistryServer({ address: '127.0.0.1:0', root: join(dir, 'tls-root'), tls: { cert, key } });
  t.after(() => tls.close());
  assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const r = await call(tls.url, 'GET', '/v2/', { tls: true });
  assert.equal(r.status, 200);
  assert.equal(r.text, '{}');
});
