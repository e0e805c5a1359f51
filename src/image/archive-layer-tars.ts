import { createHash, randomBytes, type Hash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { FileWriter } from '../storage/file-writer.js';
import { plainLayer, type LayerCompression } from '../storage/layer-decompress.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ContentStore } from './content-store.js';
import { digestHex, isSha256Digest } from './digest.js';

// The uncompressed tar of every registered layer, kept in the content store under its
// diff ID (content/sha256/<diffIdHex>), so `save` serves the exact bytes the diff ID was
// computed from.
//
// Why keep them: `docker load` recomputes each layer's digest and refuses the image if it
// differs from the config's diff_ids. Re-archiving an extracted diff dir cannot reproduce
// a foreign tar byte for byte (header formats, PAX records, entry order, mtimes of
// whiteouts, padding all vary between tar writers), and dockerd only manages it by storing
// tar-split metadata for every layer. containerd keeps the blobs; so does berth, at the
// cost of the layer's size once more on disk.
//
// The tars are written without fsync, unlike other blobs: one is a copy of what the layer
// store has just extracted (which is not synced either), syncing it cost as much as the
// extraction itself (0.3-0.9 s per 100 MB here), and nothing but `save` reads it. A crash
// can leave a renamed but empty or partial file, so `save` checks a tar's digest before
// sending it (verify) and treats a bad one as missing.
//
// A pulled layer keeps its compressed blob instead (content/sha256/<blobHex>, the verified
// download itself, linked in rather than copied): writing the tar again cost a third of
// the pull's time, and the blob is what the registry gave, byte for byte. Its mark then
// names the blob, its compression and the tar's size; open() undoes the compression, and
// verify() checks the tar that comes out against the diff ID as for a plain one.
//
// A layer tar is marked (image/layer-tars/<diffIdHex>, an empty file, or the blob's JSON)
// once its layer is registered: the marks tell layer tars from other blobs, so garbage
// collection removes a tar when the last layer with its diff ID goes, and nothing else.

export interface LayerTar {
  stream: Readable;
  size: number;
}

// What a mark says when the layer's compressed blob is kept instead of its tar.
export interface KeptBlob {
  digest: string; // the blob's own sha256, as the registry named it
  compression: Exclude<LayerCompression, 'none'>;
  size: number; // bytes of the tar it uncompresses to
}

export class LayerTars {
  readonly content: ContentStore;
  private readonly markDir: string;
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(dataRoot: string) {
    this.content = new ContentStore(dataRoot);
    this.markDir = join(dataRoot, 'image', 'layer-tars');
    this.blobDir = join(dataRoot, 'content', 'sha256');
    this.ingestDir = join(dataRoot, 'content', 'ingest');
  }

  async init(): Promise<void> {
    // The image service's content store cleans ingest/ at start-up; only make sure the
    // directories exist, whichever service starts first.
    await Promise.all([this.markDir, this.blobDir, this.ingestDir].map((d) => mkdir(d, { recursive: true })));
  }

  async has(diffId: string): Promise<boolean> {
    if (!isSha256Digest(diffId)) return false;
    if (await this.content.has(diffId)) return true;
    const blob = await this.keptBlob(diffId);
    return blob !== null && this.content.has(blob.digest);
  }

  // The tar's size, 0 when none is kept.
  async size(diffId: string): Promise<number> {
    if (!isSha256Digest(diffId)) return 0;
    const plain = await this.content.size(diffId).catch(() => null);
    if (plain !== null) return plain;
    const blob = await this.keptBlob(diffId);
    return blob !== null && (await this.content.has(blob.digest)) ? blob.size : 0;
  }

  async open(diffId: string): Promise<LayerTar | null> {
    if (!isSha256Digest(diffId)) return null;
    try {
      if (await this.content.has(diffId)) {
        const size = await this.content.size(diffId);
        return { stream: await this.content.open(diffId), size };
      }
      const blob = await this.keptBlob(diffId);
      if (!blob) return null;
      const file = await open(this.content.path(blob.digest), 'r');
      const bytes = createReadStream('', { fd: file, highWaterMark: 1 << 20 });
      return { stream: plainLayer(bytes, blob.compression), size: blob.size };
    } catch {
      return null; // removed meanwhile
    }
  }

  // The layer's tar is kept, plain, under its diff ID; a blob kept for it before goes.
  async mark(diffId: string): Promise<void> {
    const before = await this.keptBlob(diffId);
    await writeFile(join(this.markDir, digestHex(diffId)), '');
    if (before) await this.content.delete(before.digest);
  }

  // Keeps a layer's verified compressed blob (a file under the data root) as its tar, once
  // the layer is registered; nothing when the tar is kept already. An uncompressed blob is
  // the tar itself. Linked, not moved: the caller still owns the file at `path`.
  async adoptBlob(diffId: string, path: string, blob: { digest: string; compression: LayerCompression; size: number }): Promise<void> {
    if (!isSha256Digest(diffId) || !isSha256Digest(blob.digest) || (await this.has(diffId))) return;
    const plain = blob.digest === diffId;
    // A media type that says plain tar does not stop Docker from sniffing gzip.
    const compression = blob.compression === 'none' && !plain ? await sniffGzip(path) : blob.compression;
    if (compression === 'none' && !plain) return; // not this layer's tar
    await link(path, this.content.path(blob.digest)).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    });
    if (plain) {
      await this.mark(diffId);
      return;
    }
    const kept: KeptBlob = { digest: blob.digest, compression: compression as KeptBlob['compression'], size: blob.size };
    await writeFileAtomic(join(this.markDir, digestHex(diffId)), JSON.stringify(kept));
  }

  // The compressed blob kept for a layer, as push sends it; null when a plain tar is kept
  // (or nothing).
  async compressedBlob(diffId: string): Promise<(KeptBlob & { blobSize: number; open(): Promise<Readable> }) | null> {
    if (!isSha256Digest(diffId) || (await this.content.has(diffId))) return null;
    const blob = await this.keptBlob(diffId);
    if (!blob) return null;
    const blobSize = await this.content.size(blob.digest).catch(() => null);
    if (blobSize === null) return null;
    return { ...blob, blobSize, open: () => this.content.open(blob.digest) };
  }

  // The blob a mark names, or null for a plain tar's mark, no mark or an unreadable one.
  private async keptBlob(diffId: string): Promise<KeptBlob | null> {
    let text: string;
    try {
      text = await readFile(join(this.markDir, digestHex(diffId)), 'utf8');
    } catch {
      return null;
    }
    if (text === '') return null;
    try {
      const v = JSON.parse(text) as Partial<KeptBlob>;
      const ok = typeof v.digest === 'string' && isSha256Digest(v.digest) && (v.compression === 'gzip' || v.compression === 'zstd') && Number.isSafeInteger(v.size);
      return ok ? (v as KeptBlob) : null;
    } catch {
      return null;
    }
  }

  // Deletes a diff ID's mark and whatever it kept.
  private async forget(diffId: string): Promise<void> {
    const blob = await this.keptBlob(diffId);
    await unlink(join(this.markDir, digestHex(diffId))).catch(() => {});
    await this.content.delete(diffId);
    if (blob) await this.content.delete(blob.digest);
  }

  // Reads a tar while something else consumes it (the layer store extracting it), and
  // stores the same bytes. Either failing fails both: a layer is only registered with
  // its tar kept. Returns what consume returned once the tar is stored and marked.
  //
  // consumerHashed: the caller vouches that consume computes its diffId from every byte it
  // read (the store extracted the tar, and applyLayerTar hashed it), so the copy is not
  // hashed a second time: the same chunks went to both sides, and the copy is stored
  // under the consumer's diff ID. Without it (the store may only drain the bytes of a
  // layer it already has) the copy is hashed, and kept only if it is that layer's tar.
  async keepWhile<T extends { diffId: string }>(
    plain: Readable,
    consume: (tar: Readable) => Promise<T>,
    opts: { consumerHashed?: boolean } = {},
  ): Promise<T> {
    const toConsumer = new PassThrough();
    const toBlob = new PassThrough();
    const ac = new AbortController();
    const fail = (err: unknown): void => {
      if (ac.signal.aborted) return;
      ac.abort(err);
      const e = err instanceof Error ? err : new Error(String(err));
      for (const s of [plain, toConsumer, toBlob]) s.destroy(e);
    };
    // Failures are reported through the promises below; destroying a branch with the error
    // must not also raise it as an unhandled 'error' event.
    for (const s of [plain, toConsumer, toBlob]) s.on('error', () => {});
    const feeding = tee(plain, [toConsumer, toBlob], ac.signal).catch(fail);
    const consumed = consume(toConsumer).catch((err: unknown) => {
      fail(err);
      throw err;
    });
    const spooled = this.spool(toBlob, opts.consumerHashed !== true).catch((err: unknown) => {
      fail(err);
      throw err;
    });
    const [c, s] = await Promise.allSettled([consumed, spooled]);
    await feeding;
    if (s.status === 'rejected') {
      if (c.status === 'rejected') throw c.reason;
      throw s.reason;
    }
    const { tmp, digest } = s.value;
    // A layer that already existed was not extracted again, only drained: the bytes are
    // then whatever the caller sent, which need not be that layer's tar.
    const keep = c.status === 'fulfilled' && isSha256Digest(c.value.diffId) && (digest === null || digest === c.value.diffId);
    if (keep) {
      await rename(tmp, this.content.path(c.value.diffId)).catch(async (err: unknown) => {
        await unlink(tmp).catch(() => {});
        throw err;
      });
    } else {
      await unlink(tmp).catch(() => {});
    }
    if (c.status === 'rejected') throw c.reason;
    if (keep) await this.mark(c.value.diffId);
    return c.value;
  }

  // Writes a stream into the store under its digest (temp file in ingest/, renamed).
  async ingest(src: Readable): Promise<{ digest: string; size: number }> {
    const { tmp, digest, size } = await this.spool(src, true);
    try {
      await rename(tmp, this.content.path(digest!));
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return { digest: digest!, size };
  }

  // Writes a stream to a temp file in ingest/ (the caller renames or removes it), hashing
  // it when asked (digest null otherwise). A gzip stream is always hashed: applyLayerTar
  // undoes gzip again, so a consumer's diff ID would then name other bytes than these.
  private async spool(src: Readable, hashing: boolean): Promise<{ tmp: string; digest: string | null; size: number }> {
    const tmp = join(this.ingestDir, `tar-${randomBytes(8).toString('hex')}`);
    let hash: Hash | null = null;
    let head: Buffer[] | null = []; // the first bytes, until hashing is decided
    let size = 0;
    const fh = await open(tmp, 'wx', 0o644);
    const out = new FileWriter(fh.fd);
    const decide = (): void => {
      const first = Buffer.concat(head!);
      if (hashing || (first[0] === 0x1f && first[1] === 0x8b)) hash = createHash('sha256').update(first);
      head = null;
    };
    try {
      for await (const chunk of src) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (head) {
          head.push(buf);
          if (size >= 2) decide();
        } else {
          (hash as Hash | null)?.update(buf);
        }
        await out.write(buf);
      }
      if (head) decide();
      await out.finish();
      await fh.close();
      return { tmp, digest: hash ? `sha256:${(hash as Hash).digest('hex')}` : null, size };
    } catch (err) {
      await out.finish().catch(() => {});
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  // Whether the stored tar still hashes to its diff ID; a bad one (a crash cut it short)
  // is removed, so the caller can treat the layer as having no tar.
  async verify(diffId: string): Promise<boolean> {
    const t = await this.open(diffId);
    if (!t) return false;
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of t.stream) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch {
      // A blob that does not uncompress is as bad as one that hashes wrong.
    }
    if (`sha256:${hash.digest('hex')}` === diffId && size === t.size) return true;
    await this.forget(diffId);
    return false;
  }

  // Moves a file already known to hash to diffId into the store (same filesystem: the
  // load spool lives under the data root), without copying it. False when it cannot.
  async adopt(path: string, diffId: string): Promise<boolean> {
    if (!isSha256Digest(diffId)) return false;
    try {
      await rename(path, this.content.path(diffId));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EXDEV') return false;
      throw err;
    }
  }

  // Deletes a tar nothing marked (what a failed registration left).
  async dropUnmarked(digest: string): Promise<void> {
    if (!isSha256Digest(digest)) return;
    const marked = await stat(join(this.markDir, digestHex(digest))).then(
      () => true,
      () => false,
    );
    if (!marked) await this.content.delete(digest);
  }

  // Removes the tars of diff IDs no layer has any more. Marks are read before the live
  // set is asked for: a mark is written after its layer is registered, so every mark seen
  // here belongs to a layer that liveDiffIds already knows, unless it is really gone.
  async prune(liveDiffIds: () => Promise<Set<string>>): Promise<string[]> {
    const marks = (await readdir(this.markDir)).filter((n) => /^[a-f0-9]{64}$/.test(n));
    if (marks.length === 0) return [];
    const live = await liveDiffIds();
    const removed: string[] = [];
    for (const hex of marks) {
      const diffId = `sha256:${hex}`;
      if (live.has(diffId)) continue;
      await this.forget(diffId);
      removed.push(diffId);
    }
    return removed;
  }
}

async function sniffGzip(path: string): Promise<LayerCompression> {
  const fh = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b ? 'gzip' : 'none';
  } finally {
    await fh.close();
  }
}

// Copies src into every output, at the pace of the slowest.
async function tee(src: Readable, outs: PassThrough[], signal: AbortSignal): Promise<void> {
  for await (const chunk of src) {
    const waits: Array<Promise<unknown>> = [];
    for (const o of outs) if (!o.write(chunk)) waits.push(once(o, 'drain', { signal }));
    if (waits.length) await Promise.all(waits);
  }
  for (const o of outs) o.end();
}
