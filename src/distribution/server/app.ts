import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { goArch } from '../../image/platform.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { BasicAuth } from './auth.js';
import { RegistryError, registryError } from './errors.js';
import { acceptedTypes, describeStoredManifest, negotiate, parseManifest, type ParsedManifest } from './manifest.js';
import { checkRepositoryName, digestString, isValidRepositoryName, parseDigest, parseManifestReference, type Digest } from './names.js';
import { checkChunk, parseRangeHeader, uploadRangeHeader } from './ranges.js';
import { matchRoute, nextLink, page, parsePaging, ROUTE_METHODS, type RegistryRoute } from './routes.js';
import { searchRepositories } from './search.js';
import type { RegistryStorage } from './storage.js';

// The Docker Registry HTTP API v2 (OCI distribution spec) over RegistryStorage, with
// the headers, statuses and error bodies of distribution's registry, which is what
// the docker daemon, containerd and berth's own client were written against.

const API_VERSION = { 'Docker-Distribution-API-Version': 'registry/2.0' };
const JSON_TYPE = 'application/json';
const MAX_MANIFEST_BYTES = 4 << 20; // distribution's maxManifestBodySize
const CATALOG_DEFAULT = 100;
const CATALOG_MAX = 1000;

type Headers = Record<string, string | number>;

export interface RequestInfo {
  // The authenticated user, for the access log.
  user?: string;
}

type Req = IncomingMessage;
type Res = ServerResponse;

function send(res: Res, status: number, headers: Headers, body?: string | Buffer): void {
  const buf = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  writeHead(res, status, { 'Content-Length': buf?.length ?? 0, ...headers });
  res.end(buf); // Node drops the body of an answer to HEAD by itself
}

// setHeader rather than writeHead's argument, so the access log can read them back.
function writeHead(res: Res, status: number, headers: Headers): void {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.writeHead(status);
}

const sendJson = (res: Res, value: unknown, headers: Headers = {}): void =>
  send(res, 200, { ...API_VERSION, 'Content-Type': JSON_TYPE, ...headers }, `${JSON.stringify(value)}\n`);

