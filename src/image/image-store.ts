import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { BerthError, invalid, notFound } from '../util/errors.js';
import type { ContentStore } from './content-store.js';
import { digestHex, sha256Digest, topChainId } from './digest.js';
import { anyRefFamiliarString, parseAnyReference, tagNameOnly, type AnyRef } from './reference.js';
import { ReferenceStore } from './reference-store.js';
import { parseRfc3339Ns } from './time.js';
import type { ImageConfig } from './types.js';

// Images: configs are content blobs (image ID = sha256 of the exact config bytes); the
// store keeps per-image metadata (parent, lastUpdated) under
// <dataRoot>/image/metadata/sha256/<hex>/ and the tags in repositories.json. A metadata
// directory appears by rename, whole, after its config blob: it is the image's existence.

export interface StoredImage {
  id: string; // "sha256:<hex>"
  config: ImageConfig;
  raw: Buffer; // the exact bytes the ID was computed from
  parent: string; // "" or an image ID
  lastUpdated: string; // "" or RFC 3339
  topChainId: string | null;
  createdNs: bigint;
}

export class ImageStore {
  readonly refs: ReferenceStore;
  private readonly metaDir: string;
  private readonly images = new Map<string, StoredImage>();
  private readonly childrenOf = new Map<string, Set<string>>();

  constructor(
    dataRoot: string,
    private readonly content: ContentStore,
  ) {
    this.metaDir = join(dataRoot, 'image', 'metadata', 'sha256');
    this.refs = new ReferenceStore(dataRoot);
  }

  async init(): Promise<void> {
    await mkdir(this.metaDir, { recursive: true });
    await this.refs.init();
    for (const name of await readdir(this.metaDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) {
        // A half-built metadata directory from a crash.
        if (name.startsWith('.tmp-')) await rm(join(this.metaDir, name), { recursive: true, force: true });
        continue;
      }
      const id = `sha256:${name}`;
      let raw: Buffer;
      try {
        raw = await this.content.get(id);
      } catch {
        continue; // config lost: not an image any more
      }
      const config = parseConfig(raw);
      if (!config) continue;
      const dir = join(this.metaDir, name);
      this.insert({
        id,
        config,
        raw,
        parent: (await readOptional(join(dir, 'parent'))).trim(),
        lastUpdated: (await readOptional(join(dir, 'lastUpdated'))).trim(),
        topChainId: topChainId(config.rootfs.diff_ids ?? []),
        createdNs: parseRfc3339Ns(config.created ?? '') ?? 0n,
      });
    }
  }

  // Registers an image from its config bytes (kept byte for byte: they define the ID).
  async create(raw: Uint8Array, parent = ''): Promise<StoredImage> {
    const bytes = Buffer.from(raw);
    const config = parseConfig(bytes);
    if (!config) throw invalid('invalid image JSON, no RootFS key');
    const id = sha256Digest(bytes);
    const existing = this.images.get(id);
    if (existing) {
      if (parent && !existing.parent) await this.setParent(id, parent);
      return existing;
    }
    await this.content.put(bytes);
    const hex = digestHex(id);
    const tmp = join(this.metaDir, `.tmp-${randomBytes(6).toString('hex')}`);
    await mkdir(tmp);
    if (parent) await writeFile(join(tmp, 'parent'), parent);
    try {
      await rename(tmp, join(this.metaDir, hex));
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      // Someone registered the same image meanwhile; the directory is there, whole.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    const img: StoredImage = {
      id,
      config,
      raw: bytes,
      parent,
      lastUpdated: '',
      topChainId: topChainId(config.rootfs.diff_ids ?? []),
      createdNs: parseRfc3339Ns(config.created ?? '') ?? 0n,
    };
    this.insert(img);
    return img;
  }

  get(id: string): StoredImage | undefined {
    return this.images.get(id);
  }

  all(): StoredImage[] {
    return [...this.images.values()];
  }

  children(id: string): string[] {
    return [...(this.childrenOf.get(id) ?? [])];
  }

  // Images nothing else is built on.
  heads(): StoredImage[] {
    return this.all().filter((img) => !this.childrenOf.get(img.id)?.size);
  }

  async setParent(id: string, parent: string): Promise<void> {
    const img = this.mustGet(id);
    if (img.parent) this.childrenOf.get(img.parent)?.delete(id);
    img.parent = parent;
    if (parent) this.link(parent, id);
    await writeFileAtomic(join(this.metaDir, digestHex(id), 'parent'), parent);
  }

  async setLastUpdated(id: string, when: string): Promise<void> {
    const img = this.mustGet(id);
    img.lastUpdated = when;
    await writeFileAtomic(join(this.metaDir, digestHex(id), 'lastUpdated'), when);
  }

  async delete(id: string): Promise<void> {
    const img = this.images.get(id);
    if (!img) return;
    await rm(join(this.metaDir, digestHex(id)), { recursive: true, force: true });
    await this.content.delete(id);
    this.images.delete(id);
    if (img.parent) this.childrenOf.get(img.parent)?.delete(id);
    if (!this.childrenOf.get(id)?.size) this.childrenOf.delete(id);
  }

  // An ID prefix (hex, optionally "sha256:"-prefixed) → the one image it names.
  // Returns 'ambiguous' when several match, as digestset.Lookup does.
  search(term: string): string | 'ambiguous' | undefined {
    const m = /^(?:sha256:)?([a-f0-9]+)$/.exec(term);
    if (!m) return undefined;
    const prefix = m[1];
    let found: string | undefined;
    for (const id of this.images.keys()) {
      if (!id.startsWith(`sha256:${prefix}`)) continue;
      if (found !== undefined) return 'ambiguous';
      found = id;
    }
    return found;
  }

  // What users type → an image, as dockerd's GetImage: a full ID, a name[:tag] or
  // name@digest in repositories.json, then any unique ID prefix. Anything else (an
  // ambiguous prefix included) is "No such image: <reference as Docker prints it>".
  resolve(term: string): StoredImage {
    const parsed = parseAnyReference(term);
    if (parsed.kind === 'digest') {
      const img = this.images.get(parsed.digest);
      if (img) return img;
      throw noSuchImage(parsed);
    }
    const byRef = this.refs.get(parsed.ref);
    if (byRef !== undefined) {
      const img = this.images.get(byRef);
      if (img) return img;
    }
    const byPrefix = this.search(term);
    if (byPrefix !== undefined && byPrefix !== 'ambiguous') {
      const img = this.images.get(byPrefix);
      if (img) return img;
    }
    throw noSuchImage(parsed);
  }

  private mustGet(id: string): StoredImage {
    const img = this.images.get(id);
    if (!img) throw notFound(`No such image: ${id}`);
    return img;
  }

  private insert(img: StoredImage): void {
    this.images.set(img.id, img);
    if (img.parent) this.link(img.parent, img.id);
  }

  private link(parent: string, child: string): void {
    let set = this.childrenOf.get(parent);
    if (!set) this.childrenOf.set(parent, (set = new Set()));
    set.add(child);
  }
}

export function noSuchImage(ref: AnyRef): BerthError {
  const shown = ref.kind === 'named' ? { kind: 'named' as const, ref: tagNameOnly(ref.ref) } : ref;
  return notFound(`No such image: ${anyRefFamiliarString(shown)}`);
}

function parseConfig(raw: Buffer): ImageConfig | null {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<ImageConfig> | null;
    if (!v || typeof v !== 'object' || !v.rootfs || typeof v.rootfs !== 'object') return null;
    return v as ImageConfig;
  } catch {
    return null;
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
