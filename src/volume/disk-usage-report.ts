import type { ContainerRecord } from '../container/types.js';
import { summarize, type ContainerSummary } from '../container/container-view.js';
import { chainIds } from '../image/digest.js';
import type { LayerStore } from '../storage/types.js';
import type { Volume } from './types.js';

// GET /system/df (moby's daemon/disk_usage.go): images, containers, volumes and build
// cache with the sizes the stores hold. Lives next to the volumes because `system df`
// is where they are counted; it reads the other stores only through these interfaces.

export interface DfImageSource {
  list(opts: { all: boolean; filters: Record<string, string[]>; digests: boolean; apiVersion: string }): Promise<unknown[]>;
  inspect(name: string): Promise<unknown>;
}

export interface DfSources {
  images: DfImageSource;
  layers: Pick<LayerStore, 'list' | 'rwSize'>;
  containers: () => ContainerRecord[];
  volumes: () => Promise<Volume[]>;
}

export type DfKind = 'image' | 'container' | 'volume' | 'build-cache';

interface ImageRow extends Record<string, unknown> {
  Id: string;
  Size: number;
  SharedSize: number;
  Containers: number;
}

// An image's SharedSize is what its layers weigh that other images hold too.
export function sharedSizes(chains: ReadonlyMap<string, readonly string[]>, layerSize: ReadonlyMap<string, number>): Map<string, number> {
  const users = new Map<string, number>();
  for (const chain of chains.values()) for (const c of new Set(chain)) users.set(c, (users.get(c) ?? 0) + 1);
  const out = new Map<string, number>();
  for (const [id, chain] of chains) {
    let shared = 0;
    for (const c of new Set(chain)) if ((users.get(c) ?? 0) > 1) shared += layerSize.get(c) ?? 0;
    out.set(id, shared);
  }
  return out;
}

export async function diskUsage(src: DfSources, kinds: ReadonlySet<DfKind>, apiVersion: string): Promise<Record<string, unknown>> {
  const want = (k: DfKind): boolean => kinds.size === 0 || kinds.has(k);
  const out: Record<string, unknown> = {};
  // Newest first, as `docker ps -a` and moby's disk usage list them.
  const records = [...src.containers()].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created) || (b.Id < a.Id ? -1 : 1));
  if (want('image')) {
    const layers = await src.layers.list();
    const layerSize = new Map(layers.map((l) => [l.chainId, l.size]));
    const images = (await src.images.list({ all: false, filters: {}, digests: false, apiVersion })) as ImageRow[];
    const chains = new Map<string, string[]>();
    for (const img of images) {
      const info = (await src.images.inspect(img.Id).catch(() => null)) as { RootFS?: { Layers?: string[] } } | null;
      chains.set(img.Id, chainIds(info?.RootFS?.Layers ?? []));
    }
    const shared = sharedSizes(chains, layerSize);
    out.LayersSize = layers.reduce((n, l) => n + l.size, 0);
    out.Images = images.map((img) => ({ ...img, SharedSize: shared.get(img.Id) ?? 0, Containers: records.filter((r) => r.Image === img.Id).length }));
  }
  if (want('container')) {
    const now = Date.now();
    out.Containers = await Promise.all(
      records.map(async (r): Promise<ContainerSummary> => {
        const s = summarize(r, now);
        s.SizeRw = await src.layers.rwSize(r.Id).catch(() => 0);
        s.SizeRootFs = s.SizeRw;
        return s;
      }),
    );
  }
  if (want('volume')) out.Volumes = await src.volumes();
  // berth has no build cache of its own yet.
  if (want('build-cache')) out.BuildCache = [];
  return out;
}
