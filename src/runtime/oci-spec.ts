import { readFile, readdir, lstat } from 'node:fs/promises';
import { INIT_PATH_IN_CONTAINER } from './init-binary.js';
import { join } from 'node:path';
import type { SpecInput, SpecMount } from './types.js';
import type { ResolvedUser } from './user.js';
import { effectiveCaps, readBoundingCaps } from './capabilities.js';
import { ociRlimits, type OciLinuxResources } from './resources.js';

// The subset of the OCI runtime spec (v1.0.2, what runc 1.1 reads) that berth writes.

export interface OciUser { uid: number; gid: number; additionalGids?: number[] }
export interface OciCapabilities { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] }
export interface OciRlimit { type: string; hard: number; soft: number }
export interface OciProcess {
  terminal: boolean;
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  rlimits: OciRlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  consoleSize?: { height: number; width: number };
}
export interface OciRoot { path: string; readonly: boolean }
export interface OciMount { destination: string; type: string; source: string; options: string[] }
export interface OciNamespace { type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'user' | 'cgroup'; path?: string }
export interface OciDevice { path: string; type: 'c' | 'b' | 'u' | 'p'; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
export interface OciDeviceRule { allow: boolean; type?: 'a' | 'c' | 'b'; major?: number; minor?: number; access: string }
export interface OciResources extends OciLinuxResources { devices: OciDeviceRule[] }
export interface OciLinux {
  namespaces: OciNamespace[];
  devices: OciDevice[];
  resources: OciResources;
  cgroupsPath: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl?: Record<string, string>;
  rootfsPropagation?: string;
}
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: OciRoot;
  hostname: string;
  domainname?: string;
  mounts: OciMount[];
  linux: OciLinux;
}

export interface HostInfo {
  boundingCaps: string[];
  // RLIMIT_NOFILE hard limit of the daemon: containers get it as soft and hard. Docker asks
  // for 1048576, which fails where the host's own limit is lower (20000 on berth's hosts).
  nofileLimit?: number;
  // Character and block devices of the host, for --privileged (see readHostDevices).
  devices?: OciDevice[];
}

// RLIM_INFINITY is 2^64-1, a uint64 for runc, beyond what a JS number holds exactly. Docker
// sends --ulimit X=-1 as uint64(-1); berth keeps any negative rlimit (or the inexact float a
// config.json read back parses to) in memory and writes the exact literal.
const RLIM_INFINITY = '18446744073709551615';
// A NUL cannot occur in any string of a spec (args, env and paths are C strings).
const INFINITY_TOKEN = '\u0000rlim-infinity';

// JSON of a spec (or an exec's process) as runc must read it.
export function ociJson(value: unknown): string {
  return JSON.stringify(value, function (this: { type?: unknown }, key: string, v: unknown) {
    const unlimited = typeof this.type === 'string' && this.type.startsWith('RLIMIT_') && (key === 'hard' || key === 'soft') && typeof v === 'number' && (v < 0 || v >= 2 ** 64);
    return unlimited ? INFINITY_TOKEN : v;
  }).replaceAll(JSON.stringify(INFINITY_TOKEN), RLIM_INFINITY);
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export const DOCKER_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DOCKER_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

// The devices every container gets (runc would add the same ones, and drops its own copy
// of any listed here).
const stddev = (path: string, major: number, minor: number): OciDevice => ({ path, type: 'c', major, minor, fileMode: 0o666, uid: 0, gid: 0 });
export const STANDARD_DEVICES: readonly OciDevice[] = [
  stddev('/dev/null', 1, 3), stddev('/dev/zero', 1, 5), stddev('/dev/full', 1, 7),
  stddev('/dev/random', 1, 8), stddev('/dev/urandom', 1, 9), stddev('/dev/tty', 5, 0),
];

// moby's default device cgroup rules (runc adds pts and ptmx itself).
const cdev = (major: number, minor: number, allow = true): OciDeviceRule => ({ allow, type: 'c', major, minor, access: 'rwm' });
export const DOCKER_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  cdev(1, 5), // zero
  cdev(1, 3), // null
  cdev(1, 9), // urandom
  cdev(1, 8), // random
  cdev(1, 7), // full
  cdev(5, 0), // tty
  cdev(5, 1), // console
  cdev(10, 229, false), // fuse
];

