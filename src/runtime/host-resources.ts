import { access, readdir, readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { invalid } from '../util/errors.js';
import { devMajor, devMinor, readHostDevices, type OciDevice, type OciDeviceRule } from './oci-spec.js';
import { parseDeviceCgroupRule, type CgroupSupport, type DeviceMapping, type DeviceNumbers, type ResourceConfig, type Ulimit } from './resources.js';

// What this host's cgroups and limits allow, read once from /sys and /proc (moby's
// sysinfo), and the device lookups limits need.

const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const readTrim = (p: string): Promise<string> => readFile(p, 'utf8').then((s) => s.trim(), () => '');

// cgroup v2 has memory.swap.max only with swap accounting, and never in the root cgroup:
// asked of berthd's own cgroup, or of the root's children when berthd runs in the root
// (moby asks its own cgroup only). Without it runc fails to write a swap limit, so
// -m must then limit memory alone, with Docker's warning.
async function swapAccountingV2(root: string, selfCgroup: string): Promise<boolean> {
  const own = /^0::(\/.*)$/m.exec(await readTrim(selfCgroup))?.[1] ?? '/';
  const dirs = own !== '/' ? [join(root, own)] : (await readdir(root, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => join(root, e.name));
  for (const dir of dirs) if (await exists(join(dir, 'memory.swap.max'))) return true;
  return false;
}

export async function readCgroupSupport(root = '/sys/fs/cgroup', selfCgroup = '/proc/self/cgroup'): Promise<CgroupSupport> {
  const ncpu = availableParallelism();
  const v2 = await exists(join(root, 'cgroup.controllers'));
  if (v2) {
    const ctrls = new Set((await readTrim(join(root, 'cgroup.controllers'))).split(/\s+/));
    const cpusetCpus = (await readTrim(join(root, 'cpuset.cpus.effective'))) || `0-${ncpu - 1}`;
    return {
      version: 2,
      memoryLimit: ctrls.has('memory'),
      swapLimit: ctrls.has('memory') && (await swapAccountingV2(root, selfCgroup)),
      memoryReservation: ctrls.has('memory'),
      memorySwappiness: false,
      oomKillDisable: false,
      kernelMemory: false,
      pidsLimit: ctrls.has('pids'),
      cpuShares: ctrls.has('cpu'),
      cpuCfs: ctrls.has('cpu'),
      cpuRealtime: false,
      cpuset: ctrls.has('cpuset'),
      blkioWeight: ctrls.has('io'),
      blkioWeightDevice: ctrls.has('io'),
      blkioThrottle: ctrls.has('io'),
      cpus: cpusetCpus,
      mems: (await readTrim(join(root, 'cpuset.mems.effective'))) || '0',
      ncpu,
    };
  }
  const has = (sub: string, file: string): Promise<boolean> => exists(join(root, sub, file));
  const [memoryLimit, swapLimit, memoryReservation, memorySwappiness, oomKillDisable, kernelMemory, pidsLimit, cpuShares, cpuCfs, cpuRealtime, cpuset, weight, bfqWeight, weightDevice, throttle] =
    await Promise.all([
      has('memory', 'memory.limit_in_bytes'),
      has('memory', 'memory.memsw.limit_in_bytes'),
      has('memory', 'memory.soft_limit_in_bytes'),
      has('memory', 'memory.swappiness'),
      has('memory', 'memory.oom_control'),
      has('memory', 'memory.kmem.limit_in_bytes'),
      exists(join(root, 'pids')),
      has('cpu', 'cpu.shares'),
      has('cpu', 'cpu.cfs_quota_us'),
      has('cpu', 'cpu.rt_runtime_us'),
      has('cpuset', 'cpuset.cpus'),
      has('blkio', 'blkio.weight'),
      has('blkio', 'blkio.bfq.weight'),
      has('blkio', 'blkio.weight_device'),
      has('blkio', 'blkio.throttle.read_bps_device'),
    ]);
  return {
    version: 1,
    memoryLimit, swapLimit, memoryReservation, memorySwappiness, oomKillDisable, kernelMemory, pidsLimit,
    cpuShares, cpuCfs, cpuRealtime, cpuset,
    // Block I/O weight needs the CFQ or BFQ scheduler; without it runc has no file to write.
    blkioWeight: weight || bfqWeight,
    blkioWeightDevice: weightDevice,
    blkioThrottle: throttle,
    cpus: (await readTrim(join(root, 'cpuset', 'cpuset.cpus'))) || `0-${ncpu - 1}`,
    mems: (await readTrim(join(root, 'cpuset', 'cpuset.mems'))) || '0',
    ncpu,
  };
}

// ---- rlimits ---------------------------------------------------------------------------

// --ulimit names → the rows of /proc/self/limits.
const LIMIT_ROWS: Record<string, string> = {
  core: 'Max core file size', cpu: 'Max cpu time', data: 'Max data size', fsize: 'Max file size',
  locks: 'Max file locks', memlock: 'Max locked memory', msgqueue: 'Max msgqueue size', nice: 'Max nice priority',
  nofile: 'Max open files', nproc: 'Max processes', rss: 'Max resident set', rtprio: 'Max realtime priority',
  rttime: 'Max realtime timeout', sigpending: 'Max pending signals', stack: 'Max stack size',
};

export interface HostLimits {
  hard: Record<string, number>; // by --ulimit name; absent = unlimited
  canRaise: boolean; // CAP_SYS_RESOURCE in berthd's effective set
}

export function parseLimits(text: string): Record<string, number> {
  const hard: Record<string, number> = {};
  for (const [name, row] of Object.entries(LIMIT_ROWS)) {
    const line = text.split('\n').find((l) => l.startsWith(row + ' '));
    const fields = line?.slice(row.length).trim().split(/\s+/);
    if (fields && fields[1] !== undefined && fields[1] !== 'unlimited') hard[name] = Number(fields[1]);
  }
  return hard;
}

const CAP_SYS_RESOURCE = 24n;

export async function readHostLimits(): Promise<HostLimits> {
  const [limits, status] = await Promise.all([readFile('/proc/self/limits', 'utf8'), readFile('/proc/self/status', 'utf8')]);
  const eff = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status)?.[1] ?? '0';
  return { hard: parseLimits(limits), canRaise: ((BigInt('0x' + eff) >> CAP_SYS_RESOURCE) & 1n) === 1n };
}

// Without CAP_SYS_RESOURCE nothing may raise a hard limit: runc would fail at start with
// "operation not permitted"; say why at create instead.
export function checkUlimits(ulimits: Ulimit[] | null | undefined, host: HostLimits): void {
  if (host.canRaise) return;
  for (const u of ulimits ?? []) {
    const max = host.hard[u.Name];
    if (max !== undefined && (u.Hard > max || u.Hard < 0)) {
      throw invalid(`ulimit ${u.Name}: hard limit ${u.Hard < 0 ? 'unlimited' : u.Hard} is above the host's hard limit ${max} (berthd cannot raise it without CAP_SYS_RESOURCE)`);
    }
  }
}

// ---- devices -----------------------------------------------------------------------------

export async function deviceNumbers(paths: string[]): Promise<DeviceNumbers> {
  const out = new Map<string, { major: number; minor: number }>();
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      throw invalid(`stat ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    if (!st.isBlockDevice() && !st.isCharacterDevice()) throw invalid(`${p} is not a block device`);
    out.set(p, { major: devMajor(st.rdev), minor: devMinor(st.rdev) });
  }
  return out;
}

export interface ContainerDevices {
  nodes: OciDevice[]; // made in the container's /dev
  rules: OciDeviceRule[]; // allowed in its devices cgroup
}

// --device and --device-cgroup-rule (moby's WithDevices): a device node, or every device
// under a directory, at the container path, allowed with the given permissions.
export async function containerDevices(r: ResourceConfig): Promise<ContainerDevices> {
  const nodes: OciDevice[] = [];
  const rules: OciDeviceRule[] = [];
  for (const d of r.Devices ?? []) {
    const fail = (why: string): Error => invalid(`error gathering device information while adding custom device ${JSON.stringify(d.PathOnHost)}: ${why}`);
    let st;
    try {
      st = await stat(d.PathOnHost);
    } catch (err) {
      throw fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message);
    }
    const found: OciDevice[] = st.isDirectory()
      ? (await readHostDevices(d.PathOnHost)).map((dev) => ({ ...dev, path: d.PathInContainer + dev.path.slice(d.PathOnHost.replace(/\/+$/, '').length) }))
      : st.isBlockDevice() || st.isCharacterDevice()
        ? [{ path: d.PathInContainer, type: st.isBlockDevice() ? 'b' : 'c', major: devMajor(st.rdev), minor: devMinor(st.rdev), fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid }]
        : [];
    if (found.length === 0) throw fail('not a device node');
    for (const dev of found) {
      nodes.push(dev);
      rules.push({ allow: true, type: dev.type === 'b' ? 'b' : 'c', major: dev.major, minor: dev.minor, access: d.CgroupPermissions || 'rwm' });
    }
  }
  for (const rule of r.DeviceCgroupRules ?? []) rules.push(parseDeviceCgroupRule(rule));
  return { nodes, rules };
}
