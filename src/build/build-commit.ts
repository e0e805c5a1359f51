import { dockerContainerConfig } from '../image/config-shape.js';
import { GO_OS, goArch } from '../image/platform.js';
import { nowRfc3339Nano } from '../image/time.js';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../image/types.js';

// The image a build step leaves (moby image.NewChildImage): the parent's layers plus this
// step's (none for a config-only step: its history entry is then empty_layer), the
// step's config, and, as ContainerConfig, what made it — the cache looks for that.
// History's created_by is that command joined by spaces: "/bin/sh -c #(nop)  CMD [\"sh\"]",
// "/bin/sh -c echo hi", "/bin/sh -c #(nop) COPY file:<sha256> in /dst ".

export interface ChildImageInput {
  parent: ImageConfig | null; // null: FROM scratch
  config: ContainerConfig; // the build's config after this step
  containerConfig: ContainerConfig; // the step's own config (its Cmd says what it did)
  diffId: string | null; // the step's layer; null when it changed no file
  author: string; // MAINTAINER
  containerId?: string; // the RUN container
  engineVersion?: string;
  created?: string;
}

export function childImageConfig(input: ChildImageInput): ImageConfig {
  const { parent } = input;
  const created = input.created ?? nowRfc3339Nano();
  const entry: HistoryEntry = { created };
  if (input.author) entry.author = input.author;
  const createdBy = (input.containerConfig.Cmd ?? []).join(' ');
  if (createdBy) entry.created_by = createdBy;
  if (input.diffId === null) entry.empty_layer = true;
  const image: ImageConfig = {
    architecture: parent?.architecture || goArch(),
    config: dockerContainerConfig(input.config),
    container_config: dockerContainerConfig(input.containerConfig),
    created,
    history: [...(parent?.history ?? []), entry],
    os: parent?.os || GO_OS,
    rootfs: { type: 'layers', diff_ids: [...(parent?.rootfs.diff_ids ?? []), ...(input.diffId ? [input.diffId] : [])] },
  };
  if (input.containerId) image.container = input.containerId;
  if (input.author) image.author = input.author;
  if (input.engineVersion) image.docker_version = input.engineVersion;
  if (parent?.variant) image.variant = parent.variant;
  if (parent?.['os.version']) image['os.version'] = parent['os.version'];
  if (parent?.['os.features']) image['os.features'] = parent['os.features'];
  return image;
}
