import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '../image/digest.js';
import { BerthError, invalid } from '../util/errors.js';
import type { RegistryClient } from './registry-client.js';
import { TransportError } from './registry-errors.js';

// Layer blobs on their way from a registry into the layer store. A download streams into
// a temp file under content/ingest/ (which the content store empties at start-up) while
// its sha256 is computed; only a blob that matches its digest is renamed to
// content/downloads/<hex>, and only such a file is ever registered. A pull that dies
// (or a daemon that is killed) leaves complete blobs there for the next pull to reuse;
// whoever registers a blob deletes it. One download per digest runs at a time; other
// pulls wanting the same blob follow its progress.

export type DownloadEvent = { kind: 'bytes'; current: number; total: number } | { kind: 'verifying' } | { kind: 'retry'; seconds: number };
export type DownloadListener = (e: DownloadEvent) => void;

interface Inflight {
  done: Promise<string>;
  listeners: Set<DownloadListener>;
}

const ATTEMPTS = 5; // Docker's max download attempts
const STALE_MS = 24 * 3600 * 1000;

export class BlobDownloads {
  private readonly dir: string;
  private readonly ingest: string;
  private readonly inflight = new Map<string, Inflight>();
  // Blobs this process wrote or checked: trusted without hashing them again.
  private readonly verified = new Set<string>();

  constructor(dataRoot: string) {
    this.dir = join(dataRoot, 'content', 'downloads');
    this.ingest = join(dataRoot, 'content', 'ingest');
  }

  // Blobs a crashed pull left a day ago or more are not coming back into use.
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await mkdir(this.ingest, { recursive: true });
    const now = Date.now();
    for (const name of await readdir(this.dir)) {
      const p = join(this.dir, name);
      const st = await stat(p).catch(() => null);
      if (!st || now - st.mtimeMs > STALE_MS || !/^[a-f0-9]{64}$/.test(name)) await unlink(p).catch(() => {});
    }
  }

  path(digest: string): string {
    return join(this.dir, digestHex(digest));
  }

  // The verified blob's path, downloading it unless a complete copy is already here.
  fetch(client: RegistryClient, digest: string, size: number, listener: DownloadListener): Promise<string> {
    let entry = this.inflight.get(digest);
    if (!entry) {
      const listeners = new Set<DownloadListener>();
      const done = this.reuseOrDownload(client, digest, size, (e) => listeners.forEach((l) => l(e)));
      entry = { done, listeners };
      this.inflight.set(digest, entry);
      done.then(
        () => this.inflight.delete(digest),
        () => this.inflight.delete(digest),
      );
    }
    entry.listeners.add(listener);
    return entry.done;
  }

  async remove(digest: string): Promise<void> {
    this.verified.delete(digest);
    await unlink(this.path(digest)).catch(() => {});
  }

  private async reuseOrDownload(client: RegistryClient, digest: string, size: number, emit: DownloadListener): Promise<string> {
    const final = this.path(digest);
    if (await this.intact(final, digest)) return final;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.download(client, digest, size, final, emit);
        this.verified.add(digest);
        return final;
      } catch (err) {
        // Only the network is worth another try; a wrong blob stays wrong.
        if (!(err instanceof TransportError) || attempt >= ATTEMPTS) throw err;
        for (let s = attempt * 5; s > 0; s--) {
          emit({ kind: 'retry', seconds: s });
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  }

  // A blob left by an earlier run was renamed only once verified, but not fsynced: a
  // machine crash could have cut it short, so it is hashed again before use.
  private async intact(path: string, digest: string): Promise<boolean> {
    if (this.verified.has(digest)) {
      if (await stat(path).then(() => true, () => false)) return true;
      this.verified.delete(digest);
      return false;
    }
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    } catch {
      return false;
    }
    if (`sha256:${hash.digest('hex')}` === digest) {
      this.verified.add(digest);
      return true;
    }
    await unlink(path).catch(() => {});
    return false;
  }

  private async download(client: RegistryClient, digest: string, size: number, final: string, emit: DownloadListener): Promise<void> {
    const res = await client.getBlob(digest);
    const length = Number(res.headers['content-length'] ?? -1);
    const total = size > 0 ? size : length > 0 ? length : 0;
    const tmp = join(this.ingest, `dl-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let n = 0;
    try {
      emit({ kind: 'bytes', current: 0, total });
      try {
        for await (const chunk of res) {
          const buf = chunk as Buffer;
          n += buf.length;
          // More than the manifest promised is a wrong blob; stop reading it.
          if (size > 0 && n > size) throw verificationFailed(digest);
          hash.update(buf);
          let off = 0;
          while (off < buf.length) off += (await fh.write(buf, off)).bytesWritten;
          emit({ kind: 'bytes', current: n, total });
        }
      } catch (err) {
        res.destroy();
        if (err instanceof BerthError) throw err;
        throw new TransportError(`unexpected EOF: ${(err as Error).message}`, err);
      }
      await fh.close();
      emit({ kind: 'verifying' });
      if (`sha256:${hash.digest('hex')}` !== digest || (size > 0 && n !== size)) throw verificationFailed(digest);
      await rename(tmp, final);
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
}

export function verificationFailed(digest: string): Error {
  return invalid(`filesystem layer verification failed for digest ${digest}`);
}
