import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { chainId } from '../storage/chain-id.js';
import type { LayerCompression } from '../storage/layer-decompress.js';
import { Overlay2Store } from '../storage/overlay2.js';
import type { LayerInfo } from '../storage/types.js';
import { decompress } from './archive-decompress.js';
import { LayerTars } from './archive-layer-tars.js';

export interface PulledBlob {
  path: string;
  digest: string;
  compression: LayerCompression;
}

export interface RegisterOptions {
  blob?: PulledBlob;
}

// The overlay2 layer store, keeping each registered layer's tar (see archive-layer-tars.ts
// for why). Every registration path (import, bootstrap, commit, build, pull, load) goes
// through register(), so none of them needs to know; garbage collection drops a tar with
// the last layer that has its diff ID.
export class LayerTarKeepingStore extends Overlay2Store {
  readonly tars: LayerTars;
  // Registrations under way, by chain ID: a second one of a layer is only drained.
  private readonly busy = new Map<string, number>();

  constructor(dataRoot: string) {
    super(dataRoot);
    this.tars = new LayerTars(dataRoot);
  }

  override async init(): Promise<void> {
    await super.init();
    await this.tars.init();
  }

  // opts.blob: the layer's compressed blob, which will be at blob.path, verified, once the
  // layer is committed (a pull's download): it is kept instead of a copy of the tar.
  override async register(tar: Readable, parentChainId: string | null, expectedDiffId?: string, opts: RegisterOptions = {}): Promise<LayerInfo> {
    // Gzip is undone once, here: the store then reads a plain tar, and the tar kept is the
    // one the diff ID names.
    const { compression, stream } = await decompress(tar);
    // Other compressions: the store refuses them with its own message.
    if (compression !== 'none' && compression !== 'gzip') return super.register(stream, parentChainId, expectedDiffId);
    // Without an expected diff ID the store always extracts; with one, it only drains the
    // bytes when the layer exists or another registration of it is under way, and every
    // registration goes through here or registerFile, which count themselves in `busy`.
    const chain = expectedDiffId === undefined ? null : chainId(parentChainId, expectedDiffId);
    const alone = chain === null || !this.busy.has(chain);
    this.enter(chain);
    try {
      if (expectedDiffId !== undefined && (await this.tars.has(expectedDiffId))) {
        return await super.register(stream, parentChainId, expectedDiffId);
      }
      if (opts.blob && expectedDiffId !== undefined) return await this.registerKeepingBlob(stream, parentChainId, expectedDiffId, opts.blob);
      const extracts = chain === null || (alone && (await this.get(chain)) === null);
      return await this.tars.keepWhile(stream, (plain) => super.register(plain, parentChainId, expectedDiffId), {
        consumerHashed: extracts,
      });
    } finally {
      this.leave(chain);
    }
  }

  // The blob is adopted only after the layer is committed (its bytes verified by then);
  // whether it really holds this diff ID's tar is checked when the tar is read (verify,
  // push), as for a kept tar.
  private async registerKeepingBlob(plain: Readable, parentChainId: string | null, diffId: string, blob: PulledBlob): Promise<LayerInfo> {
    let size = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const chunk of plain) {
        size += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    const layer = await super.register(Readable.from(counting(), { objectMode: false }), parentChainId, diffId);
    await this.tars.adoptBlob(diffId, blob.path, { digest: blob.digest, compression: blob.compression, size });
    return layer;
  }

  // A layer tar already on disk under the data root (a `load` spool file) whose sha256 is
  // known: an uncompressed one is moved into the content store rather than copied.
  async registerFile(
    path: string,
    fileDigest: string,
    parentChainId: string | null,
    diffId: string,
    progress?: (bytesRead: number) => void,
  ): Promise<LayerInfo> {
    const existing = await this.get(chainId(parentChainId, diffId));
    if (existing) return existing;
    if (fileDigest !== diffId || (await this.tars.has(diffId)) || !(await this.tars.adopt(path, diffId))) {
      return this.register(readCounting(path, progress), parentChainId, diffId);
    }
    const chain = chainId(parentChainId, diffId);
    this.enter(chain);
    try {
      const layer = await super.register(readCounting(this.tars.content.path(diffId), progress), parentChainId, diffId);
      await this.tars.mark(diffId);
      return layer;
    } catch (err) {
      await this.tars.dropUnmarked(diffId);
      throw err;
    } finally {
      this.leave(chain);
    }
  }

  private enter(chain: string | null): void {
    if (chain !== null) this.busy.set(chain, (this.busy.get(chain) ?? 0) + 1);
  }

  private leave(chain: string | null): void {
    if (chain === null) return;
    const n = (this.busy.get(chain) ?? 1) - 1;
    if (n > 0) this.busy.set(chain, n);
    else this.busy.delete(chain);
  }

  // The tar that computes the diff ID is the one kept.
  override async commitRw(id: string): Promise<LayerInfo> {
    const { digest } = await this.tars.ingest(await this.rwDiffTar(id));
    try {
      const layer = await this.adoptRw(id, digest);
      await this.tars.mark(digest);
      return layer;
    } catch (err) {
      await this.tars.dropUnmarked(digest);
      throw err;
    }
  }

  override async removeUnreferenced(keep: Set<string>): Promise<string[]> {
    const removed = await super.removeUnreferenced(keep);
    if (removed.length > 0) await this.tars.prune(async () => new Set((await this.list()).map((l) => l.diffId)));
    return removed;
  }
}

function readCounting(path: string, progress?: (bytesRead: number) => void): Readable {
  const file = createReadStream(path);
  if (!progress) return file;
  let n = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      progress(n);
      cb(null, chunk);
    },
  });
  pipeline(file, counter).catch((err: unknown) => counter.destroy(err as Error));
  return counter;
}
