import type { Route, ApiContext } from '../router.js';
import { assertLogsReadable, logDetailsPrefix } from '../../container/log-config.js';
import { Reply, Handled, boolParam, intParam, filtersParam } from '../router.js';
import { frame, startStream, STDERR, STDOUT } from '../streams.js';
import type { ContainerService } from '../../container/container-service.js';
import type { EventBus } from '../../daemon/events.js';
import type { CreateBody } from '../../container/create-config.js';
import type { ResourceConfig } from '../../runtime/resources.js';
import { listContainers, summarize } from '../../container/container-view.js';
import { inspectContainer } from '../../container/container-inspect.js';
import type { WaitCondition } from '../../container/waiters.js';
import type { LayerStore } from '../../storage/types.js';
import type { ContainerRecord } from '../../container/types.js';
import { readLog } from '../../runtime/log-reader.js';
import { BerthError, invalid, errorMessage } from '../../util/errors.js';
import { parseFilterTimestamp } from '../../image/time.js';

export interface ContainerRouteDeps {
  containers: ContainerService;
  layers: LayerStore;
  imageMatches(imageId: string, nameOrId: string): Promise<boolean>;
  // The image a name or ID stands for now, or null.
  imageId(nameOrId: string): string | null;
  imageSize(imageId: string): Promise<number>;
  execIds?(containerId: string): string[]; // its execs not yet exited, for inspect
  events?: EventBus; // for the prune event moby logs
}

