import { invalid } from '../util/errors.js';
import { DEFAULT_LOG_DRIVER, validateLogConfig } from './log-config.js';
import type { ContainerConfig, HostConfig } from './types.js';
import type { HealthConfig } from '../image/types.js';
import { mergeHealthcheck, validateHealthcheck } from './health-config.js';
import { sortedMap } from '../util/sorted-map.js';

// The subset of an image's config that a container inherits.
export interface ImageRunConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, Record<string, never>> | null;
  Volumes?: Record<string, Record<string, never>> | null;
  StopSignal?: string;
  OnBuild?: string[] | null;
  Healthcheck?: HealthConfig | null;
}

// The body of POST /containers/create, loosely typed: clients send partial objects.
export interface CreateBody extends Partial<Omit<ContainerConfig, 'Cmd' | 'Entrypoint'>> {
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  HostConfig?: Partial<HostConfig> | null;
  NetworkingConfig?: unknown;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const asList = (v: string[] | string | null | undefined): string[] | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? [v] : v;

// Environment merge as Docker: the image's variables, overridden key by key by the user's.
export function mergeEnv(image: string[], user: string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...image, ...user]) {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...out.values()];
}

export function defaultHostConfig(h: Partial<HostConfig> | null | undefined): HostConfig {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: DEFAULT_LOG_DRIVER, Config: {} },
    NetworkMode: 'default',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: null,
    CapDrop: null,
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    ShmSize: 64 * 1024 * 1024,
    Runtime: 'runc',
    ...stripNulls(h ?? {}),
    // Docker reports the policy name "no" when none was given.
    ...(h?.RestartPolicy?.Name ? {} : { RestartPolicy: { Name: 'no', MaximumRetryCount: h?.RestartPolicy?.MaximumRetryCount ?? 0 } }),
    ...(h?.ShmSize ? {} : { ShmSize: 64 * 1024 * 1024 }),
    ...(h?.NetworkMode ? {} : { NetworkMode: 'default' }),
    ...(h?.LogConfig?.Type ? {} : { LogConfig: { Type: DEFAULT_LOG_DRIVER, Config: h?.LogConfig?.Config ?? {} } }),
  } as HostConfig;
}

function stripNulls<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface MergedConfig {
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Path: string;
  Args: string[];
}

// Combine what the client asked for with the image's defaults, as Docker's daemon does
// (daemon/create.go + merge.go): a user entrypoint drops the image's Cmd.
export function mergeCreateConfig(body: CreateBody, imageRef: string, image: ImageRunConfig, id: string): MergedConfig {
  // dockerd checks the request's own settings before merging in the image's.
  validateHealthcheck(body.Healthcheck);
  validateLogConfig(body.HostConfig?.LogConfig);
  const userEntrypoint = asList(body.Entrypoint);
  const userCmd = asList(body.Cmd);
  let entrypoint = image.Entrypoint ?? null;
  let cmd = userCmd && userCmd.length ? userCmd : image.Cmd ?? null;
  if (userEntrypoint !== null) {
    // `--entrypoint ""` clears the image's entrypoint; any other resets Cmd to the user's.
    entrypoint = userEntrypoint.length === 1 && userEntrypoint[0] === '' ? null : userEntrypoint.length ? userEntrypoint : null;
    if (!userCmd || !userCmd.length) cmd = null;
  }
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw invalid('No command specified');

  const healthcheck = mergeHealthcheck(body.Healthcheck, image.Healthcheck);

  const env = mergeEnv(image.Env ?? [], body.Env ?? []);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);

  const config: ContainerConfig = {
    Hostname: body.Hostname || id.slice(0, 12),
    Domainname: body.Domainname ?? '',
    User: body.User || image.User || '',
    AttachStdin: body.AttachStdin ?? false,
    AttachStdout: body.AttachStdout ?? false,
    AttachStderr: body.AttachStderr ?? false,
    Tty: body.Tty ?? false,
    OpenStdin: body.OpenStdin ?? false,
    StdinOnce: body.StdinOnce ?? false,
    Env: env,
    Cmd: cmd,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: imageRef,
    // moby's merge: the image's VOLUMEs join the user's (the docker CLI always sends an object).
    Volumes: Object.keys({ ...image.Volumes, ...body.Volumes }).length ? { ...image.Volumes, ...body.Volumes } : null,
    WorkingDir: body.WorkingDir || image.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: sortedMap({ ...(image.Labels ?? {}), ...(body.Labels ?? {}) }),
  };
  const exposed = { ...(image.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) };
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  const stopSignal = body.StopSignal || image.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  if (body.StopTimeout !== undefined && body.StopTimeout !== null) config.StopTimeout = body.StopTimeout;
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw invalid(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  return { Config: config, HostConfig: defaultHostConfig(body.HostConfig), Path: argv[0]!, Args: argv.slice(1) };
}
