import type { ContainerNetworkState } from '../network/types.js';
import type { StoredMountPoint } from '../volume/container-mounts.js';
import type { HealthConfig } from '../image/types.js';

// A container as berth keeps it on disk (containers/<id>/config.v2.json) — the same
// fields Docker's inspect shows, so inspect is a projection, not a translation.

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Healthcheck?: HealthConfig; // image's HEALTHCHECK merged with the user's (health-config.ts)
  Image: string;
  Volumes: Record<string, Record<string, never>> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: string[] | null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
}

export interface HostConfig {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  ShmSize: number;
  Runtime: string;
  [key: string]: unknown; // resource limits and the rest are kept as sent
}

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  // Present once a container with a healthcheck has been started (src/container/health-monitor.ts).
  Health?: ContainerHealth;
}

// Docker's State.Health: the probe results of the last run, oldest first.
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthcheckResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface ContainerHealth {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthcheckResult[];
}

export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string; // image id, sha256:…
  Name: string; // with the leading slash, as Docker keeps it
  RestartCount: number;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  // Networks joined and ports published (src/network); absent on records from before networking.
  NetworkSettings?: ContainerNetworkState;
  // berth's own bookkeeping
  ImageChainId: string | null; // the layer chain the rw layer sits on
  ConmonPid?: number;
  // docker stop/kill/rm since the last start by the user (moby keeps it in config.v2.json too):
  // `unless-stopped` then stays down, also across a daemon restart.
  HasBeenManuallyStopped?: boolean;
  // Volumes, binds and tmpfs mounts resolved at create (Docker's MountPoints).
  MountPoints?: StoredMountPoint[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';
