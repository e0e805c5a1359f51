import { hostname, cpus, totalmem, release, arch } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { Route, ApiContext } from '../router.js';
import { Handled, filtersParam } from '../router.js';
import { startStream } from '../streams.js';
import { streamHeaders } from '../server.js';
import type { EventBus, EngineEvent } from '../../daemon/events.js';
import { API_VERSION, MIN_API_VERSION, ENGINE_VERSION, GIT_COMMIT } from '../../daemon/version.js';
import { invalid } from '../../util/errors.js';
import { eventMatches } from '../../daemon/event-filter.js';

export interface SystemInfoSource {
  id: string;
  dataRoot: string;
  debug: boolean;
  counts(): { containers: number; running: number; paused: number; stopped: number; images: number };
  events: EventBus;
  // The OCI runtimes containers may name, and the default (info's Runtimes, DefaultRuntime).
  runtimes?: () => { runtimes: Record<string, { path: string; runtimeArgs?: string[] }>; default: string };
}

const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' })[arch()] ?? arch();

// Clients following /events right now (info's NEventsListener).
interface Listeners { n: number }

export function systemRoutes(src: SystemInfoSource): Route[] {
  const listeners: Listeners = { n: 0 };
  return [
    { method: 'GET', path: '/_ping', handler: ping },
    { method: 'HEAD', path: '/_ping', handler: ping },
    { method: 'GET', path: '/version', handler: async () => version() },
    { method: 'GET', path: '/info', handler: () => info(src, listeners) },
    { method: 'GET', path: '/events', handler: (c) => events(src.events, c, listeners) },
  ];
}

async function ping(c: ApiContext): Promise<unknown> {
  c.res!.writeHead(200, {
    ...streamHeaders('text/plain; charset=utf-8'),
    'Cache-Control': 'no-cache, no-store, must-revalidate',
    Pragma: 'no-cache',
    'Builder-Version': '1',
    'Content-Length': 2,
  });
  c.res!.end(c.req.method === 'HEAD' ? undefined : 'OK');
  return Handled;
}

function version(): Record<string, unknown> {
  const details = { ApiVersion: API_VERSION, Arch: goArch(), BuildTime: '', Experimental: 'false', GitCommit: GIT_COMMIT, GoVersion: `node${process.versions.node}`, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' };
  return {
    Platform: { Name: 'berth' },
    Components: [{ Name: 'Engine', Version: ENGINE_VERSION, Details: details }],
    Version: ENGINE_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: GIT_COMMIT,
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: goArch(),
    KernelVersion: release(),
    BuildTime: '',
  };
}

async function osName(): Promise<string> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
}

async function cgroupVersion(): Promise<string> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return /\s\/sys\/fs\/cgroup\s.*\scgroup2\s/.test(text) ? '2' : '1';
}

async function info(src: SystemInfoSource, listeners: Listeners): Promise<Record<string, unknown>> {
  const n = src.counts();
  return {
    ID: src.id,
    Containers: n.containers,
    ContainersRunning: n.running,
    ContainersPaused: n.paused,
    ContainersStopped: n.stopped,
    Images: n.images,
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none', 'null'], Authorization: null, Log: ['json-file', 'local', 'none'] },
    MemoryLimit: true,
    SwapLimit: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    BridgeNfIptables: true,
    BridgeNfIp6tables: true,
    Debug: src.debug,
    NFd: 0,
    OomKillDisable: true,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: await cgroupVersion(),
    NEventsListener: listeners.n,
    KernelVersion: release(),
    OperatingSystem: await osName(),
    OSVersion: '',
    OSType: 'linux',
    Architecture: arch() === 'x64' ? 'x86_64' : arch(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: [] },
    NCPU: cpus().length,
    MemTotal: totalmem(),
    GenericResources: null,
    DockerRootDir: src.dataRoot,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: ENGINE_VERSION,
    Runtimes: src.runtimes?.().runtimes ?? { runc: { path: 'runc' } },
    DefaultRuntime: src.runtimes?.().default ?? 'runc',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: [],
    CDISpecDirs: [],
    Warnings: null,
  };
}

function parseEventTime(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.floor(Number(v) * 1e9);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid value for time: ${v}`);
  return t * 1e6;
}

// GET /events: history since `since`, then live until `until` (or the client leaves).
async function events(bus: EventBus, c: ApiContext, listeners: Listeners): Promise<unknown> {
  const since = parseEventTime(c.query.get('since'));
  const until = parseEventTime(c.query.get('until'));
  const filters = filtersParam(c.query);
  const res = startStream(c.res!, 'application/json');
  const send = (ev: EngineEvent): void => {
    if (eventMatches(ev, filters)) res.write(JSON.stringify(ev) + '\n');
  };
  const now = Date.now() * 1e6;
  if (since !== undefined) for (const ev of bus.since(since)) if (until === undefined || ev.timeNano <= until) send(ev);
  if (until !== undefined && until <= now) {
    res.end();
    return Handled;
  }
  await new Promise<void>((resolve) => {
    const unsubscribe = bus.subscribe(send);
    listeners.n++;
    const socket = c.req.socket;
    const finish = (): void => {
      unsubscribe();
      listeners.n--;
      clearTimeout(timer);
      // A kept-alive connection serves more requests: leave no listener behind on it.
      socket.off('close', finish);
      resolve();
    };
    const timer = until !== undefined ? setTimeout(finish, (until - now) / 1e6) : undefined;
    socket.once('close', finish);
  });
  if (!res.destroyed) res.end();
  return Handled;
}
