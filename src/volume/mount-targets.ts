import { resolveInRoot } from '../storage/path-safety.js';
import type { SpecMount } from '../runtime/types.js';

// A mount's destination that runs through a symlink of the image is resolved here, inside
// the rootfs, as runc does with securejoin: `/escape -> /tmp/x` mounts at <rootfs>/tmp/x,
// never at the host's /tmp/x. crun refuses such a path when the link's target does not
// exist yet (openat2 with RESOLVE_IN_ROOT does not create it), so berth hands every
// runtime the resolved, symlink-free path and both behave as Docker does.
// A destination under an earlier mount is left to the runtime: the earlier mount may
// replace the directories it would be resolved through.
export async function resolveMountTargets(rootfs: string, mounts: readonly SpecMount[]): Promise<SpecMount[]> {
  const out: SpecMount[] = [];
  const earlier: string[] = []; // destinations as asked and as resolved
  for (const m of mounts) {
    const dest = normalise(m.destination);
    const under = earlier.some((prev) => dest === prev || dest.startsWith(`${prev}/`));
    earlier.push(dest);
    if (under) {
      out.push(m);
      continue;
    }
    const resolved = await resolveInRoot(rootfs, m.destination);
    const inContainer = `/${resolved.slice(rootfs.length).replace(/^\/+/, '')}`;
    earlier.push(inContainer);
    out.push(inContainer === dest ? m : { ...m, destination: inContainer });
  }
  return out;
}

function normalise(p: string): string {
  return `/${p.split('/').filter((s) => s !== '' && s !== '.').join('/')}`;
}
