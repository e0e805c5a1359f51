import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { LayerInfo } from '../storage/types.js';
import { newId } from '../util/ids.js';

// A writable layer on an image, with no container around it (moby's builder RWLayer):
// WORKDIR, COPY and ADD write into its mounted rootfs and commit its upper dir; COPY --from
// reads a stage's files through one. Each is marked in <builder>/tmp while it exists, so
// one a crash left behind is removed at the next start.

export interface BuildLayerStore {
  createRw(id: string, parentChainId: string | null): Promise<void>;
  mountRw(id: string, opts?: { volatile?: boolean }): Promise<string>;
  unmountRw(id: string): Promise<void>;
  removeRw(id: string): Promise<void>;
  rwDirs(id: string): Promise<{ upper: string; lowers: string[] }>;
  rwDiffTar(id: string): Promise<Readable>;
  register(tar: Readable, parentChainId: string | null): Promise<LayerInfo>;
  // The unmounted rw layer's upper dir moved into a new layer (Overlay2Store.commitRw);
  // without it, its tar is registered (extracted again).
  commitRw?(id: string): Promise<LayerInfo>;
}

const MARK = 'layer-';

export class ScratchLayer {
  private constructor(
    private readonly layers: BuildLayerStore,
    private readonly markDir: string,
    readonly id: string,
    readonly parentChainId: string | null,
    readonly rootfs: string,
  ) {}

  static async open(layers: BuildLayerStore, markDir: string, parentChainId: string | null): Promise<ScratchLayer> {
    const id = newId();
    await mkdir(markDir, { recursive: true, mode: 0o700 });
    await writeFile(join(markDir, MARK + id), '');
    try {
      await layers.createRw(id, parentChainId);
      // Volatile: a scratch layer never outlives a crash (removeLeftoverLayers), and its
      // unmount before the commit then costs no sync of the whole filesystem.
      return new ScratchLayer(layers, markDir, id, parentChainId, await layers.mountRw(id, { volatile: true }));
    } catch (err) {
      await layers.removeRw(id).catch(() => {});
      await rm(join(markDir, MARK + id), { force: true });
      throw err;
    }
  }

  // The changes as a layer on the parent; null when nothing changed (an empty layer,
  // which the image then records as empty_layer without a diff ID) unless always.
  async commit(always = false): Promise<LayerInfo | null> {
    await this.layers.unmountRw(this.id);
    const { upper } = await this.layers.rwDirs(this.id);
    if (!always && (await readdir(upper)).length === 0) return null;
    if (this.layers.commitRw) return this.layers.commitRw(this.id);
    return this.layers.register(await this.layers.rwDiffTar(this.id), this.parentChainId);
  }

  async release(): Promise<void> {
    await this.layers.removeRw(this.id);
    await rm(join(this.markDir, MARK + this.id), { force: true });
  }
}

// Start-up: layers of builds the daemon did not live to finish.
export async function removeLeftoverLayers(layers: BuildLayerStore, markDir: string): Promise<void> {
  const names = await readdir(markDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(MARK)) continue;
    await layers.removeRw(name.slice(MARK.length)).catch(() => {});
    await rm(join(markDir, name), { force: true });
  }
}
