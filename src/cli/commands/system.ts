import { EngineError } from '../../client/engine-client.js';
import type { ContainerSummary, ImageSummary, PruneReport } from '../../client/types.js';
import { noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { renderList } from '../formatter.js';
import { confirm } from '../prompt.js';
import { humanDuration, humanSize, humanSizeWithPrecision } from '../../util/units.js';
import { addFilter, formatFlag, type FilterMap } from '../opts/filters.js';
import { CONTAINER_HEADERS, containerRow } from '../container-rows.js';
import { IMAGE_HEADERS, imageRows } from '../image-rows.js';
import { naturalLess } from './port.js';

// `system df` and `system prune`, laid out as docker's DiskUsageContext and
// system prune print them.

interface VolumeUsage {
  Name: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

interface BuildCacheRecord {
  ID?: string;
  Type?: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt?: string;
  LastUsedAt?: string | null;
  UsageCount?: number;
}

// docker's buildCacheContext fields, for the verbose df table.
function buildCacheRow(b: BuildCacheRecord, now: number): Record<string, string> {
  const since = (t: string): string => `${humanDuration(now - Date.parse(t))} ago`;
  const id = (b.ID ?? '').replace(/^sha256:/, '').slice(0, 12);
  return {
    ID: b.InUse ? `${id}*` : id,
    CacheType: b.Type ?? '',
    Size: humanSizeWithPrecision(b.Size, 3),
    CreatedSince: b.CreatedAt ? since(b.CreatedAt) : '',
    LastUsedSince: b.LastUsedAt ? since(b.LastUsedAt) : '',
    UsageCount: String(b.UsageCount ?? 0),
    Shared: String(b.Shared),
  };
}

interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeUsage[] | null;
  BuildCache?: BuildCacheRecord[] | null;
}

const DF_HEADERS = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' };
// The docker CLI's type behind each row of diskUsageRows, as its template errors name it.
const DF_GO_TYPES = ['*formatter.diskUsageImagesContext', '*formatter.diskUsageContainersContext', '*formatter.diskUsageVolumesContext', '*formatter.diskUsageBuilderContext'];

const withPercent = (reclaimable: number, total: number): string =>
  total > 0 ? `${humanSize(reclaimable)} (${Math.trunc((reclaimable * 100) / total)}%)` : humanSize(reclaimable);

const activeState = (state: string): boolean => state === 'running' || state === 'paused' || state === 'restarting';

export function diskUsageRows(du: DiskUsage): Array<Record<string, string>> {
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const layers = du.LayersSize ?? 0;
  let imgUsed = 0;
  for (const i of images) if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) imgUsed += i.Size - i.SharedSize;
  let ctrSize = 0;
  let ctrReclaim = 0;
  for (const c of containers) {
    ctrSize += c.SizeRw ?? 0;
    if (!activeState(c.State)) ctrReclaim += c.SizeRw ?? 0;
  }
  let volSize = 0;
  let volReclaim = 0;
  for (const v of volumes) {
    const u = v.UsageData;
    if (!u || u.Size === -1) continue;
    volSize += u.Size;
    if (u.RefCount === 0) volReclaim += u.Size;
  }
  let cacheSize = 0;
  let cacheInUse = 0;
  for (const b of cache) {
    if (!b.Shared) cacheSize += b.Size;
    if (b.InUse && !b.Shared) cacheInUse += b.Size;
  }
  return [
    {
      Active: String(images.filter((i) => i.Containers > 0).length),
      Reclaimable: withPercent(layers - imgUsed, layers),
      Size: humanSize(layers),
      TotalCount: String(images.length),
      Type: 'Images',
    },
    {
      Active: String(containers.filter((c) => activeState(c.State)).length),
      Reclaimable: withPercent(ctrReclaim, ctrSize),
      Size: humanSize(ctrSize),
      TotalCount: String(containers.length),
      Type: 'Containers',
    },
    {
      Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length),
      Reclaimable: withPercent(volReclaim, volSize),
      Size: humanSize(volSize),
      TotalCount: String(volumes.length),
      Type: 'Local Volumes',
    },
    {
      Active: String(cache.filter((b) => b.InUse).length),
      Reclaimable: humanSize(cacheSize - cacheInUse),
      Size: humanSize(cacheSize),
      TotalCount: String(cache.length),
      Type: 'Build Cache',
    },
  ];
}

