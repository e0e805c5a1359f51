import path from 'node:path';
import { parseGoBool } from '../flags.js';
import { ramInBytes } from '../../util/units.js';
import { parseCsvRecord } from './validators.js';

// --mount (docker's opts.MountOpt) and -v (internal/volumespec), parsed client
// side exactly as docker does before the request is sent.

export interface Mount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: {
    Propagation?: string;
    NonRecursive?: boolean;
    ReadOnlyNonRecursive?: boolean;
    ReadOnlyForceRecursive?: boolean;
  };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  ImageOptions?: { Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

function setOnMap(target: Record<string, string>, value: string): void {
  const i = value.indexOf('=');
  const k = i < 0 ? value : value.slice(0, i);
  if (k !== '') target[k] = i < 0 ? '' : value.slice(i + 1);
}

export function parseMount(value: string, cwd: string = process.cwd()): Mount {
  const fields = parseCsvRecord(value);
  const mount: Mount = { Type: 'volume' };
  const volumeOptions = (): NonNullable<Mount['VolumeOptions']> => {
    mount.VolumeOptions ??= { Labels: {} };
    mount.VolumeOptions.DriverConfig ??= {};
    return mount.VolumeOptions;
  };
  const bindOptions = (): NonNullable<Mount['BindOptions']> => (mount.BindOptions ??= {});
  const tmpfsOptions = (): NonNullable<Mount['TmpfsOptions']> => (mount.TmpfsOptions ??= {});
  const bool = (key: string, val: string, msg = `invalid value for ${key}: ${val}`): boolean => {
    try {
      return parseGoBool(val);
    } catch {
      throw new Error(msg);
    }
  };

  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          mount.ReadOnly = true;
          continue;
        case 'volume-nocopy':
          volumeOptions().NoCopy = true;
          continue;
        case 'bind-nonrecursive':
          bindOptions().NonRecursive = true;
          continue;
        default:
          throw new Error(`invalid field '${field}' must be a key=value pair`);
      }
    }
    switch (key) {
      case 'type':
        mount.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        mount.Source = !path.isAbsolute(val) && val.startsWith('.') ? path.resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        mount.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool(key, val);
        break;
      case 'bind-recursive':
        switch (val) {
          case 'enabled':
            break;
          case 'disabled':
            bindOptions().NonRecursive = true;
            break;
          case 'writable':
            bindOptions().ReadOnlyNonRecursive = true;
            break;
          case 'readonly':
            bindOptions().ReadOnlyForceRecursive = true;
            break;
          default:
            throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
        }
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = bool(key, val, `invalid value for volume-nocopy: ${val}`);
        break;
      case 'volume-label':
        setOnMap(volumeOptions().Labels as Record<string, string>, val);
        break;
      case 'volume-driver':
        (volumeOptions().DriverConfig as { Name?: string }).Name = val;
        break;
      case 'volume-opt': {
        const dc = volumeOptions().DriverConfig as { Options?: Record<string, string> };
        setOnMap((dc.Options ??= {}), val);
        break;
      }
      case 'image-subpath':
        (mount.ImageOptions ??= {}).Subpath = val;
        break;
      case 'tmpfs-size':
        try {
          tmpfsOptions().SizeBytes = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        // strconv.ParseUint(val, 8, 32): plain octal digits, no prefix.
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!mount.Type) throw new Error('type is required');
  if (!mount.Target) throw new Error('target is required');
  const mix = (opt: string, type: string): Error => new Error(`cannot mix '${opt}-*' options with mount type '${type}'`);
  if (mount.VolumeOptions && mount.Type !== 'volume') throw mix('volume', mount.Type);
  if (mount.ImageOptions && mount.Type !== 'image') throw mix('image', mount.Type);
  if (mount.BindOptions && mount.Type !== 'bind') throw mix('bind', mount.Type);
  if (mount.TmpfsOptions && mount.Type !== 'tmpfs') throw mix('tmpfs', mount.Type);
  if (mount.BindOptions?.ReadOnlyNonRecursive && !mount.ReadOnly) {
    throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
  }
  if (mount.BindOptions?.ReadOnlyForceRecursive) {
    if (!mount.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
    if (mount.BindOptions.Propagation !== 'rprivate') {
      throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
    }
  }
  return mount;
}

export interface VolumeSpec {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

// internal/volumespec.Parse, reduced to what `run -v` uses: the type and whether a
// source was given.
export function parseVolumeSpec(spec: string): VolumeSpec {
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if (spec.length <= 2) return { type: 'volume', source: '', target: spec };
  let source = '';
  let target = '';
  let buffer = '';
  let optionsSeen = false;
  const chars = [...spec, '\u0000'];
  for (const ch of chars) {
    const end = ch === '\u0000';
    if (ch === ':' && buffer.length === 1 && /\p{L}/u.test(buffer)) {
      buffer += ch; // a Windows drive letter
      continue;
    }
    if (ch !== ':' && !end) {
      buffer += ch;
      continue;
    }
    if (buffer.length === 0) throw new Error(`invalid spec: ${spec}: empty section between colons`);
    if (source === '' && end) target = buffer;
    else if (source === '') source = buffer;
    else if (target === '') target = buffer;
    else if (ch === ':') throw new Error(`invalid spec: ${spec}: too many colons`);
    else optionsSeen = true;
    buffer = '';
  }
  void optionsSeen;
  let type: 'bind' | 'volume' = 'volume';
  if (source !== '' && isFilePath(source)) type = 'bind';
  return { type, source, target };
}

function isFilePath(source: string): boolean {
  if ('./~'.includes(source[0])) return true;
  if ([...source].length === 1) return false;
  if (source.startsWith('\\\\')) return true;
  return /^\p{L}:/u.test(source);
}
