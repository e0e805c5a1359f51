// Volumes and the mount points that join them to containers, in Docker's shapes.

// GET /volumes/{name}: moby's api/types/volume.Volume for the local driver.
export interface Volume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

// Docker marks volumes it created without a name; prune removes only those by default.
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export type MountType = 'bind' | 'volume' | 'tmpfs';

// A container's mount point as kept in its record (moby's volume/mounts.MountPoint,
// reduced): what inspect shows, plus what start needs to build the OCI mount.
export interface MountPoint {
  Type: MountType;
  Name: string; // the volume's name; '' for binds and tmpfs
  Source: string; // host path: the bind source or the volume's _data
  Destination: string;
  Driver: string; // 'local' for volumes, '' otherwise
  Mode: string; // what the user wrote after the second colon of -v ('ro', 'z', ...)
  RW: boolean;
  Propagation: string; // 'rprivate' for binds, '' for volumes
  // berth's own bookkeeping, not shown by inspect
  CreateSource?: boolean; // -v /host/path: a missing host directory is made at start, as Docker does
  NonRecursive?: boolean; // --mount bind-nonrecursive
  TmpfsOptions?: string; // --mount type=tmpfs: size=…,mode=… as Docker's ConvertTmpfsOptions writes them
}

// A volume's own mount, when its options ask for one (local driver -o type=,device=,o=).
export interface DeviceMount {
  type: string;
  device: string;
  options: string[];
}

// HostConfig.Mounts entries (moby's api/types/mount.Mount) as clients send them.
export interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean } | null;
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string> | null;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null;
  } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
  ImageOptions?: unknown;
  ClusterOptions?: unknown;
}
