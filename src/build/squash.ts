import { lstat, readdir, rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { packTree } from '../image/tree-tar.js';
import type { StoredImage } from '../image/image-store.js';
import { nowRfc3339Nano } from '../image/time.js';
import type { ImageConfig } from '../image/types.js';
import { isOpaque, isWhiteout } from '../storage/layer-lookup.js';
import { resolveInRoot } from '../storage/path-safety.js';
import { applyLayerTar } from '../storage/tar-apply.js';
import { ScratchLayer, type BuildLayerStore } from './build-layer.js';

// --squash (moby ImageService.SquashImage): the built image's layers above its base image
// become one. The layers are replayed in a writable layer on the base: a layer's whiteouts
// and opaque directories delete what is below, then its files are copied in; overlayfs
// records the net result in the upper dir, which is the squashed layer. The history keeps
// every entry (marked empty) and adds "merge <id> to <base>".

export interface SquashDeps {
  layers: BuildLayerStore & { layerDiffDirs(chainId: string): Promise<string[]> };
  tmpDir: string;
  createImage(config: ImageConfig): Promise<string>;
}

export async function squashImage(deps: SquashDeps, img: StoredImage, base: StoredImage | null): Promise<string> {
  const baseDiffs = base?.config.rootfs.diff_ids ?? [];
  const diffs = img.config.rootfs.diff_ids ?? [];
  const above = diffs.length - baseDiffs.length;
  const dirs = img.topChainId && above > 0 ? (await deps.layers.layerDiffDirs(img.topChainId)).slice(0, above).reverse() : [];
  const layer = await ScratchLayer.open(deps.layers, deps.tmpDir, base?.topChainId ?? null);
  try {
    for (const dir of dirs) await replayLayer(dir, layer.rootfs);
    const info = await layer.commit(true);
    const now = nowRfc3339Nano();
    const baseHistory = base?.config.history?.length ?? 0;
    const config: ImageConfig = {
      ...img.config,
      created: now,
      rootfs: { type: 'layers', diff_ids: [...baseDiffs, info!.diffId] },
      history: [
        ...(img.config.history ?? []).map((h, i) => (i >= baseHistory ? { ...h, empty_layer: true } : h)),
        { created: now, comment: base ? `merge ${img.id} to ${base.id}` : `create new from ${img.id}` },
      ],
    };
    return await deps.createImage(config);
  } finally {
    await layer.release().catch(() => {});
  }
}

async function replayLayer(diff: string, rootfs: string): Promise<void> {
  const whiteouts = new Set<string>();
  const opaque: string[] = [];
  await scan(diff, '', whiteouts, opaque);
  for (const rel of opaque) {
    const dir = await resolveInRoot(rootfs, rel);
    for (const name of await readdir(dir).catch(() => [] as string[])) await rm(`${dir}/${name}`, { recursive: true, force: true });
  }
  for (const rel of whiteouts) {
    const parent = await resolveInRoot(rootfs, posix.dirname(rel));
    await rm(`${parent}/${posix.basename(rel)}`, { recursive: true, force: true });
  }
  await applyLayerTar(packTree(diff, { exclude: (rel) => whiteouts.has(rel) }), rootfs, { whiteouts: false });
}

async function scan(root: string, rel: string, whiteouts: Set<string>, opaque: string[]): Promise<void> {
  for (const name of await readdir(rel ? `${root}/${rel}` : root)) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(`${root}/${r}`);
    if (isWhiteout(st)) whiteouts.add(r);
    else if (st.isDirectory()) {
      if (isOpaque(`${root}/${r}`)) opaque.push(r);
      await scan(root, r, whiteouts, opaque);
    }
  }
}
