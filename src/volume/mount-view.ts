import type { MountPoint } from './types.js';

// Inspect's Mounts: moby's types.MountPoint, Name and Driver left out when empty.
export function inspectMounts(points: readonly MountPoint[] | undefined): Array<Record<string, unknown>> {
  return (points ?? []).map((mp) => ({
    Type: mp.Type,
    ...(mp.Name ? { Name: mp.Name } : {}),
    Source: mp.Source,
    Destination: mp.Destination,
    ...(mp.Driver ? { Driver: mp.Driver } : {}),
    Mode: mp.Mode,
    RW: mp.RW,
    Propagation: mp.Propagation,
  }));
}
