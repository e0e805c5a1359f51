import type { ApiContext, Route } from '../router.js';
import { compareVersions } from '../server.js';
import { Reply, boolParam, filtersParam } from '../router.js';
import type { VolumeService } from '../../volume/volume-service.js';
import { diskUsage, type DfKind, type DfSources } from '../../volume/disk-usage-report.js';
import { invalid } from '../../util/errors.js';

// moby's api/server/router/volume, plus GET /system/df, which is where volumes are counted.

export interface VolumeRouteDeps {
  volumes: VolumeService;
  df: DfSources;
}

interface CreateBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

// Pruning only anonymous volumes came with API 1.42; older clients (docker-py pinned to an
// older version, compose 1.29) still mean every unused volume, as moby keeps it for them.
function pruneFilters(c: ApiContext): Record<string, string[]> {
  const filters = filtersParam(c.query);
  if (compareVersions(c.apiVersion, '1.42') < 0 && !filters.all) filters.all = ['true'];
  return filters;
}

const DF_KINDS = new Set<DfKind>(['image', 'container', 'volume', 'build-cache']);

export function volumeRoutes(d: VolumeRouteDeps): Route[] {
  const svc = d.volumes;
  return [
    { method: 'GET', path: '/volumes', handler: async (c) => ({ Volumes: svc.list(filtersParam(c.query)), Warnings: [] }) },
    {
      method: 'POST',
      path: '/volumes/create',
      handler: async (c) => {
        const body = await c.json<CreateBody>();
        const v = await svc.create(body.Name ?? '', { driver: body.Driver || undefined, labels: body.Labels ?? null, options: body.DriverOpts ?? null });
        return new Reply(201, v);
      },
    },
    { method: 'POST', path: '/volumes/prune', handler: async (c) => svc.prune(pruneFilters(c)) },
    { method: 'GET', path: '/volumes/{name}', handler: async (c) => svc.get(c.params.name!) },
    {
      method: 'DELETE',
      path: '/volumes/{name}',
      handler: async (c) => {
        await svc.remove(c.params.name!, { force: boolParam(c.query, 'force') });
        return new Reply(204);
      },
    },
    {
      method: 'GET',
      path: '/system/df',
      handler: async (c) => {
        const kinds = new Set<DfKind>();
        for (const t of c.query.getAll('type')) {
          if (!DF_KINDS.has(t as DfKind)) throw invalid(`unknown object type: ${t}`);
          kinds.add(t as DfKind);
        }
        return diskUsage(d.df, kinds, c.apiVersion);
      },
    },
  ];
}
