import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciLinuxResources } from './resources.js';
import { hostCgroupLayout } from './cgroup-paths.js';

// Where crun (Debian's 1.8.1) does not do what runc does, and berthd makes up for it.

// An update that lifts the pids limit (`update --pids-limit -1`, limit -1) is written by
// crun before 1.13 as "-1", which cgroup v1's pids.max refuses (EINVAL); runc writes "max".
// The limit is taken out of what crun is given and written here instead.
export function liftedPidsLimit(resources: OciLinuxResources): { rest: OciLinuxResources; lift: boolean } {
  if (resources.pids === undefined || resources.pids.limit > 0) return { rest: resources, lift: false };
  const rest = { ...resources };
  delete rest.pids;
  return { rest, lift: true };
}

export function isEmptyUpdate(resources: OciLinuxResources): boolean {
  return Object.keys(resources).length === 0;
}

// pids.max of the container whose bundle is given, in the v1 pids hierarchy. On cgroup v2
// crun writes "max" itself, and this answers false so the caller leaves the limit to crun.
export async function writePidsMax(bundleDir: string): Promise<boolean> {
  const layout = await hostCgroupLayout();
  if (layout.version !== 1 || !layout.mounts.pids) return false;
  const spec = JSON.parse(await readFile(join(bundleDir, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
  const path = spec.linux?.cgroupsPath;
  if (!path || !path.startsWith('/') || path.split('/').includes('..')) return false;
  await writeFile(join(layout.mounts.pids, path, 'pids.max'), 'max');
  return true;
}
