import { posix } from 'node:path';
import { invalid } from '../util/errors.js';
import type { ApiMount, MountType } from './types.js';

// The daemon's reading of -v (HostConfig.Binds), --mount (HostConfig.Mounts), --tmpfs
// and --volumes-from, after moby's volume/mounts linux parser: same rules, same messages.
// Pure; whether a bind source exists is asked by the caller.

export interface ParsedMount {
  type: MountType;
  source: string; // bind: host path; volume: name ('' = anonymous)
  destination: string;
  rw: boolean;
  mode: string;
  propagation: string;
  copyData: boolean;
  driver: string;
  // --mount: a bind source must exist unless CreateMountpoint; -v creates it at start.
  bindSourceMustExist: boolean;
  createSource: boolean;
  nonRecursive: boolean;
  volumeLabels?: Record<string, string> | null;
  volumeOptions?: Record<string, string> | null;
  tmpfsOptions?: string;
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
const DEFAULT_PROPAGATION = 'rprivate';

export const cleanPath = (p: string): string => {
  const n = posix.normalize(p.replace(/\\/g, '/'));
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
};

export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const i = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATION_MODES.has(o) ? 2 : COPY_MODES.has(o) ? 3 : CONSISTENCY_MODES.has(o) ? 4 : -1;
    if (i < 0) return false;
    counts[i]++;
  }
  return counts.every((n) => n <= 1);
}

export function readWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

const propagationOf = (mode: string): string => mode.split(',').find((o) => PROPAGATION_MODES.has(o)) ?? '';

const mountConfigError = (type: string, msg: string): Error => invalid(`invalid mount config for type ${JSON.stringify(type)}: ${msg}`);
const invalidSpec = (raw: string): string => `invalid volume specification: '${raw}'`;

