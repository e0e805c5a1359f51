import { join } from 'node:path';
import type { GraphDriverData } from '../storage/types.js';
import type { ContainerRecord } from './types.js';

// GET /containers/{id}/json: Docker's shape, built from the record on disk.
export function inspectContainer(
  rec: ContainerRecord,
  ctx: { dir: string; logPath: string; graphDriver: GraphDriverData; sizeRw?: number; sizeRootFs?: number },
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
    ExecIDs: null,
    HostConfig: rec.HostConfig,
    GraphDriver: { Data: ctx.graphDriver, Name: 'overlay2' },
    Mounts: [],
    Config: rec.Config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      SandboxKey: '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: {},
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: '',
      Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: {},
    },
  };
  if (ctx.sizeRw !== undefined) out.SizeRw = ctx.sizeRw;
  if (ctx.sizeRootFs !== undefined) out.SizeRootFs = ctx.sizeRootFs;
  return out;
}
