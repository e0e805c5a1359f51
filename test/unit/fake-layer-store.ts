import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import type { GraphDriverData, LayerInfo, LayerStore } from '../../src/storage/types.js';

// An in-memory LayerStore for image tests: diff IDs and chain IDs computed as the real
// store does (sha256 of the uncompressed tar; OCI chain IDs), no extraction, no mounts.
export class FakeLayerStore implements LayerStore {
  readonly layers = new Map<string, LayerInfo>();
  readonly rw = new Map<string, string | null>();
  registered = 0;

  async register(tar: Readable, parentChainId: string | null): Promise<LayerInfo> {
    const chunks: Buffer[] = [];
    for await (const c of tar) chunks.push(Buffer.from(c as Buffer));
    let bytes = Buffer.concat(chunks);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    const diffId = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    const chainId = parentChainId
      ? 'sha256:' + createHash('sha256').update(`${parentChainId} ${diffId}`).digest('hex')
      : diffId;
    this.registered++;
    const existing = this.layers.get(chainId);
    if (existing) return existing;
    const info: LayerInfo = { chainId, diffId, parent: parentChainId, cacheId: chainId.slice(7, 19), size: bytes.length };
    this.layers.set(chainId, info);
    return info;
  }

  async get(chainId: string): Promise<LayerInfo | null> {
    return this.layers.get(chainId) ?? null;
  }

  async list(): Promise<LayerInfo[]> {
    return [...this.layers.values()];
  }

  async removeUnreferenced(keep: Set<string>): Promise<string[]> {
    const needed = new Set<string>();
    for (const id of keep) {
      for (let l = this.layers.get(id); l; l = l.parent ? this.layers.get(l.parent) : undefined) needed.add(l.chainId);
    }
    const removed: string[] = [];
    for (const id of [...this.layers.keys()]) {
      if (!needed.has(id)) {
        this.layers.delete(id);
        removed.push(id);
      }
    }
    return removed;
  }

  async graphDriver(chainId: string): Promise<GraphDriverData> {
    const l = this.layers.get(chainId);
    if (!l) throw new Error(`no layer ${chainId}`);
    return { MergedDir: `/fake/${l.cacheId}/merged`, UpperDir: `/fake/${l.cacheId}/diff`, WorkDir: `/fake/${l.cacheId}/work` };
  }

  async createRw(id: string, parentChainId: string | null): Promise<void> {
    this.rw.set(id, parentChainId);
  }
  async mountRw(id: string): Promise<string> {
    return `/fake/${id}/merged`;
  }
  async unmountRw(): Promise<void> {}
  async removeRw(id: string): Promise<void> {
    this.rw.delete(id);
  }
  async rwGraphDriver(id: string): Promise<GraphDriverData> {
    return { UpperDir: `/fake/${id}/diff` };
  }
  async rwSize(): Promise<number> {
    return 0;
  }
}