export const dfCommand: CommandSpec = {
  name: 'df',
  use: 'df [OPTIONS]',
  short: 'Show docker disk usage',
  flags: [{ name: 'verbose', short: 'v', kind: 'bool', usage: 'Show detailed information on space usage' }, formatFlag()],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const du = (await ctx.client().systemDf()) as DiskUsage;
    const format = flags.string('format') || 'table';
    if (!flags.bool('verbose')) {
      const f = format === 'table' ? 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}' : format;
      ctx.out(renderList({ format: f, header: DF_HEADERS, rows: diskUsageRows(du), goType: DF_GO_TYPES }));
      return;
    }
    const now = Date.now();
    ctx.out('Images space usage:\n\n');
    ctx.out(
      renderList({
        format: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
        header: IMAGE_HEADERS,
        // docker shows each image once, by its first tag (or <none>), never by digest.
        rows: imageRows((du.Images ?? []).map((i) => ({ ...i, RepoTags: (i.RepoTags ?? []).slice(0, 1), RepoDigests: [] })), { trunc: true, digest: false, needDigest: false }, now),
      }),
    );
    ctx.out('\nContainers space usage:\n\n');
    ctx.out(
      renderList({
        format: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
        header: CONTAINER_HEADERS,
        rows: (du.Containers ?? []).map((c) => ({ ...containerRow(c, true, now), Size: humanSize(c.SizeRw ?? 0) })),
      }),
    );
    ctx.out('\nLocal Volumes space usage:\n\n');
    ctx.out(
      renderList({
        format: 'table {{.Name}}\t{{.Links}}\t{{.Size}}',
        header: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' },
        rows: (du.Volumes ?? []).map((v) => ({
          Name: v.Name,
          Links: String(v.UsageData?.RefCount ?? 0),
          Size: v.UsageData && v.UsageData.Size !== -1 ? humanSize(v.UsageData.Size) : 'N/A',
        })),
      }),
    );
    ctx.out('\nBuild cache usage: ' + humanSize((du.BuildCache ?? []).reduce((n, b) => n + (b.Shared ? 0 : b.Size), 0)) + '\n\n');
    // docker prints this table's header even when there is no build cache.
    ctx.out(
      renderList({
        format: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
        header: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
        rows: (du.BuildCache ?? []).map((b) => buildCacheRow(b, now)),
      }),
    );
  },
};

function listOutput(title: string, items: string[]): string {
  return items.length > 0 ? `${title}\n${items.map((i) => `${i}\n`).join('')}` : '';
}

// Prunes a kind the daemon may not implement (no builder, no networks yet): a 404
// counts as nothing to prune.
async function tolerant(p: Promise<PruneReport>): Promise<PruneReport> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof EngineError && err.isNotFound) return {};
    throw err;
  }
}

export const systemPruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove unused data',
  flags: [
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused images not just dangling ones' },
    { name: 'volumes', kind: 'bool', usage: 'Prune anonymous volumes' },
    {
      name: 'filter',
      kind: 'value',
      typeName: 'filter',
      usage: 'Provide filter values (e.g. "label=<key>=<value>")',
      parse: (raw, prev) => addFilter(prev, raw),
    },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const all = flags.bool('all');
    const volumes = flags.bool('volumes');
    const filters = (flags.get('filter') as FilterMap | undefined) ?? {};
    if (volumes && 'until' in filters) throw new Error('ERROR: The "until" filter is not supported with "--volumes"');
    if (!flags.bool('force')) {
      const warnings = ['all stopped containers', 'all networks not used by at least one container'];
      if (volumes) warnings.push('all anonymous volumes not used by at least one container');
      warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
      warnings.push(all ? 'all build cache' : 'unused build cache');
      const shown: string[] = [];
      for (const name of ['label', 'label!', 'until']) for (const v of filters[name] ?? []) shown.push(`${name}=${v}`);
      shown.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0));
      let msg = `WARNING! This will remove:${warnings.map((w) => `\n  - ${w}`).join('')}\n`;
      if (shown.length > 0) msg += `\n  Items to be pruned will be filtered with:${shown.map((f) => `\n  - ${f}`).join('')}\n`;
      msg += '\nAre you sure you want to continue?';
      if (!(await confirm(ctx, msg))) return 0;
    }
    const client = ctx.client();
    let reclaimed = 0;
    const emit = (output: string, space: number | undefined): void => {
      if (output !== '') {
        ctx.out(`${output}\n`);
        reclaimed += space ?? 0;
      }
    };
    const c = await client.containerPrune(filters);
    emit(listOutput('Deleted Containers:', c.ContainersDeleted ?? []), c.SpaceReclaimed);
    const n = await tolerant(client.prune('networks', filters));
    emit(listOutput('Deleted Networks:', n.NetworksDeleted ?? []), 0);
    if (volumes) {
      const v = await client.prune('volumes', filters);
      emit(listOutput('Deleted Volumes:', v.VolumesDeleted ?? []), v.SpaceReclaimed);
    }
    const i = await client.imagePrune(addFilter(filters, `dangling=${!all}`));
    emit(listOutput('Deleted Images:', (i.ImagesDeleted ?? []).map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted ?? ''}`))), i.SpaceReclaimed);
    const b = await tolerant(client.prune('build', filters, { all: all ? '1' : undefined }));
    emit(listOutput('Deleted build cache objects:', b.CachesDeleted ?? []), b.SpaceReclaimed);
    ctx.out(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
