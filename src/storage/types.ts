import type { Readable } from 'node:stream';

// The border between the image side (src/image) and the layer store (src/storage).
// Mechanism only: the store extracts, stacks and mounts; callers decide when.

export interface LayerInfo {
  chainId: string; // "sha256:<hex>", as in the OCI image spec
  diffId: string; // sha256 of the uncompressed layer tar
  parent: string | null; // parent chainId
  cacheId: string; // directory name under <dataRoot>/overlay2
  size: number; // bytes of this layer's own diff
}

// Docker's GraphDriver.Data for overlay2, as inspect shows it.
export interface GraphDriverData {
  LowerDir?: string;
  UpperDir?: string;
  MergedDir?: string;
  WorkDir?: string;
}

export interface LayerStore {
  // Apply a layer tar (plain or gzip) on top of parent. Idempotent: registering a layer
  // whose chainId exists returns the existing one without extracting again.
  register(tar: Readable, parentChainId: string | null): Promise<LayerInfo>;
  get(chainId: string): Promise<LayerInfo | null>;
  list(): Promise<LayerInfo[]>;
  // Delete every read-only layer that is neither in keep nor an ancestor of one in keep.
  removeUnreferenced(keep: Set<string>): Promise<string[]>;
  graphDriver(chainId: string): Promise<GraphDriverData>;

  // A container's layers: <id>-init (hosts/hostname/resolv.conf placeholders, /dev, /proc…)
  // and <id> (the writable upper layer), stacked on parentChainId (null = scratch image).
  createRw(id: string, parentChainId: string | null): Promise<void>;
  mountRw(id: string): Promise<string>; // returns the merged dir; mounting twice is a no-op
  unmountRw(id: string): Promise<void>; // no-op if not mounted
  removeRw(id: string): Promise<void>; // unmounts first
  rwGraphDriver(id: string): Promise<GraphDriverData>;
  rwSize(id: string): Promise<number>; // bytes in the writable layer (ps -s)
}
