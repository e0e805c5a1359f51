import { filterValues, matchLabels } from '../image/image-filters.js';
import { parseFilterTimestamp } from '../image/time.js';
import type { Filters } from '../image/types.js';
import { invalid } from '../util/errors.js';
import type { BuildCacheIndex } from './build-cache.js';
import type { BuildContainers, BuildImages } from './build-session.js';

// `docker builder prune` for the legacy builder's cache: the untagged images builds made.
// By default only the dangling ones go (no tagged image, no container, no running build
// stands on them); with all, every untagged build image nothing runs on goes too, and
// the images built on them lose their parent link (their layers stay with them).

export interface PruneDeps {
  images: BuildImages;
  containers: Pick<BuildContainers, 'store'>;
  layerSizes(): Promise<Map<string, number>>; // chain ID → bytes
  index: BuildCacheIndex;
  busy: ReadonlySet<string>; // images running builds stand on
}

export interface PruneOptions {
  all: boolean;
  filters: Filters;
}

export interface CachePruneReport {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

// buildkit's cache filters, plus label (system prune passes its label filters on).
const ACCEPTED = ['until', 'unused-for', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private', 'label', 'label!'];

export async function pruneBuildCache(deps: PruneDeps, opts: PruneOptions): Promise<CachePruneReport> {
  const { images, index } = deps;
  const store = images.store;
  for (const key of Object.keys(opts.filters)) if (!ACCEPTED.includes(key)) throw invalid(`invalid filter '${key}'`);
  const until = [...filterValues(opts.filters, 'until'), ...filterValues(opts.filters, 'unused-for')];
  if (until.length > 1) throw invalid('more than one until filter specified');
  const before = until.length ? parseFilterTimestamp(until[0]!) : null;
  const ids = new Set(filterValues(opts.filters, 'id'));
  await index.forget((id) => store.get(id) !== undefined);

  const used = new Set(deps.containers.store.all().map((r) => r.Image));
  const stays = (id: string): boolean => store.refs.references(id).length > 0 || used.has(id) || deps.busy.has(id);
  let candidates = index.all().filter((id) => {
    const img = store.get(id);
    if (!img || stays(id)) return false;
    if (before !== null && img.createdNs > before) return false;
    if (ids.size && !ids.has(id) && !ids.has(id.replace(/^sha256:/, ''))) return false;
    return matchLabels(opts.filters, img.config.config?.Labels);
  });
  const doomed = new Set(candidates);
  if (!opts.all) {
    // The chain under anything that stays is still in use.
    const keep = new Set<string>();
    for (const img of store.all()) {
      if (doomed.has(img.id)) continue;
      for (let p = img.parent; p && !keep.has(p); p = store.get(p)?.parent ?? '') keep.add(p);
    }
    candidates = candidates.filter((id) => !keep.has(id));
  }
  const chosen = new Set(candidates);
  if (opts.all) {
    for (const img of store.all()) if (!chosen.has(img.id) && chosen.has(img.parent)) await store.setParent(img.id, '');
  }

  const sizes = await deps.layerSizes();
  const deleted: string[] = [];
  let reclaimed = 0;
  // Children before parents: an image with children cannot be removed.
  let progress = true;
  while (chosen.size > 0 && progress) {
    progress = false;
    for (const id of [...chosen]) {
      if (store.children(id).some((c) => chosen.has(c))) continue;
      chosen.delete(id);
      progress = true;
      try {
        for (const item of await images.remove(id, { noprune: true })) {
          if ('Deleted' in item) reclaimed += sizes.get(item.Deleted) ?? 0;
        }
        deleted.push(id.replace(/^sha256:/, ''));
      } catch {
        // Taken meanwhile (a container was created on it): it stays, as prune does.
      }
    }
  }
  await index.forget((id) => store.get(id) !== undefined);
  return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}