// moby's getUser: the primary group leads the supplementary ones, so `id` shows it in
// groups= as on Docker (runc sets exactly the list it is given).
export function ociUser(user: ResolvedUser): OciUser {
  return { uid: user.uid, gid: user.gid, additionalGids: [...new Set([user.gid, ...user.additionalGids])] };
}

function envKey(kv: string): string {
  const i = kv.indexOf('=');
  return i < 0 ? kv : kv.slice(0, i);
}

// moby's ReplaceOrAppendEnvValues: later values override earlier keys in place; a bare
// name (no "=", as docker-py sends for {"B": None}) unsets it and is never passed on
// (runc refuses it: "invalid environment variable").
export function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = [...base];
  for (const kv of overrides) {
    const i = out.findIndex((e) => envKey(e) === envKey(kv));
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out.filter((e) => e.includes('='));
}

// Docker's order: PATH, HOSTNAME, TERM (with a tty), then the container's env over them;
// HOME from the user's passwd entry when the image and -e left it unset (runc does the same).
export function buildEnv(input: Pick<SpecInput, 'env' | 'hostname' | 'tty'>, home: string): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${input.hostname}`];
  if (input.tty) base.push('TERM=xterm');
  const env = mergeEnv(base, input.env);
  if (!env.some((e) => envKey(e) === 'HOME')) env.push(`HOME=${home}`);
  return env;
}

function defaultMounts(input: SpecInput): OciMount[] {
  const sysRo = input.privileged ? 'rw' : 'ro';
  const shm = input.shmSize > 0 ? input.shmSize : DEFAULT_SHM_SIZE;
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysRo] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', sysRo] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // --ipc host shares the host's /dev/shm too, as moby binds it for that mode.
    input.hostNamespaces?.includes('ipc')
      ? { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
      : { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`] },
  ];
}

// A user mount replaces a default one at the same place (as Docker lets -v /dev/shm win).
function mergeMounts(defaults: OciMount[], extra: SpecMount[]): OciMount[] {
  const taken = new Set(extra.map((m) => m.destination.replace(/\/+$/, '') || '/'));
  return [
    ...defaults.filter((m) => !taken.has(m.destination)),
    ...extra.map((m) => ({ destination: m.destination, type: m.type, source: m.source, options: [...m.options] })),
  ];
}

function namespaces(netns: SpecInput['netns'], shared: SpecInput['hostNamespaces'] = []): OciNamespace[] {
  const own: Array<OciNamespace['type']> = ['pid', 'ipc', 'uts', 'mount'];
  const ns: OciNamespace[] = own.filter((t) => !(shared as readonly string[]).includes(t)).map((type) => ({ type }));
  if (netns.mode === 'new') ns.push({ type: 'network' });
  else if (netns.mode === 'path') ns.push({ type: 'network', path: netns.path });
  return ns;
}

// runc applies it only with a terminal and when both sides are non-zero.
function ociConsoleSize(input: SpecInput): { consoleSize?: { height: number; width: number } } {
  const size = input.consoleSize;
  if (!input.tty || !Array.isArray(size)) return {};
  const [height, width] = size;
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) return {};
  return { consoleSize: { height: Math.min(height, 65535), width: Math.min(width, 65535) } };
}

function initMount(init: string | undefined): SpecMount[] {
  return init ? [{ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: init, options: ['rbind', 'ro'] }] : [];
}

// What Docker falls back to when the image has no passwd entry for the user.
const DEFAULT_USER: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };

