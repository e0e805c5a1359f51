import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { EventBus } from '../../src/daemon/events.js';
import { RegistryConfig } from '../../src/distribution/endpoints.js';
import { TokenCache } from '../../src/distribution/registry-auth.js';
import { RegistryClient } from '../../src/distribution/registry-client.js';
import { RegistryService } from '../../src/distribution/registry-service.js';
import { PushService, MONOLITHIC_MAX } from '../../src/distribution/push-service.js';
import { V2MetadataStore } from '../../src/distribution/v2-metadata.js';
import type { ProgressMessage } from '../../src/distribution/progress.js';
import { parseNormalizedNamed, type NamedRef } from '../../src/image/reference.js';
import type { ImageConfig } from '../../src/image/types.js';

// The registry client against a small in-memory registry: auth handshakes, token reuse,
// tag pages, and how push uploads (one PUT, or PATCH chunks), checks and mounts blobs.

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Seen {
  method: string;
  path: string;
  auth: string;
  range?: string;
  bytes: number;
}

class FakeRegistry {
  readonly seen: Seen[] = [];
  readonly tokenQueries: URLSearchParams[] = [];
  readonly blobs = new Map<string, Buffer>(); // digest → bytes, per registry (repos share)
  readonly repoBlobs = new Set<string>(); // "repo@digest"
  readonly manifests = new Map<string, Buffer>();
  private readonly uploads = new Map<string, { repo: string; data: Buffer[] }>();
  private server!: http.Server;
  port = 0;

