import { dockerContainerConfig } from '../image/config-shape.js';
import type { StoredImage } from '../image/image-store.js';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../image/types.js';

// --cache-from (moby image/cache ImageCache): images named by the client, typically
// pulled, so without the parent links local builds leave. A local hit counts only when it
// is an ancestor of one of them; otherwise a step matches when a source's history goes on
// from the current image with an entry made by the same command. The match is then the
// source itself (its last entry) or an image rebuilt from its config, history and layers
// up to that entry.

export interface CacheFromDeps {
  get(id: string): StoredImage | undefined;
  setParent(id: string, parent: string): Promise<void>;
  createImage(config: ImageConfig, parent: string): Promise<string>;
}

export class CacheFrom {
  constructor(
    private readonly deps: CacheFromDeps,
    private sources: StoredImage[],
  ) {}

  async probe(parentId: string, config: ContainerConfig, localHit: string): Promise<string> {
    if (localHit && this.sources.some((s) => this.isAncestor(s.id, localHit))) return localHit;
    const parent = parentId ? this.deps.get(parentId) : undefined;
    if (parentId && !parent) throw new Error(`unable to find image ${parentId}`);
    const lenHistory = parent?.config.history?.length ?? 0;
    for (const target of this.sources) {
      const history = target.config.history ?? [];
      if (!isValidParent(target.config, parent?.config) || (config.Cmd ?? []).join(' ') !== (history[lenHistory]?.created_by ?? '')) continue;
      if (history.length - 1 === lenHistory) {
        if (parent) await this.deps.setParent(target.id, parent.id);
        return target.id;
      }
      const id = await this.deps.createImage(restoredConfig(parent?.config, target.config, config, lenHistory), parent?.id ?? '');
      // Stay on this source from now on, as moby does.
      this.sources = [target];
      return id;
    }
    return '';
  }

  private isAncestor(imageId: string, ancestor: string): boolean {
    for (let p = this.deps.get(imageId)?.parent ?? ''; p; p = this.deps.get(p)?.parent ?? '') if (p === ancestor) return true;
    return false;
  }
}

const sameEntry = (a: HistoryEntry, b: HistoryEntry | undefined): boolean =>
  !!b && a.created === b.created && (a.author ?? '') === (b.author ?? '') && (a.created_by ?? '') === (b.created_by ?? '') && (a.comment ?? '') === (b.comment ?? '') && !!a.empty_layer === !!b.empty_layer;

// Does img's history and rootfs start with all of parent's?
export function isValidParent(img: ImageConfig, parent: ImageConfig | undefined): boolean {
  const ih = img.history ?? [];
  if (ih.length === 0) return false;
  const ph = parent?.history ?? [];
  const pd = parent?.rootfs.diff_ids ?? [];
  if (!parent || (ph.length === 0 && pd.length === 0)) return true;
  const id = img.rootfs.diff_ids ?? [];
  if (ph.length >= ih.length || pd.length > id.length) return false;
  return ph.every((h, i) => sameEntry(h, ih[i])) && pd.every((d, i) => d === id[i]);
}

// The diff ID of the layer history entry `index` made, or null for an empty one.
function layerForHistoryIndex(img: ImageConfig, index: number): string | null {
  const history = img.history ?? [];
  if (history[index]?.empty_layer) return null;
  const layer = history.slice(0, index).filter((h) => !h.empty_layer).length;
  return img.rootfs.diff_ids?.[layer] ?? null;
}

function restoredConfig(parent: ImageConfig | undefined, target: ImageConfig, config: ContainerConfig, lenHistory: number): ImageConfig {
  const entry = (target.history ?? [])[lenHistory]!;
  const layer = layerForHistoryIndex(target, lenHistory);
  const out: ImageConfig = {
    architecture: target.architecture,
    config: dockerContainerConfig(config),
    container_config: dockerContainerConfig(),
    created: entry.created,
    history: [...(parent?.history ?? []), entry],
    os: target.os,
    rootfs: { type: 'layers', diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(layer ? [layer] : [])] },
  };
  if (target.author) out.author = target.author;
  if (target['os.version']) out['os.version'] = target['os.version'];
  if (target['os.features']) out['os.features'] = target['os.features'];
  return out;
}