// One router per resource (moby's api/server/router/container): decode, call, encode.
export function containerRoutes(d: ContainerRouteDeps): Route[] {
  const svc = d.containers;
  return [
    { method: 'GET', path: '/containers/json', handler: (c) => list(d, c) },
    {
      method: 'POST',
      path: '/containers/create',
      handler: async (c) => new Reply(201, await svc.create(await c.json<CreateBody>(), c.query.get('name'))),
    },
    { method: 'GET', path: '/containers/{id}/json', handler: (c) => inspect(d, c) },
    {
      method: 'POST',
      path: '/containers/{id}/start',
      handler: async (c) => {
        await svc.start(c.params.id!);
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/stop',
      handler: async (c) => {
        await svc.stop(c.params.id!, intParam(c.query, 't'), c.query.get('signal') ?? undefined);
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/restart',
      handler: async (c) => {
        await svc.restart(c.params.id!, intParam(c.query, 't'), c.query.get('signal') ?? undefined);
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/kill',
      handler: async (c) => {
        try {
          await svc.kill(c.params.id!, c.query.get('signal') ?? undefined);
        } catch (err) {
          // moby's kill route prefixes every failure with the name asked for.
          throw err instanceof BerthError ? new BerthError(err.kind, `Cannot kill container: ${c.params.id!}: ${err.message}`) : err;
        }
        return new Reply(204);
      },
    },
    {
      method: 'DELETE',
      path: '/containers/{id}',
      handler: async (c) => {
        await svc.remove(c.params.id!, { force: boolParam(c.query, 'force'), volumes: boolParam(c.query, 'v') });
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/pause',
      handler: async (c) => {
        await svc.pause(c.params.id!);
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/unpause',
      handler: async (c) => {
        await svc.unpause(c.params.id!);
        return new Reply(204);
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/rename',
      handler: async (c) => {
        await svc.rename(c.params.id!, c.query.get('name') ?? '');
        return new Reply(204);
      },
    },
    { method: 'POST', path: '/containers/{id}/wait', handler: (c) => wait(svc, c) },
    { method: 'GET', path: '/containers/{id}/logs', handler: (c) => logs(svc, c) },
    // POST /containers/{id}/attach lives in ./attach.ts.
    {
      method: 'POST',
      path: '/containers/{id}/resize',
      handler: async (c) => {
        await svc.resize(c.params.id!, intParam(c.query, 'h') ?? 24, intParam(c.query, 'w') ?? 80);
        return new Reply(200, '');
      },
    },
    {
      method: 'POST',
      path: '/containers/{id}/update',
      handler: async (c) => svc.update(c.params.id!, await c.json<ResourceConfig & { RestartPolicy?: { Name?: string; MaximumRetryCount?: number } }>()),
    },
    { method: 'POST', path: '/containers/prune', handler: (c) => prune(d, c) },
  ];
}

async function list(d: ContainerRouteDeps, c: ApiContext): Promise<unknown> {
  const filters = filtersParam(c.query);
  const limit = intParam(c.query, 'limit');
  const recs = d.containers.store.all();
  // ancestor= needs the image store; resolve each distinct image id once.
  const ancestorHits = new Map<string, boolean>();
  for (const a of filters.ancestor ?? []) {
    for (const r of recs) {
      const key = `${r.Image}\0${a}`;
      if (!ancestorHits.has(key)) ancestorHits.set(key, await d.imageMatches(r.Image, a).catch(() => false));
    }
  }
  const chosen = listContainers(recs, { all: boolParam(c.query, 'all'), limit, filters }, {
    matchesAncestor: (r, a) => ancestorHits.get(`${r.Image}\0${a}`) ?? false,
    resolve: (ref) => d.containers.store.resolve(ref),
  });
  const withSize = boolParam(c.query, 'size');
  const now = Date.now();
  return Promise.all(
    chosen.map(async (r) => {
      const s = summarize(r, now);
      s.Image = shownImage(r, d.imageId);
      if (withSize) {
        const rw = await d.layers.rwSize(r.Id).catch(() => 0);
        // SizeRw is omitempty in moby's Container summary; SizeRootFs is not.
        if (rw > 0) s.SizeRw = rw;
        s.SizeRootFs = rw + (await d.imageSize(r.Image).catch(() => 0));
      }
      return s;
    }),
  );
}

// moby's list: the name the container was created with while that name still stands for
// its image; once the tag is gone or points elsewhere, the image ID.
function shownImage(r: ContainerRecord, imageId: (ref: string) => string | null): string {
  if (r.Config.Image === r.Image || imageId(r.Config.Image) === r.Image) return r.Config.Image;
  return r.Image;
}

async function inspect(d: ContainerRouteDeps, c: ApiContext): Promise<unknown> {
  const rec = d.containers.store.resolve(c.params.id!);
  const size = boolParam(c.query, 'size');
  const sizeRw = size ? await d.layers.rwSize(rec.Id).catch(() => 0) : undefined;
  return inspectContainer(rec, {
    dir: d.containers.store.dir(rec.Id),
    logPath: d.containers.logPath(rec.Id),
    graphDriver: await d.layers.rwGraphDriver(rec.Id).catch(() => ({})),
    sizeRw,
    sizeRootFs: sizeRw === undefined ? undefined : sizeRw + (await d.imageSize(rec.Image).catch(() => 0)),
    execIds: d.execIds?.(rec.Id),
  });
}

// Headers go out as soon as the wait is registered: the docker CLI sends `start` only
// after it has them, and must not miss a fast exit.
async function wait(svc: ContainerService, c: ApiContext): Promise<unknown> {
  const condition = (c.query.get('condition') || 'not-running') as WaitCondition;
  const done = svc.waitRegistered(c.params.id!, condition);
  const res = startStream(c.res!, 'application/json');
  const code = await done;
  res.end(JSON.stringify({ StatusCode: code, Error: null }) + '\n');
  return Handled;
}

function parseTime(v: string | null): Date | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return new Date(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid value for since/until: ${v}`);
  return new Date(t);
}


async function logs(svc: ContainerService, c: ApiContext): Promise<unknown> {
  const rec = svc.store.resolve(c.params.id!);
  const q = c.query;
  const stdout = boolParam(q, 'stdout');
  const stderr = boolParam(q, 'stderr');
  if (!stdout && !stderr) throw invalid('Bad parameters: you must choose at least one stream');
  assertLogsReadable(rec.HostConfig.LogConfig?.Type ?? '');
  const tailRaw = q.get('tail');
  const tail = !tailRaw || tailRaw === 'all' ? undefined : Math.max(0, Number(tailRaw));
  const follow = boolParam(q, 'follow');
  const timestamps = boolParam(q, 'timestamps');
  const details = boolParam(q, 'details') ? Buffer.from(logDetailsPrefix(rec.HostConfig.LogConfig, rec.Config.Labels, rec.Config.Env)) : null;
  const tty = rec.Config.Tty;
  const res = startStream(c.res!, tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
  const ac = new AbortController();
  const stop = svc.stopSignal(rec.Id);
  const onStop = (): void => ac.abort();
  if (follow) stop.addEventListener('abort', onStop, { once: true });
  c.req.socket.on('close', onStop);
  try {
    for await (const entry of readLog(svc.logPath(rec.Id), {
      tail: Number.isNaN(tail) ? undefined : tail,
      since: parseTime(q.get('since')),
      until: parseTime(q.get('until')),
      follow: follow && !stop.aborted,
      signal: ac.signal,
    })) {
      if (entry.stream === 'stdout' ? !stdout : !stderr) continue;
      const line = details ? Buffer.concat([details, entry.data]) : entry.data;
      const data = timestamps ? Buffer.concat([Buffer.from(entry.timeNano + ' '), line]) : line;
      const ok = res.write(tty ? data : frame(entry.stream === 'stdout' ? STDOUT : STDERR, data));
      if (!ok) await new Promise((r) => res.once('drain', r));
      if (res.destroyed) break;
    }
  } catch (err) {
    if (!res.destroyed) process.stderr.write(`berthd: logs ${rec.Id}: ${errorMessage(err)}\n`);
  } finally {
    stop.removeEventListener('abort', onStop);
    c.req.socket.off('close', onStop);
  }
  res.end();
  return Handled;
}

async function prune(d: ContainerRouteDeps, c: ApiContext): Promise<unknown> {
  const svc = d.containers;
  const filters = filtersParam(c.query);
  // moby's containerPruneFilters.
  for (const key of Object.keys(filters)) if (!['label', 'label!', 'until'].includes(key)) throw invalid(`invalid filter '${key}'`);
  // A duration ("1h"), a unix time or a date, as moby's getUntilFromPruneFilters.
  const until = filters.until?.[0] ? Number(parseFilterTimestamp(filters.until[0]) / 1_000_000n) : Infinity;
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const r of svc.store.all()) {
    if (r.State.Running || r.State.Status === 'paused') continue;
    if (Date.parse(r.Created) >= until) continue;
    if (filters.label && !filters.label.every((l) => labelHas(r.Config.Labels, l))) continue;
    if (filters['label!']?.some((l) => labelHas(r.Config.Labels, l))) continue;
    // What its writable layer held, measured before it goes (moby's GetContainerLayerSize).
    const size = await d.layers.rwSize(r.Id).catch(() => 0);
    await svc.remove(r.Id, { force: false, volumes: false });
    deleted.push(r.Id);
    reclaimed += size;
  }
  d.events?.emit('container', 'prune', '', { reclaimed: String(reclaimed) });
  return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
}

function labelHas(labels: Record<string, string> | undefined, f: string): boolean {
  const eq = f.indexOf('=');
  if (eq < 0) return !!labels && f in labels;
  return labels?.[f.slice(0, eq)] === f.slice(eq + 1);
}