  constructor(private readonly auth: 'none' | 'basic' | 'bearer') {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, `http://${this.host}`);
    this.seen.push({ method: req.method!, path: url.pathname + url.search, auth: req.headers.authorization ?? '', range: req.headers['content-range'], bytes: body.length });
    const json = (status: number, v: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(v));
    };
    if (url.pathname === '/token') {
      this.tokenQueries.push(url.searchParams);
      json(200, { token: `t-${url.searchParams.getAll('scope').join('+')}`, expires_in: 600 });
      return;
    }
    if (this.auth === 'basic' && req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) {
      json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': 'Basic realm="fake"' });
      return;
    }
    if (this.auth === 'bearer' && !(req.headers.authorization ?? '').startsWith('Bearer t-')) {
      json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': `Bearer realm="http://${this.host}/token",service="fake"` });
      return;
    }
    const p = url.pathname;
    let m: RegExpExecArray | null;
    if (p === '/v2/') return json(200, {});
    if ((m = /^\/v2\/(.+)\/tags\/list$/.exec(p))) {
      const all = ['a', 'b', 'c'];
      const last = url.searchParams.get('last');
      const page = last ? all.slice(all.indexOf(last) + 1) : all.slice(0, 2);
      const headers: Record<string, string> = page.at(-1) === 'c' ? {} : { link: `</v2/${m[1]}/tags/list?n=2&last=${page.at(-1)}>; rel="next"` };
      return json(200, { name: m[1], tags: page }, headers);
    }
    if ((m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(p))) {
      const key = `${m[1]}:${m[2]}`;
      if (req.method === 'PUT') {
        this.manifests.set(key, body);
        this.manifests.set(`${m[1]}:${sha(body)}`, body);
        res.writeHead(201, { 'docker-content-digest': sha(body) });
        return void res.end();
      }
      const got = this.manifests.get(key);
      if (!got) return json(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
      res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json', 'docker-content-digest': sha(got), 'content-length': String(got.length) });
      return void res.end(req.method === 'HEAD' ? undefined : got);
    }
    if ((m = /^\/v2\/(.+)\/blobs\/uploads\/$/.exec(p)) && req.method === 'POST') {
      const mount = url.searchParams.get('mount');
      if (mount && this.repoBlobs.has(`${url.searchParams.get('from')}@${mount}`)) {
        this.repoBlobs.add(`${m[1]}@${mount}`);
        res.writeHead(201, { location: `/v2/${m[1]}/blobs/${mount}`, 'docker-content-digest': mount, 'content-length': '0' });
        return void res.end();
      }
      const id = randomBytes(4).toString('hex');
      this.uploads.set(id, { repo: m[1]!, data: [] });
      res.writeHead(202, { location: `/upload/${id}?_state=x`, range: '0-0' });
      return void res.end();
    }
    if ((m = /^\/upload\/([a-f0-9]+)$/.exec(p))) {
      const up = this.uploads.get(m[1]!)!;
      const have = up.data.reduce((n, b) => n + b.length, 0);
      if (req.method === 'PATCH') {
        // A chunk names its range; a streamed upload (dockerd's, berth's) names none.
        if (req.headers['content-range'] !== undefined) assert.equal(req.headers['content-range'], `${have}-${have + body.length - 1}`);
        up.data.push(body);
        res.writeHead(202, { location: `/upload/${m[1]}?_state=y`, range: `0-${have + body.length - 1}` });
        return void res.end();
      }
      if (req.method === 'PUT') {
        up.data.push(body);
        const all = Buffer.concat(up.data);
        if (sha(all) !== url.searchParams.get('digest')) return json(400, { errors: [{ code: 'DIGEST_INVALID', message: 'digest invalid' }] });
        this.blobs.set(sha(all), all);
        this.repoBlobs.add(`${up.repo}@${sha(all)}`);
        res.writeHead(201, { location: `/v2/${up.repo}/blobs/${sha(all)}` });
        return void res.end();
      }
    }
    if ((m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(p))) {
      const b = this.repoBlobs.has(`${m[1]}@${m[2]}`) ? this.blobs.get(m[2]!) : undefined;
      if (!b) return json(404, { errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
      res.writeHead(200, { 'content-length': String(b.length), 'docker-content-digest': m[2]! });
      return void res.end(req.method === 'HEAD' ? undefined : b);
    }
    json(404, { errors: [{ code: 'UNSUPPORTED', message: `no route for ${req.method} ${p}` }] });
  }
}

function client(reg: FakeRegistry, repo: string, auth = {}, tokens = new TokenCache()): RegistryClient {
  return new RegistryClient({ endpoint: { url: new URL(`http://${reg.host}`), mirror: false, insecureTls: true }, repo, auth, actions: ['pull'], tokens, userAgent: 'berth-test' });
}

test('bearer: one token per scope, fetched with the credentials, reused across requests and clients', async (t) => {
  const reg = await new FakeRegistry('bearer').start();
  t.after(() => reg.close());
  const body = Buffer.from('{"schemaVersion":2}');
  reg.manifests.set('lib/x:latest', body);
  reg.manifests.set(`lib/x:${sha(body)}`, body);
  const tokens = new TokenCache();
  const c = client(reg, 'lib/x', { username: 'u', password: 'p' }, tokens);
  const ref = await c.resolveTag('latest');
  assert.equal(ref.digest, sha(body));
  assert.deepEqual(await c.tags(), ['a', 'b', 'c']);
  await c.getManifest(ref.digest);
  await client(reg, 'lib/x', { username: 'u', password: 'p' }, tokens).getManifest('latest');
  assert.equal(reg.tokenQueries.length, 1);
  const q = reg.tokenQueries[0]!;
  assert.deepEqual(Object.fromEntries(q), { service: 'fake', scope: 'repository:lib/x:pull', offline_token: 'true', client_id: 'docker', account: 'u' });
  assert.ok(reg.seen.filter((s) => s.path.startsWith('/v2/lib')).every((s) => s.auth === 'Bearer t-repository:lib/x:pull'));
  // The same user with another password proves nothing: no cached token for it.
  await client(reg, 'lib/x', { username: 'u', password: 'guess' }, tokens).getManifest('latest');
  assert.equal(reg.tokenQueries.length, 2);
  reg.tokenQueries.pop();
  // Another repository is another scope.
  await assert.rejects(client(reg, 'lib/y', {}, tokens).getManifest('latest'), { message: 'manifest unknown: manifest unknown' });
  assert.equal(reg.tokenQueries.length, 2);
  assert.equal(reg.tokenQueries[1]!.get('account'), null, 'anonymous tokens carry no account');
});

test('basic: sent only once challenged; without credentials, docker\'s "no basic auth credentials"', async (t) => {
  const reg = await new FakeRegistry('basic').start();
  t.after(() => reg.close());
  await assert.rejects(client(reg, 'x').resolveTag('latest'), { message: `Head "http://${reg.host}/v2/x/manifests/latest": no basic auth credentials` });
  await assert.rejects(client(reg, 'x', { username: 'u', password: 'p' }).resolveTag('latest'), { message: 'manifest unknown: manifest unknown' });
  const ping = reg.seen.filter((s) => s.path === '/v2/');
  assert.ok(ping.every((s) => s.auth === ''), 'the ping is anonymous');
  await client(reg, '', { username: 'u', password: 'p' }).login();
  await assert.rejects(client(reg, '', { username: 'u', password: 'bad' }).login(), { message: `login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized` });
});

function layerTar(name: string, content: Buffer): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
}

