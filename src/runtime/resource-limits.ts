import type { OciDevice } from './oci-spec.js';
import { BerthError, errorKind, errorMessage } from '../util/errors.js';
import { checkUlimits, containerDevices, deviceNumbers, readCgroupSupport, readHostLimits, type HostLimits } from './host-resources.js';
import {
  blkioPaths,
  createDefaults,
  mergeUpdate,
  ociResources,
  ociUpdate,
  resourceConfig,
  verifyResources,
  type CgroupSupport,
  type OciLinuxResources,
  type ResourceConfig,
  type Ulimit,
} from './resources.js';

export interface SpecLimits {
  resources: OciLinuxResources;
  devices: OciDevice[];
  ulimits: Ulimit[];
}

// The container service's one door to resource limits: checks at create and update
// against what this host can do (read once), and the spec parts at each start.
export class ResourceLimits {
  private sys: Promise<CgroupSupport> | null = null;
  private limits: Promise<HostLimits> | null = null;

  constructor(private readonly probe: { cgroups: () => Promise<CgroupSupport>; limits: () => Promise<HostLimits> } = { cgroups: () => readCgroupSupport(), limits: () => readHostLimits() }) {}

  support(): Promise<CgroupSupport> {
    this.sys ??= this.probe.cgroups().catch((err: unknown) => {
      this.sys = null;
      throw err;
    });
    return this.sys;
  }

  private hostLimits(): Promise<HostLimits> {
    this.limits ??= this.probe.limits().catch((err: unknown) => {
      this.limits = null;
      throw err;
    });
    return this.limits;
  }

  // The HostConfig's limits as they will be kept (defaults filled in), and the warnings.
  async checkCreate(hostConfig: object): Promise<{ resources: ResourceConfig; warnings: string[] }> {
    const asked = resourceConfig(hostConfig);
    const { resources, warnings } = verifyResources(asked, await this.support(), false);
    checkUlimits(resources.Ulimits, await this.hostLimits());
    return { resources: createDefaults(resources), warnings };
  }

  async specFor(hostConfig: object): Promise<SpecLimits> {
    const r = resourceConfig(hostConfig);
    const [devs, extra] = await Promise.all([deviceNumbers(blkioPaths(r)), containerDevices(r)]);
    const resources = ociResources(r, devs);
    if (extra.rules.length > 0) resources.devices = extra.rules;
    return { resources, devices: extra.nodes, ulimits: r.Ulimits ?? [] };
  }

  // moby's ContainerUpdate: verify the update alone, merge it over what the container has,
  // and the OCI resources `runc update` is given (only what the update names).
  // Merge conflicts name the container, as moby's errCannotUpdate does.
  async checkUpdate(id: string, current: object, update: ResourceConfig): Promise<{ merged: ResourceConfig; oci: OciLinuxResources; warnings: string[] }> {
    const { resources, warnings } = verifyResources(update, await this.support(), true);
    let merged: ResourceConfig;
    try {
      merged = mergeUpdate(resourceConfig(current), resources);
    } catch (err) {
      throw new BerthError(errorKind(err), `Cannot update container ${id}: ${errorMessage(err)}`);
    }
    const oci = ociUpdate(resources, await deviceNumbers(blkioPaths(resources)));
    return { merged, oci, warnings };
  }
}