function validateTarget(type: string, target: string | undefined): void {
  if (!target) throw mountConfigError(type, 'field Target must not be empty');
  if (cleanPath(target) === '/') throw mountConfigError(type, "invalid specification: destination can't be '/'");
  if (!target.replace(/\\/g, '/').startsWith('/')) throw mountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

// moby's validateMountConfigImpl plus parseMountSpec.
export function parseApiMount(m: ApiMount, fromBinds = false): ParsedMount {
  const type = m.Type ?? '';
  const extra = (field: string): Error => mountConfigError(type, `field ${field} must not be specified`);
  if (type !== 'bind' && m.BindOptions) throw extra('BindOptions');
  if (type !== 'volume' && m.VolumeOptions) throw extra('VolumeOptions');
  if (type !== 'image' && m.ImageOptions) throw extra('ImageOptions');
  if (type !== 'tmpfs' && m.TmpfsOptions) throw extra('TmpfsOptions');
  if (type !== 'cluster' && m.ClusterOptions) throw extra('ClusterOptions');
  validateTarget(type, m.Target);
  const base = {
    destination: cleanPath(m.Target!),
    rw: !m.ReadOnly,
    mode: '',
    propagation: '',
    copyData: true,
    driver: '',
    bindSourceMustExist: false,
    createSource: false,
    nonRecursive: false,
  };
  switch (type) {
    case 'bind': {
      if (!m.Source) throw mountConfigError(type, 'field Source must not be empty');
      const prop = m.BindOptions?.Propagation ?? '';
      if (prop && !PROPAGATION_MODES.has(prop)) throw mountConfigError(type, `invalid propagation mode: ${prop}`);
      if (!m.Source.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
      const create = !!m.BindOptions?.CreateMountpoint;
      return {
        ...base,
        type: 'bind',
        source: cleanPath(m.Source),
        propagation: prop || DEFAULT_PROPAGATION,
        bindSourceMustExist: !fromBinds && !create,
        createSource: fromBinds || create,
        nonRecursive: !!m.BindOptions?.NonRecursive,
      };
    }
    case 'volume': {
      const vo = m.VolumeOptions;
      if (vo?.Subpath) {
        if (!m.Source) throw mountConfigError(type, 'must not set Subpath when using anonymous volumes');
        throw mountConfigError(type, 'volume subpaths are not supported by berth');
      }
      if (m.ReadOnly && !m.Source) throw mountConfigError(type, 'must not set ReadOnly mode when using anonymous volumes');
      return {
        ...base,
        type: 'volume',
        source: m.Source ?? '',
        driver: vo?.DriverConfig?.Name ?? '',
        copyData: !vo?.NoCopy,
        volumeLabels: vo?.Labels ?? null,
        volumeOptions: vo?.DriverConfig?.Options ?? null,
      };
    }
    case 'tmpfs':
      if (m.Source) throw extra('Source');
      return { ...base, type: 'tmpfs', source: '', tmpfsOptions: convertTmpfsOptions(type, m.TmpfsOptions, !!m.ReadOnly) };
    default:
      throw mountConfigError(type, 'mount type unknown');
  }
}

// moby's ParseMountRaw: SOURCE:TARGET[:MODE] or TARGET alone (an anonymous volume).
export function parseBind(raw: string, volumeDriver = ''): ParsedMount {
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw invalid(invalidSpec(raw));
  const spec: ApiMount = {};
  let mode = '';
  switch (arr.length) {
    case 1:
      spec.Target = arr[0];
      break;
    case 2:
      // TARGET:MODE is no volume: a volume needs a source to carry a mode.
      if (validMountMode(arr[1])) throw invalid(invalidSpec(raw));
      spec.Source = arr[0];
      spec.Target = arr[1];
      break;
    case 3:
      [spec.Source, spec.Target, mode] = arr as [string, string, string];
      break;
    default:
      throw invalid(invalidSpec(raw));
  }
  if (!validMountMode(mode)) throw invalid(`invalid mode: ${mode}`);
  spec.Type = spec.Source?.startsWith('/') ? 'bind' : 'volume';
  spec.ReadOnly = !readWrite(mode);
  if (volumeDriver && spec.Type === 'volume') spec.VolumeOptions = { DriverConfig: { Name: volumeDriver } };
  if (mode.split(',').includes('nocopy')) spec.VolumeOptions = { ...(spec.VolumeOptions ?? {}), NoCopy: true };
  const prop = propagationOf(mode);
  if (prop) spec.BindOptions = { Propagation: prop };
  let parsed: ParsedMount;
  try {
    parsed = parseApiMount(spec, true);
  } catch (err) {
    throw invalid(`${invalidSpec(raw)}: ${(err as Error).message}`);
  }
  return { ...parsed, mode };
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

// "container[:ro|rw]"; propagation and copy modes are refused as Docker refuses them.
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (spec === '') throw invalid('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { container, mode: 'rw' };
  if (!validMountMode(mode) || propagationOf(mode) || mode.split(',').includes('nocopy')) throw invalid(`invalid mode: ${mode}`);
  return { container, mode };
}

// moby's ValidateTmpfsMountDestination; berth asks the same of Config.Volumes paths.
export function validateDestination(dest: string): void {
  if (cleanPath(dest) === '/') throw invalid("invalid specification: destination can't be '/'");
  if (!dest.startsWith('/')) throw invalid(`invalid mount path: '${dest}' mount path must be absolute`);
}

// moby's ConvertTmpfsOptions: the --mount tmpfs fields as mount(8) data.
export function convertTmpfsOptions(type: string, opt: ApiMount['TmpfsOptions'], readOnly: boolean): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (opt?.Mode) out.push(`mode=${opt.Mode.toString(8)}`);
  if (opt?.SizeBytes) {
    let size = opt.SizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        size /= d;
        suffix = s;
        break;
      }
    }
    out.push(`size=${size}${suffix}`);
  }
  for (const o of opt?.Options ?? []) {
    if (o.length < 1 || o.length > 2) throw mountConfigError(type, 'invalid option array length');
    if (o[0] !== 'exec' && o[0] !== 'noexec') throw mountConfigError(type, `invalid option: ${o[0]}`);
    out.push(o.length === 1 ? o[0] : `${o[0]}=${o[1]}`);
  }
  return out.join(',');
}

// moby/sys/mount's flag table, reduced to what tells two options apart: options that
// set or clear the same flag collide, and so do all propagation modes.
const FLAG_KEYS: Record<string, string> = {
  ro: 'rdonly', rw: 'rdonly', suid: 'nosuid', nosuid: 'nosuid', dev: 'nodev', nodev: 'nodev',
  exec: 'noexec', noexec: 'noexec', sync: 'sync', async: 'sync', dirsync: 'dirsync', remount: 'remount',
  mand: 'mand', nomand: 'mand', atime: 'noatime', noatime: 'noatime', diratime: 'nodiratime', nodiratime: 'nodiratime',
  bind: 'bind', rbind: 'rbind', relatime: 'relatime', norelatime: 'relatime', strictatime: 'strictatime', nostrictatime: 'strictatime',
  private: 'propagation', rprivate: 'propagation', shared: 'propagation', rshared: 'propagation',
  slave: 'propagation', rslave: 'propagation', unbindable: 'propagation', runbindable: 'propagation',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

// moby/sys/mount MergeTmpfsOptions: later options win over earlier ones they collide with.
export function mergeTmpfsOptions(options: string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i];
    if (o === 'defaults') continue;
    const flag = FLAG_KEYS[o];
    if (flag) {
      if (!seenFlags.has(flag)) {
        out.unshift(o);
        seenFlags.add(flag);
      }
      continue;
    }
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA.has(key)) throw invalid(`invalid tmpfs option [${JSON.stringify(key)}${eq < 0 ? '' : ` ${JSON.stringify(o.slice(eq + 1))}`}]`);
    if (!seenData.has(key)) {
      out.unshift(o);
      seenData.add(key);
    }
  }
  return out;
}
