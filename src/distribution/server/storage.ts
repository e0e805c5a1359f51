import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { registryError } from './errors.js';
import { checkRepositoryName, digestString, parseDigest, type Digest } from './names.js';

// The registry's files, in distribution's filesystem-driver layout, so a volume
// written by the reference `registry:2` image serves here and the other way round:
//
//   docker/registry/v2/blobs/<alg>/<hh>/<hex>/data                    content, by digest
//   docker/registry/v2/repositories/<name>/_layers/<alg>/<hex>/link   blobs of a repository
//   .../<name>/_manifests/revisions/<alg>/<hex>/link                  its manifests
//   .../<name>/_manifests/tags/<tag>/current/link                     what a tag points at
//   .../<name>/_manifests/tags/<tag>/index/<alg>/<hex>/link           what it pointed at
//   .../<name>/_uploads/<uuid>/{data,startedat}                       pushes in progress
//
// Blobs become visible only by a rename of fully written, fsynced and verified data;
// links are written atomically; so a crash leaves nothing half-visible.

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface BlobInfo {
  path: string;
  size: number;
}

const exists = (path: string): Promise<boolean> => stat(path).then(
  () => true,
  () => false,
);

async function readLink(path: string): Promise<Digest | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return parseDigest(text.trim());
  } catch {
    return null;
  }
}

export async function digestOfFile(path: string, algorithm: Digest['algorithm']): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

export class RegistryStorage {
  private readonly base: string;

  constructor(readonly root: string) {
    this.base = join(root, 'docker', 'registry', 'v2');
  }

  blobPath(d: Digest): string {
    return join(this.base, 'blobs', d.algorithm, d.hex.slice(0, 2), d.hex, 'data');
  }

  private repo(name: string): string {
    // Callers validated the name already; checked again because this is what keeps
    // every path below under the root.
    return join(this.base, 'repositories', checkRepositoryName(name));
  }

  private layerLinkDir(name: string, d: Digest): string {
    return join(this.repo(name), '_layers', d.algorithm, d.hex);
  }

  private revisionDir(name: string, d: Digest): string {
    return join(this.repo(name), '_manifests', 'revisions', d.algorithm, d.hex);
  }

  private tagsDir(name: string): string {
    return join(this.repo(name), '_manifests', 'tags');
  }

  private uploadDir(name: string, uuid: string): string | null {
    return UUID_RE.test(uuid) ? join(this.repo(name), '_uploads', uuid) : null;
  }

  // ---- blobs ----

  async blobStat(name: string, d: Digest): Promise<BlobInfo | null> {
    if (!(await exists(join(this.layerLinkDir(name, d), 'link')))) return null;
    const path = this.blobPath(d);
    const st = await stat(path).catch(() => null);
    return st?.isFile() ? { path, size: st.size } : null;
  }

  async linkBlob(name: string, d: Digest): Promise<void> {
    await writeFileAtomic(join(this.layerLinkDir(name, d), 'link'), digestString(d));
  }

