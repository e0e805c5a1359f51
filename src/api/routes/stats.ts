import type { Route, ApiContext } from '../router.js';
import { Handled, boolParam } from '../router.js';
import { startStream } from '../streams.js';
import type { ContainerService } from '../../container/container-service.js';
import { containerCgroupsPath } from '../../runtime/cgroup-paths.js';
import { StatsSampler, statsFrames, type StatsTarget } from '../../runtime/container-stats.js';
import { invalid } from '../../util/errors.js';

export interface StatsRouteDeps {
  containers: ContainerService;
  cgroupParent: string;
}

export function statsRoutes(d: StatsRouteDeps): Route[] {
  const sampler = new StatsSampler();
  return [{ method: 'GET', path: '/containers/{id}/stats', handler: (c) => stats(d, sampler, c) }];
}

async function stats(d: StatsRouteDeps, sampler: StatsSampler, c: ApiContext): Promise<unknown> {
  const { Id: id } = d.containers.store.resolve(c.params.id!);
  const stream = boolParam(c.query, 'stream', true);
  const oneShot = boolParam(c.query, 'one-shot', false);
  if (stream && oneShot) throw invalid('cannot have stream=true and one-shot=true');
  // Looked up at every sample: the container may stop, restart or be removed meanwhile.
  const current = (): StatsTarget | null => {
    const rec = d.containers.store.get(id);
    if (!rec) return null;
    return {
      id,
      name: rec.Name,
      running: rec.State.Running && !rec.State.Restarting,
      pid: rec.State.Pid,
      cgroupsPath: containerCgroupsPath(d.cgroupParent, id, rec.HostConfig.CgroupParent),
      hostNetwork: rec.HostConfig.NetworkMode === 'host',
    };
  };
  const res = startStream(c.res!, 'application/json');
  const ac = new AbortController();
  const onClose = (): void => ac.abort();
  res.on('close', onClose);
  try {
    for await (const f of statsFrames(current, sampler, { stream, oneShot, signal: ac.signal })) {
      if (res.destroyed) break;
      res.write(JSON.stringify(f) + '\n');
    }
  } finally {
    res.off('close', onClose);
  }
  if (!res.destroyed) res.end();
  return Handled;
}