// Pure: everything read from disk (host capabilities and limits, the image's passwd) comes in.
export function buildSpec(input: SpecInput, host: HostInfo, user: ResolvedUser = DEFAULT_USER): OciSpec {
  const caps = effectiveCaps({ privileged: input.privileged, capAdd: input.capAdd, capDrop: input.capDrop, bounding: host.boundingCaps });
  const defaultRlimits: OciRlimit[] = host.nofileLimit
    ? [{ type: 'RLIMIT_NOFILE', hard: host.nofileLimit, soft: host.nofileLimit }]
    : [];
  const rlimits = ociRlimits(input.ulimits, defaultRlimits);
  const baseRules = input.privileged ? [{ allow: true, access: 'rwm' }] : DOCKER_DEVICE_RULES.map((r) => ({ ...r }));
  const devices = input.privileged && host.devices ? host.devices.map((d) => ({ ...d })) : STANDARD_DEVICES.map((d) => ({ ...d }));
  for (const d of input.devices ?? []) {
    const i = devices.findIndex((x) => x.path === d.path);
    if (i >= 0) devices[i] = { ...d };
    else devices.push({ ...d });
  }
  const spec: OciSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: input.tty,
      user: ociUser(user),
      args: input.init ? [INIT_PATH_IN_CONTAINER, '--', ...input.args] : [...input.args],
      env: buildEnv(input, user.home),
      cwd: input.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      rlimits,
      // Docker leaves no_new_privs off; oomScoreAdj stays unset: lowering it needs CAP_SYS_RESOURCE.
      noNewPrivileges: false,
      ...ociConsoleSize(input),
    },
    root: { path: input.rootfs, readonly: input.readonlyRootfs },
    hostname: input.hostname,
    mounts: mergeMounts(defaultMounts(input), [...input.mounts, ...initMount(input.init)]),
    linux: {
      namespaces: namespaces(input.netns, input.hostNamespaces),
      devices,
      resources: { ...input.resources, devices: [...baseRules, ...(input.resources?.devices ?? [])] },
      cgroupsPath: input.cgroupsPath,
      maskedPaths: input.privileged ? [] : [...DOCKER_MASKED_PATHS],
      readonlyPaths: input.privileged ? [] : [...DOCKER_READONLY_PATHS],
    },
  };
  if (input.domainname) spec.domainname = input.domainname;
  if (input.sysctl && Object.keys(input.sysctl).length > 0) spec.linux.sysctl = { ...input.sysctl };
  if (input.rootfsPropagation) spec.linux.rootfsPropagation = input.rootfsPropagation;
  return spec;
}

// The daemon's RLIMIT_NOFILE hard limit ("Max open files" in /proc/self/limits).
export async function readNofileLimit(limitsPath = '/proc/self/limits'): Promise<number | undefined> {
  const text = await readFile(limitsPath, 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m || m[2] === 'unlimited') return undefined;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? n : undefined;
}

// Linux's new_encode_dev layout of st_rdev.
export function devMajor(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
export function devMinor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

// runc's devices.HostDevices: every char/block device under /dev but the per-container
// trees and the console, which the runtime sets up itself.
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
export async function readHostDevices(dir = '/dev'): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    let st;
    try {
      st = await lstat(path);
    } catch {
      continue;
    }
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...(await readHostDevices(path)));
      continue;
    }
    if (path === '/dev/console') continue;
    const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : null;
    if (!type) continue;
    out.push({ path, type, major: devMajor(st.rdev), minor: devMinor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid });
  }
  return out;
}

export async function readHostInfo(withDevices = false): Promise<HostInfo> {
  const [boundingCaps, nofileLimit, devices] = await Promise.all([
    readBoundingCaps(),
    readNofileLimit(),
    withDevices ? readHostDevices() : Promise.resolve(undefined),
  ]);
  return { boundingCaps, nofileLimit, devices };
}