  async unlinkBlob(name: string, d: Digest): Promise<boolean> {
    const dir = this.layerLinkDir(name, d);
    if (!(await exists(join(dir, 'link')))) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  // Cross-repository mount: the blob is already here; only the link is new.
  async mountBlob(from: string, to: string, d: Digest): Promise<BlobInfo | null> {
    const info = await this.blobStat(from, d);
    if (info) await this.linkBlob(to, d);
    return info;
  }

  // ---- uploads ----

  async createUpload(name: string): Promise<string> {
    const uuid = randomUUID();
    const dir = this.uploadDir(name, uuid)!;
    await mkdir(dir, { recursive: true });
    await (await open(join(dir, 'data'), 'w')).close();
    await writeFileAtomic(join(dir, 'startedat'), new Date().toISOString());
    return uuid;
  }

  // The bytes received so far, or null for an unknown upload.
  async uploadSize(name: string, uuid: string): Promise<number | null> {
    const dir = this.uploadDir(name, uuid);
    if (!dir) return null;
    const st = await stat(join(dir, 'data')).catch(() => null);
    return st ? st.size : null;
  }

  // Appends a chunk; the caller serialises chunks of one upload. A client that drops
  // mid-chunk leaves what arrived, and resumes from the size GET reports.
  async appendUpload(name: string, uuid: string, body: Readable): Promise<number> {
    const path = join(this.uploadDir(name, uuid)!, 'data');
    await pipeline(body, createWriteStream(path, { flags: 'a' }));
    return (await stat(path)).size;
  }

  // Verifies the upload against the digest the client named and moves it into the
  // blob store. A mismatch throws DIGEST_INVALID and discards the upload.
  async completeUpload(name: string, uuid: string, d: Digest): Promise<number> {
    const dir = this.uploadDir(name, uuid)!;
    const data = join(dir, 'data');
    const fh = await open(data, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const actual = await digestOfFile(data, d.algorithm);
    if (actual !== d.hex) {
      await rm(dir, { recursive: true, force: true });
      throw registryError('DIGEST_INVALID', `digest mismatch: uploaded content has ${d.algorithm}:${actual}`);
    }
    const size = (await stat(data)).size;
    const target = this.blobPath(d);
    await mkdir(join(target, '..'), { recursive: true });
    await rename(data, target);
    await this.linkBlob(name, d);
    await rm(dir, { recursive: true, force: true });
    return size;
  }

  async cancelUpload(name: string, uuid: string): Promise<boolean> {
    const dir = this.uploadDir(name, uuid);
    if (!dir || !(await exists(dir))) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  // ---- manifests and tags ----

  async hasManifest(name: string, d: Digest): Promise<boolean> {
    return exists(join(this.revisionDir(name, d), 'link'));
  }

  async manifestBytes(name: string, d: Digest): Promise<Buffer | null> {
    if (!(await this.hasManifest(name, d))) return null;
    return readFile(this.blobPath(d)).catch(() => null);
  }

  async resolveTag(name: string, tag: string): Promise<Digest | null> {
    return readLink(join(this.tagsDir(name), tag, 'current', 'link'));
  }

  async putManifest(name: string, bytes: Uint8Array, d: Digest, tag?: string): Promise<void> {
    const blob = this.blobPath(d);
    if (!(await exists(blob))) await writeFileAtomic(blob, bytes);
    const text = digestString(d);
    await writeFileAtomic(join(this.revisionDir(name, d), 'link'), text);
    if (tag !== undefined) {
      const tagDir = join(this.tagsDir(name), tag);
      await writeFileAtomic(join(tagDir, 'index', d.algorithm, d.hex, 'link'), text);
      await writeFileAtomic(join(tagDir, 'current', 'link'), text);
    }
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    const dir = join(this.tagsDir(name), tag);
    if (!(await exists(join(dir, 'current', 'link')))) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  // Removes the revision and every tag that points at it (distribution does the same).
  async deleteManifest(name: string, d: Digest): Promise<boolean> {
    if (!(await this.hasManifest(name, d))) return false;
    await rm(this.revisionDir(name, d), { recursive: true, force: true });
    for (const tag of (await this.tags(name)) ?? []) {
      const current = await this.resolveTag(name, tag);
      if (current && current.hex === d.hex && current.algorithm === d.algorithm) await this.deleteTag(name, tag);
    }
    return true;
  }

  // Sorted tags, or null when the repository has never had one.
  async tags(name: string): Promise<string[] | null> {
    const dir = this.tagsDir(name);
    const entries = await readdir(dir).catch(() => null);
    if (entries === null) return null;
    const tags: string[] = [];
    for (const t of entries) if (await exists(join(dir, t, 'current', 'link'))) tags.push(t);
    return tags.sort();
  }

  // Every repository that has manifests, sorted; nested names ("a" and "a/b") both count.
  async repositories(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        if (e.name === '_manifests' && prefix) found.push(prefix);
        else if (!e.name.startsWith('_')) await walk(join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name);
      }
    };
    await walk(join(this.base, 'repositories'), '');
    return found.sort();
  }
}