test('push: small layers in one PUT, big ones streamed in one PATCH; then HEAD finds them, and a sibling mounts them', async (t) => {
  const reg = await new FakeRegistry('none').start();
  t.after(() => reg.close());
  const dir = await mkdtemp(join(tmpdir(), 'berth-push-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  const small = await layerTar('small.txt', Buffer.from('hello\n'.repeat(100)));
  const big = await layerTar('big.bin', randomBytes(MONOLITHIC_MAX + MONOLITHIC_MAX / 2));
  const tars = new Map([
    [sha(small), small],
    [sha(big), big],
  ]);
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(small), sha(big)] } };
  const raw = Buffer.from(JSON.stringify(config));
  const id = sha(raw);
  const refs = new Map<string, string>();
  const tag = (r: NamedRef): string => `${r.domain}/${r.path}:${r.tag ?? ''}@${r.digest ?? ''}`;
  const metadata = new V2MetadataStore(dir);
  await metadata.init();
  const svc = new PushService({
    registry: new RegistryService(new RegistryConfig(), 'berth-test'),
    images: {
      tagsOf: (repo) => [...refs.entries()].filter(([k]) => k.startsWith(`${repo.domain}/${repo.path}:`) && k.endsWith('@')).map(([k, v]) => ({ ref: parseNormalizedNamed(k.slice(0, -1)), id: v })),
      reference: (r) => refs.get(tag(r)),
      image: (i) => (i === id ? { raw, config } : undefined),
      addReferences: async (i, rs) => void rs.forEach((r) => refs.set(tag(r), i)),
    },
    layers: { tarSize: async (d) => tars.get(d)!.length, openTar: async (d) => Readable.from([tars.get(d)!]), keptGzipBlob: async () => null },
    metadata,
    events: new EventBus(),
  });
  const push = async (name: string): Promise<string[]> => {
    refs.set(tag(parseNormalizedNamed(name)), id);
    const out: ProgressMessage[] = [];
    await svc.pushImage(name, {}, (m) => out.push(m));
    return out.filter((m) => m.status && !m.progressDetail?.current).map((m) => (m.id ? `${m.id}: ${m.status}` : m.status!));
  };

  const first = await push(`${reg.host}/unit/img:latest`);
  const [s, b] = [sha(small).slice(7, 19), sha(big).slice(7, 19)];
  assert.deepEqual(first.slice(0, 3), [`The push refers to repository [${reg.host}/unit/img]`, `${b}: Preparing`, `${s}: Preparing`]);
  assert.ok(first.includes(`${s}: Pushed`) && first.includes(`${b}: Pushed`), first.join('\n'));
  const manifestDigest = /^latest: digest: (sha256:[a-f0-9]{64}) size: \d+$/.exec(first.at(-1)!)![1]!;
  assert.equal(refs.get(tag({ domain: reg.host, path: 'unit/img', digest: manifestDigest })), id, 'the image got its RepoDigest');

  // The small layer went up in one PUT; the big one in one streamed PATCH, then a PUT
  // with the digest and no body.
  const uploads = reg.seen.filter((r) => r.path.startsWith('/upload/'));
  const patches = uploads.filter((r) => r.method === 'PATCH');
  assert.equal(patches.length, 1);
  assert.equal(patches[0]!.range, undefined);
  assert.ok(patches[0]!.bytes > big.length, 'random bytes stay as big once gzipped');
  const puts = uploads.filter((r) => r.method === 'PUT');
  assert.equal(puts.length, 3, 'two layers and the config');
  assert.equal(puts.filter((r) => r.bytes === 0).length, 1, 'the streamed layer is completed by a PUT without a body');

  // What the registry holds is the gzipped tar, under the digest the manifest names.
  const manifest = JSON.parse(reg.manifests.get('unit/img:latest')!.toString());
  assert.equal(manifest.layers.length, 2);
  assert.deepEqual(gunzipSync(reg.blobs.get(manifest.layers[1].digest)!), big);
  assert.equal(manifest.layers[1].size, reg.blobs.get(manifest.layers[1].digest)!.length);
  assert.equal(manifest.config.digest, id);

  const again = await push(`${reg.host}/unit/img:latest`);
  assert.ok(again.includes(`${s}: Layer already exists`) && again.includes(`${b}: Layer already exists`), again.join('\n'));
  assert.equal(reg.seen.filter((r) => r.path.startsWith('/upload/')).length, uploads.length, 'nothing uploaded the second time');

  const sibling = await push(`${reg.host}/unit/copy:v1`);
  assert.ok(sibling.includes(`${s}: Mounted from unit/img`) && sibling.includes(`${b}: Mounted from unit/img`), sibling.join('\n'));
});
