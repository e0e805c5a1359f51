import type { Readable } from 'node:stream';
import { applyChanges } from '../image/changes.js';
import { dockerContainerConfig } from '../image/config-shape.js';
import { GO_OS, goArch } from '../image/platform.js';
import { familiarString, parseNormalizedNamed, refString, tagNameOnly, withTag, type NamedRef } from '../image/reference.js';
import { nowRfc3339Nano } from '../image/time.js';
import type { ContainerConfig as ImageContainerConfig, HistoryEntry, ImageConfig } from '../image/types.js';
import type { LayerInfo } from '../storage/types.js';
import { conflict, invalid, notFound } from '../util/errors.js';
import type { ContainerRecord } from './types.js';

// `docker commit` (moby daemon/commit.go, images/image_commit.go): the container's rw layer,
// taken while it is paused, becomes a new layer on its image's layers; the image config is
// the container's config with the request's overrides and Dockerfile-style changes.
// Only the upper dir is read: the init layer (hosts, hostname, resolv.conf placeholders)
// is a layer of its own, and those files are bind mounts at run time, so the container's
// versions of them never get in.

// The sha256 of an empty tar (1024 zero bytes): such a layer is left out of the image and
// its history entry is marked empty_layer, as moby's layer.IsEmpty.
export const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitContainers {
  withLock<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T>;
  emitEvent(rec: ContainerRecord, action: string, extra?: Record<string, string>): void;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  store: { resolve(ref: string): ContainerRecord };
}

export interface CommitImages {
  store: { get(id: string): { config: ImageConfig } | undefined };
  createImage(config: ImageConfig, opts: { parent?: string; tags?: string[] }): Promise<string>;
  withLayerLease<T>(fn: () => Promise<T>): Promise<T>;
}

export interface CommitLayers {
  rwDiffTar(id: string): Promise<Readable>;
  register(tar: Readable, parentChainId: string | null): Promise<LayerInfo>;
}

export interface CommitDeps {
  containers: CommitContainers;
  images: CommitImages;
  layers: CommitLayers;
}

export interface CommitRequest {
  container: string;
  repo: string;
  tag: string;
  comment: string;
  author: string;
  pause: boolean;
  changes: string[];
  config: ImageContainerConfig | null; // the request body, null when absent
}

// httputils.RepoTagReference: no repo, no tag; a repo without tag gets "latest".
export function repoTagReference(repo: string, tag: string): NamedRef | null {
  if (repo === '') return null;
  const ref = parseNormalizedNamed(repo);
  if (ref.digest !== undefined) throw invalid('cannot import digest reference');
  return tag !== '' ? withTag(ref, tag) : tagNameOnly(ref);
}

// moby's merge: what the new config leaves empty is taken from the container's config.
export function mergeCommitConfig(user: ImageContainerConfig, container: ImageContainerConfig): ImageContainerConfig {
  const out: ImageContainerConfig = JSON.parse(JSON.stringify(user)) as ImageContainerConfig;
  if (!out.User) out.User = container.User;
  if (!out.ExposedPorts || Object.keys(out.ExposedPorts).length === 0) out.ExposedPorts = container.ExposedPorts;
  else for (const port of Object.keys(container.ExposedPorts ?? {})) out.ExposedPorts[port] ??= {};
  if (!out.Env || out.Env.length === 0) out.Env = container.Env;
  else {
    const keys = new Set(out.Env.map((e) => e.split('=', 1)[0]));
    for (const e of container.Env ?? []) if (!keys.has(e.split('=', 1)[0])) out.Env.push(e);
  }
  out.Labels = { ...(container.Labels ?? {}), ...(out.Labels ?? {}) };
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) out.Cmd = container.Cmd;
    if (!out.Entrypoint) out.Entrypoint = container.Entrypoint;
  }
  const hc = container.Healthcheck;
  if (hc) {
    if (!out.Healthcheck) out.Healthcheck = hc;
    else {
      const u = out.Healthcheck;
      if ((!u.Test || u.Test.length === 0) && hc.Test) u.Test = hc.Test;
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'Retries'] as const) if (!u[k] && hc[k] !== undefined) u[k] = hc[k];
    }
  }
  if (!out.WorkingDir) out.WorkingDir = container.WorkingDir;
  if (!out.Volumes || Object.keys(out.Volumes).length === 0) out.Volumes = container.Volumes;
  else Object.assign(out.Volumes, container.Volumes ?? {});
  if (!out.StopSignal) out.StopSignal = container.StopSignal;
  return out;
}

// The new image's config, stacked on its parent's (moby image.NewChildImage).
export function childImageConfig(
  parent: ImageConfig | null,
  rec: ContainerRecord,
  config: ImageContainerConfig,
  layer: LayerInfo,
  req: { author: string; comment: string },
  created = nowRfc3339Nano(),
): ImageConfig {
  const empty = layer.diffId === EMPTY_TAR_DIFF_ID;
  const entry: HistoryEntry = { created };
  if (req.author) entry.author = req.author;
  const createdBy = (rec.Config.Cmd ?? []).join(' ');
  if (createdBy) entry.created_by = createdBy;
  if (req.comment) entry.comment = req.comment;
  if (empty) entry.empty_layer = true;
  const diffIds = [...(parent?.rootfs.diff_ids ?? [])];
  if (!empty) diffIds.push(layer.diffId);
  const image: ImageConfig = {
    architecture: parent?.architecture || goArch(),
    config: dockerContainerConfig(config),
    container: rec.Id,
    container_config: dockerContainerConfig(rec.Config),
    created,
    history: [...(parent?.history ?? []), entry],
    os: parent?.os || GO_OS,
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  if (req.author) image.author = req.author;
  if (parent?.variant) image.variant = parent.variant;
  if (parent?.['os.version']) image['os.version'] = parent['os.version'];
  if (parent?.['os.features']) image['os.features'] = parent['os.features'];
  return image;
}

// POST /commit. Returns the new image's ID.
export async function commitContainer(deps: CommitDeps, req: CommitRequest): Promise<string> {
  const { containers, images, layers } = deps;
  const rec = containers.store.resolve(req.container);
  if (rec.State.Dead) throw conflict(`You cannot commit container ${rec.Id} which is Dead`);
  if (rec.State.Status === 'removing') throw conflict(`You cannot commit container ${rec.Id} which is being removed`);
  const ref = repoTagReference(req.repo, req.tag);
  const config = mergeCommitConfig(applyChanges(req.config ?? rec.Config, req.changes), rec.Config);

  // As moby, a pause that fails (the container just stopped) does not stop the commit.
  const paused = req.pause && rec.State.Running && !rec.State.Paused && (await containers.pause(rec.Id).then(() => true, () => false));
  let id: string;
  try {
    id = await images.withLayerLease(() =>
      containers.withLock(rec.Id, async (locked) => {
        const parent = locked.Image ? images.store.get(locked.Image) : undefined;
        if (locked.Image && !parent) throw notFound(`No such image: ${locked.Image}`);
        const layer = await layers.register(await layers.rwDiffTar(locked.Id), locked.ImageChainId);
        const image = childImageConfig(parent?.config ?? null, locked, config, layer, req);
        return images.createImage(image, { parent: locked.Image || undefined, tags: ref ? [refString(ref)] : [] });
      }),
    );
  } finally {
    if (paused) await containers.unpause(rec.Id).catch(() => {});
  }
  containers.emitEvent(rec, 'commit', { comment: req.comment, imageID: id, imageRef: ref ? familiarString(ref) : '' });
  return id;
}
