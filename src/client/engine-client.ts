import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { resolveHost, type DaemonAddress } from './host.js';
import { Transport, readAll, EngineError, type HijackedConnection, type Query } from './transport.js';
import type {
  ChangeItem,
  ContainerInspect,
  ContainerSummary,
  CreateResponse,
  DeleteItem,
  ExecInspect,
  HistoryItem,
  ImageSummary,
  PruneReport,
  SearchResult,
  ServerVersion,
  TopResponse,
  WaitResponse,
} from './types.js';

export { EngineError, ConnectionError } from './transport.js';
export type { HijackedConnection } from './transport.js';

// The API version the client speaks; the daemon serves v1.41 paths and newer.
export const DEFAULT_API_VERSION = '1.41';
export const CLIENT_VERSION = '0.1.0';

export interface EngineClientOptions {
  host?: DaemonAddress;
  apiVersion?: string;
}

export interface Inspected<T> {
  value: T;
  raw: Buffer;
}

export interface AttachOptions {
  stream?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  logs?: boolean;
  detachKeys?: string;
}

export interface StopOptions {
  timeout?: number;
  signal?: string;
}

export type Filters = Record<string, string[]>;

// Filters travel as JSON {"name": {"value": true}} as moby's filters.ToJSON encodes them.
export function encodeFilters(filters: Filters | undefined): string | undefined {
  if (!filters) return undefined;
  const keys = Object.keys(filters);
  if (keys.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const k of keys) {
    out[k] = {};
    for (const v of filters[k]) out[k][v] = true;
  }
  return JSON.stringify(out);
}

