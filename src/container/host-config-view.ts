import type { HostConfig } from './types.js';
import { DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from '../runtime/oci-spec.js';

// Every field of moby's container.HostConfig, in its order, with the value dockerd shows
// when the client did not set it. Inspect shows them all (docker-py, compose and the
// Go SDK read e.g. HostConfig['Memory'] or ['Ulimits'] without a default); a record keeps
// only what was sent or computed at create.
const defaults: ReadonlyArray<[string, unknown]> = [
  ['Binds', null], ['ContainerIDFile', ''], ['LogConfig', null], ['NetworkMode', ''], ['PortBindings', null],
  ['RestartPolicy', null], ['AutoRemove', false], ['VolumeDriver', ''], ['VolumesFrom', null], ['ConsoleSize', [0, 0]],
  ['CapAdd', null], ['CapDrop', null],
  // berth never unshares the cgroup namespace: the host's, as dockerd on cgroup v1.
  ['CgroupnsMode', 'host'],
  ['Dns', null], ['DnsOptions', null], ['DnsSearch', null], ['ExtraHosts', null], ['GroupAdd', null], ['IpcMode', ''],
  ['Cgroup', ''], ['Links', null], ['OomScoreAdj', 0], ['PidMode', ''], ['Privileged', false], ['PublishAllPorts', false],
  ['ReadonlyRootfs', false], ['SecurityOpt', null], ['UTSMode', ''], ['UsernsMode', ''], ['ShmSize', 0],
  ['Isolation', ''], ['CpuShares', 0], ['Memory', 0], ['NanoCpus', 0], ['CgroupParent', ''], ['BlkioWeight', 0],
  ['BlkioWeightDevice', null], ['BlkioDeviceReadBps', null], ['BlkioDeviceWriteBps', null],
  ['BlkioDeviceReadIOps', null], ['BlkioDeviceWriteIOps', null], ['CpuPeriod', 0], ['CpuQuota', 0],
  ['CpuRealtimePeriod', 0], ['CpuRealtimeRuntime', 0], ['CpusetCpus', ''], ['CpusetMems', ''], ['Devices', null],
  ['DeviceCgroupRules', null], ['DeviceRequests', null], ['MemoryReservation', 0], ['MemorySwap', 0],
  ['MemorySwappiness', null], ['OomKillDisable', false], ['PidsLimit', null], ['Ulimits', null], ['CpuCount', 0],
  ['CpuPercent', 0], ['IOMaximumIOps', 0], ['IOMaximumBandwidth', 0],
];

// Fields moby leaves out when empty (omitempty); KernelMemory* since API 1.42.
const omitEmpty = new Set(['Annotations', 'StorageOpt', 'Tmpfs', 'Sysctls', 'Runtime', 'Mounts', 'Init', 'KernelMemory', 'KernelMemoryTCP']);

const isEmpty = (v: unknown): boolean =>
  v === null || v === undefined || v === '' || v === 0 || v === false ||
  (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

export function hostConfigView(hc: HostConfig): Record<string, unknown> {
  const src = hc as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, dflt] of defaults) out[key] = src[key] ?? dflt;
  // A policy sent as {"Name": "always"} still shows its count, as Go's struct always has it.
  if (hc.RestartPolicy) out.RestartPolicy = { Name: hc.RestartPolicy.Name ?? '', MaximumRetryCount: hc.RestartPolicy.MaximumRetryCount ?? 0 };
  // --mount entries as sent (docker-py sends "ReadOnly": false, "Source": null); every field
  // of moby's mount.Mount is omitempty.
  if (Array.isArray(src.Mounts) && src.Mounts.length > 0) {
    out.Mounts = (src.Mounts as Array<Record<string, unknown>>).map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => !isEmpty(v))));
  }
  // dockerd fills these in at create for an unprivileged container; berth applies the same
  // lists in the OCI spec (oci-spec.ts) and shows them here.
  out.MaskedPaths = src.MaskedPaths ?? (hc.Privileged ? null : [...DOCKER_MASKED_PATHS]);
  out.ReadonlyPaths = src.ReadonlyPaths ?? (hc.Privileged ? null : [...DOCKER_READONLY_PATHS]);
  for (const [key, v] of Object.entries(src)) {
    if (key in out) continue;
    // Init is a *bool: only nil is left out.
    if (omitEmpty.has(key) && (key === 'Init' ? v === null || v === undefined : isEmpty(v))) continue;
    out[key] = v;
  }
  return out;
}
