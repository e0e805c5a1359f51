import { invalid } from '../util/errors.js';
import { humanDuration } from '../util/units.js';
import type { ContainerRecord } from './types.js';
import { healthOf, healthSuffix, isHealthFilterValue } from './health-state.js';
import { inspectMounts } from '../volume/mount-view.js';
import { exposedPorts, networksView, onNetwork, portFilterMatches, publishedPorts, summaryPorts } from '../network/settings-view.js';
import { sortedMap } from '../util/sorted-map.js';

// How containers look from the API: the list summary and its filters, and the
// status line ("Up 3 seconds"). Pure functions of a record and the clock.

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  switch (s.Status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${healthSuffix(rec)}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    default:
      return 'Created';
  }
}

// Docker quotes arguments that contain spaces with single quotes (container/view.go).
export function commandText(rec: ContainerRecord): string {
  if (!rec.Args.length) return rec.Path;
  return `${rec.Path} ${rec.Args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: unknown[];
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown> };
  Mounts: unknown[];
  SizeRw?: number;
  SizeRootFs?: number;
}

export function summarize(rec: ContainerRecord, now = Date.now()): ContainerSummary {
  return {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image,
    ImageID: rec.Image,
    Command: commandText(rec),
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: summaryPorts(rec),
    Labels: sortedMap(rec.Config.Labels ?? {}),
    State: rec.State.Status,
    Status: statusText(rec, now),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networksView(rec) },
    Mounts: inspectMounts(rec.MountPoints),
  };
}

const knownFilters = new Set(['status', 'name', 'label', 'id', 'ancestor', 'exited', 'before', 'since', 'health', 'network', 'volume', 'publish', 'expose', 'isolation', 'is-task']);
const validStatus = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']);

export interface ListContext {
  // Does this container's image match what the user gave to `ancestor=`?
  matchesAncestor(rec: ContainerRecord, value: string): boolean;
  resolve(ref: string): ContainerRecord; // for before/since
}

function labelMatches(labels: Record<string, string>, f: string): boolean {
  const eq = f.indexOf('=');
  if (eq < 0) return f in labels;
  return labels[f.slice(0, eq)] === f.slice(eq + 1);
}

// GET /containers/json semantics: newest first; without `all` only running ones;
// `limit`/`latest` imply all; every filter key ANDs, values of one key OR.
export function listContainers(
  recs: ContainerRecord[],
  opts: { all: boolean; limit?: number; filters: Record<string, string[]> },
  ctx: ListContext,
): ContainerRecord[] {
  for (const k of Object.keys(opts.filters)) if (!knownFilters.has(k)) throw invalid(`invalid filter '${k}'`);
  const f = opts.filters;
  for (const s of f.status ?? []) if (!validStatus.has(s)) throw invalid(`invalid filter 'status=${s}'`);
  for (const h of f.health ?? []) {
    if (!isHealthFilterValue(h)) throw invalid(`invalid filter 'health=${h}': invalid value for health (${h}): must be one of none, starting, healthy, unhealthy`);
  }
  let out = [...recs].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created) || (b.Id < a.Id ? -1 : 1));
  const all = opts.all || (opts.limit !== undefined && opts.limit > 0) || !!f.status || !!f.exited;
  if (!all) out = out.filter((r) => r.State.Running);
  if (f.status) out = out.filter((r) => f.status!.includes(r.State.Status));
  if (f.name) out = out.filter((r) => f.name!.some((n) => new RegExp(n).test(r.Name.slice(1)) || new RegExp(n).test(r.Name)));
  if (f.id) out = out.filter((r) => f.id!.some((p) => r.Id.startsWith(p)));
  if (f.label) out = out.filter((r) => f.label!.every((l) => labelMatches(r.Config.Labels ?? {}, l)));
  if (f.exited) out = out.filter((r) => r.State.Status === 'exited' && f.exited!.some((c) => Number(c) === r.State.ExitCode));
  if (f.health) out = out.filter((r) => f.health!.includes(healthOf(r)));
  if (f.ancestor) out = out.filter((r) => f.ancestor!.some((a) => ctx.matchesAncestor(r, a)));
  if (f.network) out = out.filter((r) => f.network!.some((n) => onNetwork(r, n)));
  if (f.publish) out = out.filter((r) => f.publish!.some((p) => portFilterMatches(publishedPorts(r), p)));
  if (f.expose) out = out.filter((r) => f.expose!.some((p) => portFilterMatches(exposedPorts(r), p)));
  // moby: a volume by its name (a bind by its source) or by where it is mounted.
  if (f.volume) {
    out = out.filter((r) => inspectMounts(r.MountPoints).some((m) => f.volume!.some((v) => v === (m.Name || m.Source) || v === m.Destination)));
  }
  // No container here is a swarm task.
  if (f['is-task']?.some((v) => ['1', 'true', 't'].includes(v.toLowerCase()))) out = [];
  if (f.before) {
    const t = Math.min(...f.before.map((b) => Date.parse(ctx.resolve(b).Created)));
    out = out.filter((r) => Date.parse(r.Created) < t);
  }
  if (f.since) {
    const t = Math.max(...f.since.map((b) => Date.parse(ctx.resolve(b).Created)));
    out = out.filter((r) => Date.parse(r.Created) > t);
  }
  if (opts.limit !== undefined && opts.limit > 0) out = out.slice(0, opts.limit);
  return out;
}
