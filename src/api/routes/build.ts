import type { Readable } from 'node:stream';
import type { ApiContext, Route } from '../router.js';
import { Handled, boolParam, filtersParam } from '../router.js';
import { compareVersions } from '../server.js';
import { startStream } from '../streams.js';
import { defaultBuildOptions, type BuildOptions, type BuildResources } from '../../build/build-options.js';
import { errorLine, JsonBuildStream, type BuildOutput } from '../../build/build-output.js';
import type { CachePruneReport, PruneOptions } from '../../build/build-prune.js';
import { fromJson, type AuthConfig } from '../../distribution/auth-config.js';
import { errorMessage, invalid, notImplemented } from '../../util/errors.js';

// POST /build (the legacy builder, moby api/server/router/build) and POST /build/prune.
// The answer is a stream of JSON messages written as the build goes; it starts with the
// first message, so a failure before any (a missing Dockerfile, a bad parameter) is a
// plain HTTP error. With q=1 the messages are held back: a success shows only the image
// ID, a failure everything so far and the error. A client that goes away cancels.

export interface BuildBackend {
  build(body: Readable, opts: BuildOptions, out: BuildOutput, signal: AbortSignal): Promise<string>;
  prune(opts: PruneOptions): Promise<CachePruneReport>;
  // Started with the routes, so what a crash left behind goes at start-up, not at the
  // first build; build and prune wait for it.
  init?(): Promise<void>;
}

export function buildRoutes(backend: BuildBackend): Route[] {
  backend.init?.().catch((err: unknown) => process.stderr.write(`berthd: builder: ${errorMessage(err)}\n`));
  return [
    { method: 'POST', path: '/build', handler: (c) => build(backend, c) },
    { method: 'POST', path: '/build/prune', handler: (c) => backend.prune({ all: boolParam(c.query, 'all'), filters: filtersParam(c.query) }) },
  ];
}

async function build(backend: BuildBackend, c: ApiContext): Promise<unknown> {
  const opts = decodeBuildQuery(c.query, c.apiVersion);
  opts.authConfigs = decodeAuthConfigs(c.req.headers['x-registry-config']);
  const res = c.res!;
  const aborter = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) aborter.abort();
  });
  const write = (line: string): void => {
    if (res.destroyed || res.writableEnded) return; // the client left: the build is being cancelled
    if (!res.headersSent) startStream(res, 'application/json');
    res.write(line);
  };
  const held: string[] = [];
  const stream = new JsonBuildStream(opts.suppressOutput ? (line) => held.push(line) : write);
  // Clients before API 1.30 do not know aux messages.
  const out: BuildOutput = compareVersions(c.apiVersion, '1.30') >= 0 ? stream : withoutAux(stream);
  try {
    const id = await backend.build(c.req, opts, out, aborter.signal);
    if (opts.suppressOutput) write(JSON.stringify({ stream: `${id}\n` }) + '\r\n');
  } catch (err) {
    if (held.length > 0) write(held.join(''));
    if (!res.headersSent) throw err;
    write(errorLine(err));
  }
  if (!res.destroyed) res.end();
  return Handled;
}

function withoutAux(s: JsonBuildStream): BuildOutput {
  return { stdout: (t) => s.stdout(t), stderr: (t) => s.stderr(t), aux() {}, message: (m) => s.message(m) };
}

// moby newImageBuildOptions, with its messages.
export function decodeBuildQuery(q: URLSearchParams, apiVersion = '1.41'): BuildOptions {
  if (q.get('remote')) throw notImplemented('remote build contexts (a URL or git repository) are not supported; send the context as the request body');
  const version = q.get('version');
  if (version && version !== '1') {
    if (version === '2') throw notImplemented('BuildKit is not supported: use the legacy builder (DOCKER_BUILDKIT=0)');
    throw invalid(`invalid version "${version}"`);
  }
  if (q.getAll('securityopt').length > 0) throw invalid('security options are not supported on linux');
  const isolation = q.get('isolation');
  if (isolation && isolation !== 'default') throw invalid(`unsupported isolation: "${isolation}"`);
  const forceRemove = boolParam(q, 'forcerm');
  const rm = q.get('rm');
  const resources: BuildResources = {};
  for (const [param, field] of [
    ['memory', 'Memory'],
    ['memswap', 'MemorySwap'],
    ['cpushares', 'CpuShares'],
    ['cpuperiod', 'CpuPeriod'],
    ['cpuquota', 'CpuQuota'],
  ] as const) {
    const n = int64OrZero(q, param);
    if (n !== 0) resources[field] = n;
  }
  if (q.get('cpusetcpus')) resources.CpusetCpus = q.get('cpusetcpus')!;
  if (q.get('cpusetmems')) resources.CpusetMems = q.get('cpusetmems')!;
  const ulimits = jsonParam<Array<{ Name: string; Soft: number; Hard: number }>>(q, 'ulimits', 'error reading ulimit settings');
  if (ulimits) resources.Ulimits = ulimits;
  let shmSize = 0;
  const shm = q.get('shmsize');
  if (shm) {
    if (!/^[+-]?\d+$/.test(shm)) throw invalid(`strconv.ParseInt: parsing "${shm}": invalid syntax`);
    shmSize = Number(shm);
  }
  const buildArgs = new Map<string, string | null>();
  const argsJson = jsonParam<Record<string, string | null>>(q, 'buildargs', 'error reading build args');
  for (const [k, v] of Object.entries(argsJson ?? {})) buildArgs.set(k, typeof v === 'string' ? v : null);
  return defaultBuildOptions({
    tags: q.getAll('t'),
    dockerfile: q.get('dockerfile') ?? '',
    suppressOutput: boolParam(q, 'q'),
    noCache: boolParam(q, 'nocache'),
    forceRemove,
    remove: forceRemove || rm === null || rm === '' ? true : boolParam(q, 'rm'),
    pull: boolParam(q, 'pull'),
    buildArgs,
    labels: jsonParam<Record<string, string>>(q, 'labels', 'error reading labels') ?? {},
    target: q.get('target') ?? '',
    networkMode: q.get('networkmode') ?? '',
    squash: boolParam(q, 'squash'),
    extraHosts: q.getAll('extrahosts'),
    shmSize,
    resources,
    platform: compareVersions(apiVersion, '1.32') >= 0 ? (q.get('platform') ?? '') : '',
    cacheFrom: jsonParam<string[]>(q, 'cachefrom', 'error reading cache-from') ?? [],
  });
}

// X-Registry-Config: base64url JSON of {registry: AuthConfig}; undecodable means none, as
// moby ignores decode errors here.
function decodeAuthConfigs(header: string | string[] | undefined): Record<string, AuthConfig> {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return {};
  try {
    const map = JSON.parse(Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as unknown;
    if (!map || typeof map !== 'object') return {};
    return Object.fromEntries(Object.entries(map as Record<string, unknown>).map(([k, v]) => [k, fromJson(v)]));
  } catch {
    return {};
  }
}

function int64OrZero(q: URLSearchParams, name: string): number {
  const v = q.get(name);
  if (!v || !/^[+-]?\d+$/.test(v)) return 0;
  return Number(v);
}

function jsonParam<T>(q: URLSearchParams, name: string, what: string): T | undefined {
  const raw = q.get(name);
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch (err) {
    throw invalid(`${what}: ${errorMessage(err)}`);
  }
}
