import { readFile } from 'node:fs/promises';
import { invalid } from '../util/errors.js';
import type { RuntimeSpec } from '../runtime/oci-runtimes.js';

// berthd's settings: flags with Docker's names, and daemon.json with Docker's keys.
export interface DaemonConfig {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  cgroupParent: string;
  debug: boolean;
  group: string;
  configFile: string;
  raw: Record<string, unknown>; // the whole daemon.json, for keys other services read
  // OCI runtimes besides runc and crun (daemon.json "runtimes", --add-runtime name=path), and
  // the one containers get when they name none (unset: crun where it works, else runc).
  runtimes: Record<string, RuntimeSpec>;
  defaultRuntime?: string;
}

interface FlagSpec {
  key: string; // daemon.json key
  names: string[];
  bool?: boolean;
  list?: boolean;
}

const flags: FlagSpec[] = [
  { key: 'hosts', names: ['-H', '--host'], list: true },
  { key: 'data-root', names: ['--data-root', '-g', '--graph'] },
  { key: 'exec-root', names: ['--exec-root'] },
  { key: 'pidfile', names: ['-p', '--pidfile'] },
  { key: 'cgroup-parent', names: ['--cgroup-parent'] },
  { key: 'debug', names: ['-D', '--debug'], bool: true },
  { key: 'group', names: ['-G', '--group'] },
  { key: 'log-level', names: ['-l', '--log-level'] },
  { key: 'config-file', names: ['--config-file'] },
  { key: 'default-runtime', names: ['--default-runtime'] },
  { key: 'runtimes', names: ['--add-runtime'], list: true },
];

// Keys Docker's daemon.json accepts that berthd reads now or will (networking, registries…).
const knownFileKeys = new Set([
  'hosts', 'data-root', 'graph', 'exec-root', 'pidfile', 'cgroup-parent', 'debug', 'group', 'log-level',
  'storage-driver', 'storage-opts', 'log-driver', 'log-opts', 'bip', 'default-address-pools', 'bridge',
  'fixed-cidr', 'ip', 'iptables', 'ip-forward', 'ip-masq', 'userland-proxy', 'insecure-registries',
  'registry-mirrors', 'dns', 'dns-search', 'dns-opts', 'live-restore', 'default-ulimits', 'max-concurrent-downloads',
  'max-concurrent-uploads', 'features', 'experimental', 'default-shm-size', 'mtu', 'labels', 'builder',
  'default-runtime', 'runtimes', 'exec-opts', 'icc', 'shutdown-timeout', 'containerd', 'userns-remap',
]);

export const USAGE = `Usage:	berthd [OPTIONS]

A self-sufficient runtime for containers, compatible with the Docker Engine API.

Options:
      --cgroup-parent string   Set parent cgroup for all containers (default "/berth")
      --config-file string     Daemon configuration file (default "/etc/berth/daemon.json")
      --add-runtime runtime    Register an additional OCI compatible runtime (name=path)
      --data-root string       Root directory of persistent state (default "/var/lib/berth")
  -D, --debug                  Enable debug mode
      --default-runtime string Default OCI runtime for containers (default: crun where it works, else runc)
      --exec-root string       Root directory for execution state files (default "/run/berth")
  -G, --group string           Group for the unix socket (default "root")
  -H, --host list              Daemon socket(s) to connect to (default unix:///run/berth/berth.sock)
  -l, --log-level string       Set the logging level (default "info")
  -p, --pidfile string         Path to use for daemon PID file (default "/run/berth/berthd.pid")
  -v, --version                Print version information and quit
`;

export function parseDaemonArgs(argv: string[]): { values: Record<string, unknown>; help: boolean; version: boolean } {
  const values: Record<string, unknown> = {};
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (arg === '-v' || arg === '--version') {
      version = true;
      continue;
    }
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      inline = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (/^-[A-Za-z]./.test(arg) && !arg.startsWith('--')) {
      inline = arg.slice(2);
      arg = arg.slice(0, 2);
    }
    const spec = flags.find((f) => f.names.includes(arg));
    if (!spec) throw invalid(`unknown flag: ${arg}`);
    let value: unknown;
    if (spec.bool) value = inline === undefined ? true : inline !== 'false';
    else {
      value = inline ?? argv[++i];
      if (value === undefined) throw invalid(`flag needs an argument: ${arg}`);
    }
    if (spec.list) values[spec.key] = [...((values[spec.key] as string[]) ?? []), value as string];
    else values[spec.key] = value;
  }
  return { values, help, version };
}

export async function loadDaemonConfig(argv: string[]): Promise<DaemonConfig | 'help' | 'version'> {
  const { values, help, version } = parseDaemonArgs(argv);
  if (help) return 'help';
  if (version) return 'version';
  const configFile = (values['config-file'] as string) ?? '/etc/berth/daemon.json';
  let file: Record<string, unknown> = {};
  const text = await readFile(configFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && values['config-file'] === undefined) return '';
    throw invalid(`unable to configure the berth daemon with file ${configFile}: ${err.message}`);
  });
  if (text.trim()) {
    try {
      file = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw invalid(`unable to configure the berth daemon with file ${configFile}: ${(err as Error).message}`);
    }
  }
  const unknown = Object.keys(file).filter((k) => !knownFileKeys.has(k));
  if (unknown.length) throw invalid(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  const both = Object.keys(values).filter((k) => k !== 'config-file' && k in file);
  if (both.length) {
    const detail = both.map((k) => `${k}: (from flag: ${String(values[k])}, from file: ${String(file[k])})`).join(', ');
    throw invalid(`the following directives are specified both as a flag and in the configuration file: ${detail}`);
  }
  const get = <T>(key: string, dflt: T): T => (values[key] ?? file[key] ?? dflt) as T;
  const execRoot = get('exec-root', '/run/berth');
  return {
    hosts: get<string[]>('hosts', ['unix:///run/berth/berth.sock']),
    dataRoot: get('data-root', (file.graph as string) ?? '/var/lib/berth'),
    execRoot,
    pidfile: get('pidfile', `${execRoot}/berthd.pid`),
    cgroupParent: get('cgroup-parent', '/berth'),
    debug: get<boolean>('debug', false) || get<string>('log-level', 'info') === 'debug',
    group: get('group', ''),
    configFile,
    raw: file,
    runtimes: runtimesConfig(values.runtimes as string[] | undefined, file.runtimes),
    defaultRuntime: get<string | undefined>('default-runtime', undefined),
  };
}

// --add-runtime name=path, or daemon.json's {"name": {"path": ..., "runtimeArgs": [...]}}.
export function runtimesConfig(flagValues: string[] | undefined, fileValue: unknown): Record<string, RuntimeSpec> {
  const out: Record<string, RuntimeSpec> = {};
  for (const v of flagValues ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw invalid(`runtime ${v} is not in the format runtime=path`);
    out[v.slice(0, eq)] = { path: v.slice(eq + 1) };
  }
  if (fileValue === undefined || fileValue === null) return out;
  if (typeof fileValue !== 'object' || Array.isArray(fileValue)) throw invalid('runtimes must be an object of {"name": {"path": ...}}');
  for (const [name, spec] of Object.entries(fileValue as Record<string, unknown>)) {
    const s = spec as { path?: unknown; runtimeArgs?: unknown } | null;
    if (!s || typeof s.path !== 'string') throw invalid(`runtime ${name}: path is required`);
    out[name] = { path: s.path, ...(Array.isArray(s.runtimeArgs) ? { runtimeArgs: s.runtimeArgs.map(String) } : {}) };
  }
  return out;
}