// IDs and names go into the path as docker puts them: slashes in image
// references stay literal (the router matches them), only URL-special bytes are escaped.
function seg(s: string): string {
  return s.replace(/[%?#\s]/g, (c) => encodeURIComponent(c));
}

export class EngineClient {
  readonly host: DaemonAddress;
  readonly apiVersion: string;
  private readonly t: Transport;

  constructor(opts: EngineClientOptions = {}) {
    this.host = opts.host ?? resolveHost([], process.env);
    this.apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
    this.t = new Transport(this.host, `/v${this.apiVersion}`, `Berth-Client/${CLIENT_VERSION} (${process.platform})`);
  }

  close(): void {
    this.t.close();
  }

  private async json<T>(method: string, path: string, opts: Parameters<Transport['send']>[2] = {}): Promise<T> {
    const body = await this.t.buffer(method, path, opts);
    return JSON.parse(body.toString('utf8')) as T;
  }

  private async call(method: string, path: string, query?: Query): Promise<void> {
    await this.t.buffer(method, path, { query });
  }

  private async inspect<T>(path: string, query?: Query): Promise<Inspected<T>> {
    const raw = await this.t.buffer('GET', path, { query });
    return { value: JSON.parse(raw.toString('utf8')) as T, raw };
  }

  // --- system ---

  async ping(): Promise<{ apiVersion?: string; osType?: string }> {
    const res = await this.t.send('GET', '/_ping');
    await readAll(res);
    return { apiVersion: header(res, 'api-version'), osType: header(res, 'ostype') };
  }

  version(): Promise<ServerVersion> {
    return this.json('GET', '/version');
  }

  info(): Promise<Record<string, unknown>> {
    return this.json('GET', '/info');
  }

  systemDf(): Promise<Record<string, unknown>> {
    return this.json('GET', '/system/df');
  }

  // POST /networks/prune, /volumes/prune, /build/prune.
  prune(kind: 'networks' | 'volumes' | 'build', filters?: Filters, extra: Query = {}): Promise<PruneReport> {
    return this.json('POST', `/${kind}/prune`, { query: { ...extra, filters: encodeFilters(filters) } });
  }

  events(query: Query): Promise<IncomingMessage> {
    return this.t.send('GET', '/events', { query });
  }

  // Networks and volumes, for `inspect` across object kinds.
  objectInspect(kind: 'networks' | 'volumes', ref: string): Promise<Inspected<Record<string, unknown>>> {
    return this.inspect(`/${kind}/${seg(ref)}`);
  }

  // --- volumes ---

  volumeCreate(body: { Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }): Promise<Record<string, unknown>> {
    return this.json('POST', '/volumes/create', { json: body });
  }

  volumeList(filters?: Filters): Promise<{ Volumes: Array<Record<string, unknown>> | null; Warnings: string[] | null }> {
    return this.json('GET', '/volumes', { query: { filters: encodeFilters(filters) } });
  }

  volumeRemove(name: string, force = false): Promise<void> {
    return this.call('DELETE', `/volumes/${seg(name)}`, { force: force ? '1' : undefined });
  }

  // --- networks ---

  networkList(filters?: Filters): Promise<Array<Record<string, unknown>>> {
    return this.json('GET', '/networks', { query: { filters: encodeFilters(filters) } });
  }

  networkCreate(body: Record<string, unknown>): Promise<{ Id: string; Warning?: string }> {
    return this.json('POST', '/networks/create', { json: body });
  }

  networkRemove(ref: string): Promise<void> {
    return this.call('DELETE', `/networks/${seg(ref)}`);
  }

  async networkConnect(ref: string, container: string, endpointConfig: Record<string, unknown> | null): Promise<void> {
    await this.t.buffer('POST', `/networks/${seg(ref)}/connect`, { json: { Container: container, EndpointConfig: endpointConfig } });
  }

  async networkDisconnect(ref: string, container: string, force: boolean): Promise<void> {
    await this.t.buffer('POST', `/networks/${seg(ref)}/disconnect`, { json: { Container: container, Force: force } });
  }

  // --- containers ---

  containerCreate(body: unknown, name?: string, platform?: string): Promise<CreateResponse> {
    return this.json('POST', '/containers/create', { query: { name: name || undefined, platform }, json: body });
  }

  containerList(query: Query): Promise<ContainerSummary[]> {
    return this.json('GET', '/containers/json', { query });
  }

  containerInspect(id: string, size = false): Promise<Inspected<ContainerInspect>> {
    return this.inspect(`/containers/${seg(id)}/json`, { size: size ? '1' : undefined });
  }

  containerStart(id: string): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/start`);
  }

  containerStop(id: string, opts: StopOptions = {}): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/stop`, { t: opts.timeout, signal: opts.signal || undefined });
  }

  containerRestart(id: string, opts: StopOptions = {}): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/restart`, { t: opts.timeout, signal: opts.signal || undefined });
  }

  containerKill(id: string, signal?: string): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/kill`, { signal: signal || undefined });
  }

  containerRemove(id: string, opts: { volumes?: boolean; force?: boolean; link?: boolean } = {}): Promise<void> {
    return this.call('DELETE', `/containers/${seg(id)}`, {
      v: opts.volumes ? '1' : undefined,
      link: opts.link ? '1' : undefined,
      force: opts.force ? '1' : undefined,
    });
  }

  containerPause(id: string): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/pause`);
  }

  containerUnpause(id: string): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/unpause`);
  }

  containerRename(id: string, name: string): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/rename`, { name });
  }

  containerResize(id: string, height: number, width: number): Promise<void> {
    return this.call('POST', `/containers/${seg(id)}/resize`, { h: height, w: width });
  }

  containerTop(id: string, psArgs?: string): Promise<TopResponse> {
    return this.json('GET', `/containers/${seg(id)}/top`, { query: { ps_args: psArgs || undefined } });
  }

  containerChanges(id: string): Promise<ChangeItem[] | null> {
    return this.json('GET', `/containers/${seg(id)}/changes`);
  }

  containerExport(id: string): Promise<IncomingMessage> {
    return this.t.send('GET', `/containers/${seg(id)}/export`);
  }

  containerStats(id: string, stream: boolean): Promise<IncomingMessage> {
    return this.t.send('GET', `/containers/${seg(id)}/stats`, { query: { stream: stream ? '1' : '0' } });
  }

  containerLogs(id: string, query: Query): Promise<IncomingMessage> {
    return this.t.send('GET', `/containers/${seg(id)}/logs`, { query });
  }

  containerPrune(filters?: Filters): Promise<PruneReport> {
    return this.json('POST', '/containers/prune', { query: { filters: encodeFilters(filters) } });
  }

  containerCommit(query: Query, config: unknown): Promise<{ Id: string }> {
    return this.json('POST', '/commit', { query, json: config });
  }

  containerUpdate(id: string, body: unknown): Promise<{ Warnings?: string[] | null }> {
    return this.json('POST', `/containers/${seg(id)}/update`, { json: body });
  }

  // Resolves once the daemon has registered the waiter (its headers are in), with a
  // function that awaits the exit: the CLI must start the container only after that.
  async containerWait(id: string, condition?: string): Promise<() => Promise<WaitResponse>> {
    const res = await this.t.send('POST', `/containers/${seg(id)}/wait`, { query: { condition: condition || undefined } });
    const body = readAll(res).then((buf) => {
      const text = buf.toString('utf8');
      try {
        return JSON.parse(text) as WaitResponse;
      } catch {
        throw new EngineError(res.statusCode ?? 500, text.trim(), false);
      }
    });
    // Avoid an unhandled rejection if the caller never awaits the result.
    body.catch(() => undefined);
    return () => body;
  }

  containerAttach(id: string, opts: AttachOptions): Promise<HijackedConnection> {
    return this.t.hijack(`/containers/${seg(id)}/attach`, {
      stream: opts.stream ? '1' : undefined,
      stdin: opts.stdin ? '1' : undefined,
      stdout: opts.stdout ? '1' : undefined,
      stderr: opts.stderr ? '1' : undefined,
      logs: opts.logs ? '1' : undefined,
      detachKeys: opts.detachKeys || undefined,
    });
  }

  archiveStat(id: string, path: string): Promise<IncomingMessage> {
    return this.t.send('HEAD', `/containers/${seg(id)}/archive`, { query: { path } });
  }

  archiveGet(id: string, path: string): Promise<IncomingMessage> {
    return this.t.send('GET', `/containers/${seg(id)}/archive`, { query: { path } });
  }

  async archivePut(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean } = {}): Promise<void> {
    await this.t.buffer('PUT', `/containers/${seg(id)}/archive`, {
      query: {
        path,
        noOverwriteDirNonDir: opts.noOverwriteDirNonDir ? 'true' : undefined,
        copyUIDGID: opts.copyUIDGID ? 'true' : undefined,
      },
      raw: tar,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  // --- exec ---

  execCreate(id: string, body: unknown): Promise<{ Id: string }> {
    return this.json('POST', `/containers/${seg(id)}/exec`, { json: body });
  }

  execStartAttached(execId: string, body: { Detach: boolean; Tty: boolean; ConsoleSize?: [number, number] | null }): Promise<HijackedConnection> {
    return this.t.hijack(`/exec/${seg(execId)}/start`, {}, body);
  }

  async execStartDetached(execId: string, body: { Detach: boolean; Tty: boolean; ConsoleSize?: [number, number] | null }): Promise<void> {
    await this.t.buffer('POST', `/exec/${seg(execId)}/start`, { json: body });
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.json('GET', `/exec/${seg(execId)}/json`);
  }

  execResize(execId: string, height: number, width: number): Promise<void> {
    return this.call('POST', `/exec/${seg(execId)}/resize`, { h: height, w: width });
  }

  // --- images ---

  imageList(query: Query): Promise<ImageSummary[]> {
    return this.json('GET', '/images/json', { query });
  }

  imageInspect(ref: string): Promise<Inspected<Record<string, unknown>>> {
    return this.inspect(`/images/${seg(ref)}/json`);
  }

  imageHistory(ref: string): Promise<HistoryItem[]> {
    return this.json('GET', `/images/${seg(ref)}/history`);
  }

  imageTag(source: string, repo: string, tag?: string): Promise<void> {
    return this.call('POST', `/images/${seg(source)}/tag`, { repo, tag });
  }

  imageRemove(ref: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<DeleteItem[]> {
    return this.json('DELETE', `/images/${seg(ref)}`, {
      query: { force: opts.force ? '1' : undefined, noprune: opts.noPrune ? '1' : undefined },
    });
  }

  // registryAuth: the base64url JSON credentials docker sends in X-Registry-Auth.
  imagePull(fromImage: string, tag: string | undefined, platform?: string, registryAuth = ''): Promise<IncomingMessage> {
    return this.t.send('POST', '/images/create', {
      query: { fromImage, tag, platform: platform || undefined },
      headers: { 'X-Registry-Auth': registryAuth },
    });
  }

  imagePush(name: string, tag: string | undefined, registryAuth: string): Promise<IncomingMessage> {
    return this.t.send('POST', `/images/${seg(name)}/push`, { query: { tag }, headers: { 'X-Registry-Auth': registryAuth } });
  }

  imageSearch(term: string, limit: number | undefined, filters: Filters | undefined, registryAuth: string): Promise<SearchResult[]> {
    return this.json('GET', '/images/search', {
      query: { term, limit: limit || undefined, filters: encodeFilters(filters) },
      headers: { 'X-Registry-Auth': registryAuth },
    });
  }

  registryLogin(auth: Record<string, string>): Promise<{ Status: string; IdentityToken?: string }> {
    return this.json('POST', '/auth', { json: auth });
  }

  imageImport(query: Query, source?: Readable): Promise<IncomingMessage> {
    return this.t.send('POST', '/images/create', { query, raw: source });
  }

  imagePrune(filters?: Filters): Promise<PruneReport> {
    return this.json('POST', '/images/prune', { query: { filters: encodeFilters(filters) } });
  }

  imageSave(names: string[]): Promise<IncomingMessage> {
    return this.t.send('GET', '/images/get', { query: { names } });
  }

  imageLoad(source: Readable, quiet: boolean): Promise<IncomingMessage> {
    return this.t.send('POST', '/images/load', {
      query: { quiet: quiet ? '1' : '0' },
      raw: source,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  }

  // The context tar as the body; the answer streams JSON messages. X-Registry-Config
  // carries no credentials (berth keeps none on the client), as an empty docker config.
  imageBuild(query: Query, context: Readable): Promise<IncomingMessage> {
    return this.t.send('POST', '/build', {
      query,
      raw: context,
      headers: { 'Content-Type': 'application/x-tar', 'X-Registry-Config': Buffer.from('{}').toString('base64') },
    });
  }

  // berth's own: builds busybox or debian base images offline; streams JSON messages.
  imageBootstrap(query: Query): Promise<IncomingMessage> {
    return this.t.send('POST', '/berth/images/bootstrap', { query });
  }
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