async function readBody(req: Req, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw registryError('MANIFEST_INVALID', `payload exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const etagMatches = (req: Req, digest: string): boolean =>
  (req.headers['if-none-match'] ?? '').split(',').some((v) => {
    const t = v.trim();
    return t === digest || t === `"${digest}"`;
  });

const header = (req: Req, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export class RegistryApp {
  private readonly uploads = new KeyedLock();
  private readonly platform = { os: 'linux', architecture: goArch() };

  constructor(
    private readonly storage: RegistryStorage,
    private readonly auth: BasicAuth | null,
  ) {}

  async handle(req: Req, res: Res, info: RequestInfo): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://registry.invalid');
    const route = matchRoute(url.pathname);
    try {
      if (route.kind === 'not-found') {
        send(res, 404, { 'Content-Type': 'text/plain; charset=utf-8' }, '404 page not found\n');
        return;
      }
      if (route.kind !== 'root' && route.kind !== 'v1-ping' && this.auth) {
        const user = await this.auth.authenticate(header(req, 'authorization'));
        if (user === null) throw registryError('UNAUTHORIZED').withHeaders({ 'WWW-Authenticate': this.auth.challenge() });
        info.user = user;
      }
      const method = req.method ?? 'GET';
      if (!ROUTE_METHODS[route.kind].includes(method)) {
        throw registryError('UNSUPPORTED').withHeaders({ Allow: ROUTE_METHODS[route.kind].join(', ') });
      }
      if ('name' in route) checkRepositoryName(route.name);
      await this.dispatch(route, method, url, req, res);
    } catch (err) {
      this.fail(res, err);
    }
  }

  private fail(res: Res, err: unknown): void {
    if (res.headersSent) {
      // Mid-stream: nothing can be said any more; cutting the connection tells the client.
      res.destroy(err instanceof Error ? err : undefined);
      return;
    }
    const e = err instanceof RegistryError ? err : registryError('UNKNOWN', err instanceof Error ? err.message : String(err));
    send(res, e.status, { ...API_VERSION, 'Content-Type': `${JSON_TYPE}; charset=utf-8`, ...e.headers }, e.body());
  }

  private async dispatch(route: RegistryRoute, method: string, url: URL, req: Req, res: Res): Promise<void> {
    switch (route.kind) {
      case 'root':
        // `curl -I registry:5000` answers 200 on the reference registry too.
        return send(res, 200, { 'Cache-Control': 'no-cache' });
      case 'base':
        return send(res, 200, { ...API_VERSION, 'Content-Type': JSON_TYPE }, '{}');
      case 'v1-ping':
        return send(res, 200, { 'Content-Type': JSON_TYPE, 'X-Docker-Registry-Standalone': 'true' }, '{}');
      case 'v1-search':
        return sendJson(res, searchRepositories(await this.storage.repositories(), url.searchParams));
      case 'catalog':
        return this.catalog(url, res);
      case 'tags':
        return this.tags(route.name, url, res);
      case 'manifest':
        if (method === 'PUT') return this.putManifest(route.name, route.reference, req, res);
        if (method === 'DELETE') return this.deleteManifest(route.name, route.reference, res);
        return this.getManifest(route.name, route.reference, req, res);
      case 'blob':
        if (method === 'DELETE') return this.deleteBlob(route.name, route.digest, res);
        return this.getBlob(route.name, route.digest, req, res);
      case 'upload-start':
        return this.startUpload(route.name, url, req, res);
      case 'upload':
        return this.upload(route.name, route.uuid, method, url, req, res);
      case 'not-found':
        return;
    }
  }

  // ---- listings ----

  private async catalog(url: URL, res: Res): Promise<void> {
    const paging = parsePaging(url.searchParams, CATALOG_DEFAULT);
    if (!paging || paging.n > CATALOG_MAX) throw registryError('PAGINATION_NUMBER_INVALID', { n: url.searchParams.get('n') });
    const { items, more } = page(await this.storage.repositories(), paging.n, paging.last);
    const link: Headers = more ? { Link: nextLink(url.pathname, paging.n, items[items.length - 1]) } : {};
    sendJson(res, { repositories: items }, link);
  }

  private async tags(name: string, url: URL, res: Res): Promise<void> {
    const paging = parsePaging(url.searchParams, Infinity);
    if (!paging) throw registryError('PAGINATION_NUMBER_INVALID', { n: url.searchParams.get('n') });
    const all = await this.storage.tags(name);
    if (all === null) throw registryError('NAME_UNKNOWN', { name });
    const { items, more } = page(all, paging.n, paging.last);
    const link: Headers = more ? { Link: nextLink(url.pathname, paging.n, items[items.length - 1]) } : {};
    sendJson(res, { name, tags: items }, link);
  }

  // ---- manifests ----

  private async getManifest(name: string, reference: string, req: Req, res: Res): Promise<void> {
    const ref = parseManifestReference(reference);
    let digest: Digest;
    if (ref.kind === 'tag') {
      const d = await this.storage.resolveTag(name, ref.tag);
      if (!d) throw registryError('MANIFEST_UNKNOWN', { Tag: ref.tag });
      digest = d;
    } else {
      digest = ref.digest;
    }
    if (etagMatches(req, digestString(digest))) return send(res, 304, API_VERSION);
    let stored = await this.loadManifest(name, digest);
    const choice = negotiate(stored.parsed, acceptedTypes([header(req, 'accept') ?? '']), ref.kind === 'tag', this.platform);
    if (choice.kind === 'refuse') throw registryError('MANIFEST_UNKNOWN', undefined, choice.message);
    if (choice.kind === 'platform') {
      digest = parseDigest(choice.digest);
      stored = await this.loadManifest(name, digest);
    }
    const d = digestString(digest);
    send(
      res,
      200,
      { ...API_VERSION, 'Content-Type': stored.parsed.mediaType, 'Docker-Content-Digest': d, Etag: `"${d}"` },
      stored.bytes,
    );
  }

  private async loadManifest(name: string, digest: Digest): Promise<{ bytes: Buffer; parsed: ParsedManifest }> {
    const bytes = await this.storage.manifestBytes(name, digest);
    if (!bytes) throw registryError('MANIFEST_UNKNOWN', { Name: name, Revision: digestString(digest) });
    return { bytes, parsed: describeStoredManifest(bytes) };
  }

  private async putManifest(name: string, reference: string, req: Req, res: Res): Promise<void> {
    const ref = parseManifestReference(reference);
    const bytes = await readBody(req, MAX_MANIFEST_BYTES);
    const parsed = parseManifest(bytes, header(req, 'content-type'));
    const algorithm = ref.kind === 'digest' ? ref.digest.algorithm : 'sha256';
    const digest: Digest = { algorithm, hex: createHash(algorithm).update(bytes).digest('hex') };
    if (ref.kind === 'digest' && ref.digest.hex !== digest.hex) {
      throw registryError('DIGEST_INVALID', `manifest digest is ${digestString(digest)}`);
    }
    const missing: string[] = [];
    for (const b of parsed.blobs) if (!(await this.storage.blobStat(name, parseDigest(b)))) missing.push(b);
    for (const m of parsed.manifests) if (!(await this.storage.hasManifest(name, parseDigest(m.digest)))) missing.push(m.digest);
    if (missing.length > 0) {
      throw RegistryError.of(missing.map((d) => ({ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry', detail: d })));
    }
    await this.storage.putManifest(name, bytes, digest, ref.kind === 'tag' ? ref.tag : undefined);
    const d = digestString(digest);
    send(res, 201, { ...API_VERSION, Location: `/v2/${name}/manifests/${d}`, 'Docker-Content-Digest': d });
  }

  private async deleteManifest(name: string, reference: string, res: Res): Promise<void> {
    const ref = parseManifestReference(reference);
    const done = ref.kind === 'tag' ? await this.storage.deleteTag(name, ref.tag) : await this.storage.deleteManifest(name, ref.digest);
    if (!done) throw registryError('MANIFEST_UNKNOWN', ref.kind === 'tag' ? { Tag: ref.tag } : { Name: name, Revision: digestString(ref.digest) });
    send(res, 202, API_VERSION);
  }

  // ---- blobs ----

  private async getBlob(name: string, digestText: string, req: Req, res: Res): Promise<void> {
    const digest = parseDigest(digestText);
    const d = digestString(digest);
    const blob = await this.storage.blobStat(name, digest);
    if (!blob) throw registryError('BLOB_UNKNOWN', d);
    const common: Headers = {
      ...API_VERSION,
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': d,
      Etag: `"${d}"`,
      'Cache-Control': 'max-age=31536000',
      'Accept-Ranges': 'bytes',
    };
    if (etagMatches(req, d)) return send(res, 304, common);
    const range = parseRangeHeader(header(req, 'range'), blob.size);
    if (range === 'unsatisfiable') {
      return send(res, 416, { ...common, 'Content-Range': `bytes */${blob.size}` });
    }
    const { start, end } = range ?? { start: 0, end: blob.size - 1 };
    const length = blob.size === 0 ? 0 : end - start + 1;
    writeHead(res, range ? 206 : 200, {
      ...common,
      'Content-Length': length,
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${blob.size}` } : {}),
    });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    await pipeline(createReadStream(blob.path, { start, end }), res);
  }

  private async deleteBlob(name: string, digestText: string, res: Res): Promise<void> {
    const digest = parseDigest(digestText);
    if (!(await this.storage.unlinkBlob(name, digest))) throw registryError('BLOB_UNKNOWN', digestString(digest));
    send(res, 202, API_VERSION);
  }

  // ---- uploads ----

  private blobCreated(res: Res, name: string, digest: Digest): void {
    const d = digestString(digest);
    send(res, 201, { ...API_VERSION, Location: `/v2/${name}/blobs/${d}`, 'Docker-Content-Digest': d });
  }

  private uploadHeaders(name: string, uuid: string, size: number): Record<string, string> {
    return {
      ...API_VERSION,
      Location: `/v2/${name}/blobs/uploads/${uuid}`,
      Range: uploadRangeHeader(size),
      'Docker-Upload-UUID': uuid,
    };
  }

  private async startUpload(name: string, url: URL, req: Req, res: Res): Promise<void> {
    const q = url.searchParams;
    const mount = q.get('mount');
    const from = q.get('from');
    if (mount && from && isValidRepositoryName(from)) {
      // A mount that cannot be done (unknown blob, bad digest) starts a plain upload,
      // as distribution does: the client then pushes the bytes.
      const digest = (() => {
        try {
          return parseDigest(mount);
        } catch {
          return null;
        }
      })();
      if (digest && (await this.storage.mountBlob(from, name, digest))) return this.blobCreated(res, name, digest);
    }
    const digestParam = q.get('digest');
    if (digestParam !== null) {
      // Monolithic upload: the whole blob in the POST body.
      const digest = parseDigest(digestParam);
      const uuid = await this.storage.createUpload(name);
      try {
        await this.storage.appendUpload(name, uuid, req);
        await this.storage.completeUpload(name, uuid, digest);
      } catch (err) {
        await this.storage.cancelUpload(name, uuid);
        throw err;
      }
      return this.blobCreated(res, name, digest);
    }
    const uuid = await this.storage.createUpload(name);
    send(res, 202, this.uploadHeaders(name, uuid, 0));
  }

  private async upload(name: string, uuid: string, method: string, url: URL, req: Req, res: Res): Promise<void> {
    const current = async (): Promise<number> => {
      const size = await this.storage.uploadSize(name, uuid);
      if (size === null) throw registryError('BLOB_UPLOAD_UNKNOWN', uuid);
      return size;
    };
    // Status needs no turn in the queue: it reports what has arrived, even mid-chunk.
    if (method === 'GET' || method === 'HEAD') return send(res, 204, this.uploadHeaders(name, uuid, await current()));
    await this.uploads.run(`${name}\0${uuid}`, async () => {
      const size = await current();
      switch (method) {
        case 'DELETE':
          await this.storage.cancelUpload(name, uuid);
          return send(res, 204, { ...API_VERSION, 'Docker-Upload-UUID': uuid });
        case 'PATCH': {
          this.checkChunk(req, name, uuid, size);
          const after = await this.storage.appendUpload(name, uuid, req);
          return send(res, 202, this.uploadHeaders(name, uuid, after));
        }
        case 'PUT': {
          const digestParam = url.searchParams.get('digest');
          if (!digestParam) throw registryError('DIGEST_INVALID', 'digest missing');
          const digest = parseDigest(digestParam);
          this.checkChunk(req, name, uuid, size);
          await this.storage.appendUpload(name, uuid, req);
          await this.storage.completeUpload(name, uuid, digest);
          return this.blobCreated(res, name, digest);
        }
      }
    });
  }

  private checkChunk(req: Req, name: string, uuid: string, size: number): void {
    try {
      checkChunk(header(req, 'content-range'), header(req, 'content-length'), size);
    } catch (err) {
      // Where the upload stands, so the client can resume from there.
      if (err instanceof RegistryError) err.withHeaders(this.uploadHeaders(name, uuid, size));
      throw err;
    }
  }
}
