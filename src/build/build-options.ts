import type { AuthConfig } from '../distribution/auth-config.js';

// What a build request asks for (moby's buildbackend.BuildOptions, the legacy builder's
// part of it). The API route fills it from the query string.

export interface BuildResources {
  Memory?: number;
  MemorySwap?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>;
}

export interface BuildOptions {
  tags: string[]; // `t`, repeated
  dockerfile: string; // path inside the context, '' = Dockerfile
  suppressOutput: boolean; // q
  noCache: boolean;
  remove: boolean; // rm: intermediate containers go after a successful step
  forceRemove: boolean; // forcerm: they go whatever happened
  pull: boolean; // always look for a newer base image
  buildArgs: Map<string, string | null>;
  labels: Record<string, string>;
  target: string;
  networkMode: string;
  squash: boolean;
  extraHosts: string[];
  shmSize: number;
  resources: BuildResources;
  platform: string;
  cacheFrom: string[];
  // X-Registry-Config: credentials by registry, for pulling base images.
  authConfigs: Record<string, AuthConfig>;
}

export function defaultBuildOptions(over: Partial<BuildOptions> = {}): BuildOptions {
  return {
    tags: [],
    dockerfile: '',
    suppressOutput: false,
    noCache: false,
    remove: true,
    forceRemove: false,
    pull: false,
    buildArgs: new Map(),
    labels: {},
    target: '',
    networkMode: '',
    squash: false,
    extraHosts: [],
    shmSize: 0,
    resources: {},
    platform: '',
    cacheFrom: [],
    authConfigs: {},
    ...over,
  };
}
