import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { invalid, notFound, systemError } from '../util/errors.js';
import { digestHex, isSha256Digest, sha256Digest } from './digest.js';

// Content-addressed blobs at <dataRoot>/content/sha256/<hex>: image configs, layer tars
// as pulled, manifests. A blob only ever appears whole and under its true digest: it is
// written to ingest/, fsynced, verified, then renamed into place.

export interface BlobInfo {
  digest: string;
  size: number;
}

export class ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(dataRoot: string) {
    this.blobDir = join(dataRoot, 'content', 'sha256');
    this.ingestDir = join(dataRoot, 'content', 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.ingestDir, { recursive: true });
    // Leftovers of writes a crash interrupted: never renamed, so nobody refers to them.
    for (const name of await readdir(this.ingestDir)) await unlink(join(this.ingestDir, name)).catch(() => {});
  }

  path(digest: string): string {
    if (!isSha256Digest(digest)) throw invalid(`invalid digest: ${digest}`);
    return join(this.blobDir, digestHex(digest));
  }

  async put(data: Uint8Array | string): Promise<string> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const digest = sha256Digest(bytes);
    if (await this.has(digest)) return digest;
    const tmp = this.tempPath();
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
      await fh.close();
      await rename(tmp, this.path(digest));
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return digest;
  }

  // Streams into the store while hashing; with expectedDigest a mismatch stores nothing.
  async putStream(src: Readable, expectedDigest?: string): Promise<BlobInfo> {
    if (expectedDigest !== undefined && !isSha256Digest(expectedDigest)) {
      throw invalid(`invalid digest: ${expectedDigest}`);
    }
    const tmp = this.tempPath();
    const fh = await open(tmp, 'w', 0o644);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of src) {
        const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        hash.update(buf);
        size += buf.length;
        await fh.write(buf);
      }
      const digest = 'sha256:' + hash.digest('hex');
      if (expectedDigest !== undefined && digest !== expectedDigest) {
        throw invalid(`digest mismatch: expected ${expectedDigest}, got ${digest}`);
      }
      await fh.sync();
      await fh.close();
      await rename(tmp, this.path(digest));
      return { digest, size };
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  // Whole blob in memory, verified (for small blobs: configs, manifests).
  async get(digest: string): Promise<Buffer> {
    let data: Buffer;
    try {
      data = await readFile(this.path(digest));
    } catch (err) {
      if (isEnoent(err)) throw notFound(`content ${digest}: not found`);
      throw err;
    }
    if (sha256Digest(data) !== digest) throw systemError(`content ${digest}: digest mismatch on disk`);
    return data;
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch (err) {
      if (isEnoent(err)) return false;
      throw err;
    }
  }

  async open(digest: string): Promise<Readable> {
    const p = this.path(digest);
    if (!(await this.has(digest))) throw notFound(`content ${digest}: not found`);
    return createReadStream(p);
  }

  async size(digest: string): Promise<number> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if (isEnoent(err)) throw notFound(`content ${digest}: not found`);
      throw err;
    }
  }

  // Idempotent: deleting a missing blob is not an error.
  async delete(digest: string): Promise<void> {
    await unlink(this.path(digest)).catch((err: unknown) => {
      if (!isEnoent(err)) throw err;
    });
  }

  private tempPath(): string {
    return join(this.ingestDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
