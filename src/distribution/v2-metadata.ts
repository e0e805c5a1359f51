import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isSha256Digest } from '../image/digest.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { KeyedLock } from '../util/keyed-lock.js';

// Where layers came from and went to, as moby's V2MetadataService keeps it: for each diff
// ID the compressed blob digests it is known under and the repository ("127.0.0.1:5000/
// busybox") each was pulled from or pushed to; and for each blob digest its diff ID.
// Push reads it to ask a registry for a blob it may already have (HEAD), to mount one
// from a sibling repository instead of uploading, and to skip compressing again.
//   <dataRoot>/image/distribution/v2metadata-by-diffid/sha256/<hex>  [{"Digest","SourceRepository","HMAC"}]
//   <dataRoot>/image/distribution/diffid-by-digest/sha256/<hex>      "sha256:<diffid>"
// It is a cache: losing it costs uploads, never correctness (every use is checked).

export interface V2Metadata {
  Digest: string;
  SourceRepository: string;
  HMAC: string;
}

const MAX_ENTRIES = 50;

export class V2MetadataStore {
  private readonly byDiffId: string;
  private readonly byDigest: string;
  private readonly lock = new KeyedLock();

  constructor(dataRoot: string) {
    const root = join(dataRoot, 'image', 'distribution');
    this.byDiffId = join(root, 'v2metadata-by-diffid', 'sha256');
    this.byDigest = join(root, 'diffid-by-digest', 'sha256');
  }

  async init(): Promise<void> {
    await mkdir(this.byDiffId, { recursive: true });
    await mkdir(this.byDigest, { recursive: true });
  }

  // Newest last, as moby stores them.
  async get(diffId: string): Promise<V2Metadata[]> {
    if (!isSha256Digest(diffId)) return [];
    try {
      const v = JSON.parse(await readFile(join(this.byDiffId, digestHex(diffId)), 'utf8')) as unknown;
      return Array.isArray(v) ? v.filter(isMetadata) : [];
    } catch {
      return [];
    }
  }

  async diffIdOf(digest: string): Promise<string | null> {
    if (!isSha256Digest(digest)) return null;
    const s = (await readFile(join(this.byDigest, digestHex(digest)), 'utf8').catch(() => '')).trim();
    return isSha256Digest(s) ? s : null;
  }

  async add(diffId: string, meta: Omit<V2Metadata, 'HMAC'>): Promise<void> {
    if (!isSha256Digest(diffId) || !isSha256Digest(meta.Digest)) return;
    await this.lock.run(diffId, async () => {
      const entry: V2Metadata = { Digest: meta.Digest, SourceRepository: meta.SourceRepository, HMAC: '' };
      const list = (await this.get(diffId)).filter((m) => !(m.Digest === entry.Digest && m.SourceRepository === entry.SourceRepository));
      list.push(entry);
      await writeFileAtomic(join(this.byDiffId, digestHex(diffId)), JSON.stringify(list.slice(-MAX_ENTRIES)));
      await writeFileAtomic(join(this.byDigest, digestHex(meta.Digest)), diffId);
    });
  }

  async remove(diffId: string, meta: Omit<V2Metadata, 'HMAC'>): Promise<void> {
    await this.lock.run(diffId, async () => {
      const list = await this.get(diffId);
      const kept = list.filter((m) => !(m.Digest === meta.Digest && m.SourceRepository === meta.SourceRepository));
      if (kept.length !== list.length) await writeFileAtomic(join(this.byDiffId, digestHex(diffId)), JSON.stringify(kept));
    });
  }
}

function isMetadata(v: unknown): v is V2Metadata {
  const m = v as Partial<V2Metadata> | null;
  return !!m && typeof m.Digest === 'string' && typeof m.SourceRepository === 'string';
}
