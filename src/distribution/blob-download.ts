import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { FileWriter } from '../storage/file-writer.js';
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
const READ_CHUNK = 1 << 20;
// How many network chunks (~64 KiB) a consumer may lag behind before the download waits.
const SINK_CHUNKS = 64;
const STALE_MS = 24 * 3600 * 1000;

export class BlobDownloads {
  private readonly dir: string;
  private readonly ingest: string;
  private readonly inflight = new Map<string, Inflight>();
  // Blobs this process wrote or checked: trusted without hashing them again.
  private readonly verified = new Set<string>();
  // Blobs other pulls are still to read (count), and the ones to remove after them.
  private readonly readers = new Map<string, number>();
  private readonly doomed = new Set<string>();

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

  // The verified blob's path, downloading it unless a complete copy is already here; the
  // bytes also go to `consume` as they arrive, so a layer is extracted while it downloads.
  // The stream consume reads ends only once the whole blob matched its digest; otherwise
  // it fails, with the verification error, so whatever consume built from it must not be
  // used before that end. After a network failure consume is called again, with the next
  // attempt's stream, once its previous call has settled. The blob is kept in the
  // downloads dir all the same, for a later pull to reuse should this one die before
  // registering it. A copy already here, or a download of it already running for another
  // pull, is read from the file once complete. `verified` settles when the blob is
  // verified (its path) or has failed for good (ConsumerFailed when consume's failure
  // stopped it); `result` is consume's outcome.
  fetch<T>(client: RegistryClient, digest: string, size: number, listener: DownloadListener, consume: (bytes: Readable) => Promise<T>): { verified: Promise<string>; result: Promise<T> } {
    const running = this.inflight.get(digest);
    if (running) {
      running.listeners.add(listener);
      // Pinned until read: the pull that downloads it may register it first and remove it.
      this.pin(digest);
      const result = running.done.then((p) => consume(createReadStream(p, { highWaterMark: READ_CHUNK })));
      result.then(
        () => this.unpin(digest),
        () => this.unpin(digest),
      );
      return { verified: running.done, result };
    }
    const listeners = new Set<DownloadListener>([listener]);
    const emit: DownloadListener = (e) => listeners.forEach((l) => l(e));
    let result: Promise<T> | null = null;
    const done = (async (): Promise<string> => {
      const final = this.path(digest);
      this.pin(digest);
      if (await this.intact(final, digest)) {
        result = consume(createReadStream(final, { highWaterMark: READ_CHUNK }));
        result.then(
          () => this.unpin(digest),
          () => this.unpin(digest),
        );
        return final;
      }
      this.unpin(digest);
      return this.retrying(emit, async () => {
        // The previous attempt's consumer lets go first (its stream failed).
        if (result) await result.catch(() => {});
        // Chunk by chunk (object mode): a byte stream's reader gets everything buffered
        // concatenated into a fresh buffer at each read, a copy of the whole layer.
        const sink = new PassThrough({ objectMode: true, highWaterMark: SINK_CHUNKS });
        const attempt = consume(sink);
        // A consumer that gives up (a bad tar, a diff ID that does not match) stops the download.
        attempt.catch((err: unknown) => sink.destroy(err instanceof Error ? err : new Error(String(err))));
        result = attempt;
        return this.download(client, digest, size, final, emit, { sink, settled: attempt });
      });
    })();
    this.inflight.set(digest, { done, listeners });
    done.then(
      () => this.inflight.delete(digest),
      () => this.inflight.delete(digest),
    );
    done.catch(() => {});
    return {
      verified: done,
      // A consumer's own failure is its result; otherwise the download's.
      result: done.then(
        () => result!,
        (err: unknown) => (result ? result.then(() => Promise.reject(err)) : Promise.reject(err)),
      ),
    };
  }

  // Once registered: the blob goes, unless another pull is still to read it.
  async remove(digest: string): Promise<void> {
    if (this.readers.has(digest)) {
      this.doomed.add(digest);
      return;
    }
    this.verified.delete(digest);
    await unlink(this.path(digest)).catch(() => {});
  }

  private pin(digest: string): void {
    this.readers.set(digest, (this.readers.get(digest) ?? 0) + 1);
  }

  private unpin(digest: string): void {
    const n = (this.readers.get(digest) ?? 1) - 1;
    if (n > 0) {
      this.readers.set(digest, n);
      return;
    }
    this.readers.delete(digest);
    if (this.doomed.delete(digest)) void this.remove(digest);
  }

  private async retrying(emit: DownloadListener, attemptOnce: () => Promise<string>): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await attemptOnce();
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
      for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK })) hash.update(chunk as Buffer);
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

  // One attempt; the consumer's sink (when given) gets every byte too and ends only after
  // verification.
  private async download(client: RegistryClient, digest: string, size: number, final: string, emit: DownloadListener, to?: Consumer): Promise<string> {
    const sink = to?.sink;
    try {
      await this.downloadTo(client, digest, size, final, emit, sink);
    } catch (err) {
      sink?.destroy(err as Error);
      // Stopped because the consumer failed: its error is the one that tells why.
      if (err instanceof ConsumerFailed && to) throw new ConsumerFailed(await to.settled.then(() => err.cause, (e: unknown) => e));
      throw err;
    }
    this.verified.add(digest);
    sink?.end();
    return final;
  }

  private async downloadTo(client: RegistryClient, digest: string, size: number, final: string, emit: DownloadListener, sink?: PassThrough): Promise<void> {
    const res = await client.getBlob(digest);
    const length = Number(res.headers['content-length'] ?? -1);
    const total = size > 0 ? size : length > 0 ? length : 0;
    const tmp = join(this.ingest, `dl-${randomBytes(8).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    const out = new FileWriter(fh.fd);
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
          await out.write(buf);
          if (sink) await feed(sink, buf);
          emit({ kind: 'bytes', current: n, total });
        }
        await out.finish();
      } catch (err) {
        res.destroy();
        await out.finish().catch(() => {});
        if (err instanceof BerthError || err instanceof ConsumerFailed || (err as NodeJS.ErrnoException).code === 'ENOSPC') throw err;
        if (sink?.destroyed) throw consumerGone(sink, err);
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

// Hands a chunk to the consumer's stream, waiting while it is behind.
async function feed(sink: PassThrough, buf: Buffer): Promise<void> {
  if (sink.destroyed) throw consumerGone(sink, null);
  if (sink.write(buf)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
  if (sink.destroyed) throw consumerGone(sink, null);
}

interface Consumer {
  sink: PassThrough;
  settled: Promise<unknown>; // the consumer's own outcome
}

// fetch's download stopped because its consumer failed (no retry can help);
// cause is the consumer's error.
export class ConsumerFailed extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

function consumerGone(sink: PassThrough, cause: unknown): Error {
  return new ConsumerFailed(sink.errored ?? cause ?? new Error('layer consumer stopped'));
}

export function verificationFailed(digest: string): Error {
  return invalid(`filesystem layer verification failed for digest ${digest}`);
}
