import { join } from 'node:path';
import type { GraphDriverData } from '../storage/types.js';
import type { ContainerRecord } from './types.js';
import { inspectMounts } from '../volume/mount-view.js';
import { inspectNetworkSettings } from '../network/settings-view.js';
import { hostConfigView } from './host-config-view.js';
import { sortedMap } from '../util/sorted-map.js';

// GET /containers/{id}/json: Docker's shape, built from the record on disk.
export function inspectContainer(
  rec: ContainerRecord,
  ctx: { dir: string; logPath: string; graphDriver: GraphDriverData; sizeRw?: number; sizeRootFs?: number; execIds?: string[] },
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: { ...rec.State },
    Image: rec.Image,
    ResolvConfPath: join(ctx.dir, 'resolv.conf'),
    HostnamePath: join(ctx.dir, 'hostname'),
    HostsPath: join(ctx.dir, 'hosts'),
    LogPath: ctx.logPath,
    Name: rec.Name,
    RestartCount: rec.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: ctx.execIds?.length ? [...ctx.execIds] : null,
    HostConfig: hostConfigView(rec.HostConfig),
    GraphDriver: { Data: ctx.graphDriver, Name: 'overlay2' },
    Mounts: inspectMounts(rec.MountPoints),
    Config: { ...rec.Config, Labels: sortedMap(rec.Config.Labels) ?? {} },
    NetworkSettings: inspectNetworkSettings(rec),
  };
  if (ctx.sizeRw !== undefined) out.SizeRw = ctx.sizeRw;
  if (ctx.sizeRootFs !== undefined) out.SizeRootFs = ctx.sizeRootFs;
  return out;
}
