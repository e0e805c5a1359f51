import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mount } from '../storage/syscalls.js';

// Hybrid cgroup hosts (v1 hierarchies under /sys/fs/cgroup, cgroup2 at /sys/fs/cgroup/unified):
// a controller the kernel has but no v1 hierarchy was mounted for stays bound to cgroup2 and
// shows in unified/cgroup.controllers. crun refuses every container then ("cgroups in
// hybrid mode not supported, drop all controllers from cgroupv2"). Mounting the missing v1
// hierarchy moves the controller over, which is what systemd and Debian's cgroupfs-mount do.

export const HYBRID_UNIFIED = '/sys/fs/cgroup/unified';

export interface HierarchyPlan {
  mount: string[]; // controllers to give a v1 hierarchy of their own
  inUse: string[]; // on cgroup2 and enabled in its subtree_control: moving them is not safe
}

// procCgroups: /proc/cgroups; controllers / subtreeControl: the cgroup2 root's files.
// A controller is moved only when cgroup2 offers it (cgroup.controllers), no v1 hierarchy
// has it (hierarchy 0) and nothing on cgroup2 enabled it for children (subtree_control):
// the kernel would refuse the mount then (EBUSY), and cgroups using it would lose it.
export function planHybridHierarchies(procCgroups: string, controllers: string, subtreeControl: string): HierarchyPlan {
  const onV2 = new Set(controllers.split(/\s+/).filter(Boolean));
  const enabled = new Set(subtreeControl.split(/\s+/).filter(Boolean));
  const plan: HierarchyPlan = { mount: [], inUse: [] };
  for (const line of procCgroups.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, hierarchy, , on] = line.trim().split(/\s+/);
    if (!name || !/^[a-z_]+$/.test(name) || hierarchy !== '0' || on !== '1' || !onV2.has(name)) continue;
    (enabled.has(name) ? plan.inUse : plan.mount).push(name);
  }
  // Controllers cgroup2 lists that /proc/cgroups does not (e.g. misc on some kernels) cannot
  // get a v1 hierarchy: they keep crun out, and say so.
  const known = new Set(procCgroups.split('\n').map((l) => l.trim().split(/\s+/)[0]));
  for (const c of onV2) if (!known.has(c) && !plan.inUse.includes(c)) plan.inUse.push(c);
  return plan;
}

export interface HybridPrepResult {
  hybrid: boolean; // false: pure v1 or pure v2, nothing to do
  mounted: string[];
  failed: Array<{ controller: string; error: string }>;
  remaining: string[]; // what cgroup2 still offers afterwards; empty means crun can run
}

// Reads the host's state, mounts what planHybridHierarchies allows under /sys/fs/cgroup/<name>.
export async function prepareHybridCgroups(root = '/sys/fs/cgroup'): Promise<HybridPrepResult> {
  const unified = join(root, 'unified');
  const read = (p: string): Promise<string | null> => readFile(p, 'utf8').catch(() => null);
  const [procCgroups, controllers, subtree] = await Promise.all([
    read('/proc/cgroups'),
    read(join(unified, 'cgroup.controllers')),
    read(join(unified, 'cgroup.subtree_control')),
  ]);
  if (procCgroups === null || controllers === null) return { hybrid: false, mounted: [], failed: [], remaining: [] };
  const plan = planHybridHierarchies(procCgroups, controllers, subtree ?? '');
  const result: HybridPrepResult = { hybrid: true, mounted: [], failed: [], remaining: [] };
  for (const c of plan.mount) {
    const target = join(root, c);
    try {
      await mkdir(target, { recursive: true });
      mount('cgroup', target, 'cgroup', 0, c);
      result.mounted.push(c);
    } catch (err) {
      result.failed.push({ controller: c, error: (err as Error).message });
    }
  }
  result.remaining = ((await read(join(unified, 'cgroup.controllers'))) ?? '').split(/\s+/).filter(Boolean);
  return result;
}
