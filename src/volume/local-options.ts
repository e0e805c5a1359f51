import { invalid } from '../util/errors.js';
import type { DeviceMount } from './types.js';

// The local driver's -o options (moby's volume/local validateOpts): type, device and o
// describe a filesystem to mount as the volume (tmpfs, a block device, nfs...).
const VALID = new Set(['type', 'o', 'device', 'size']);
const MANDATORY: Array<[string, string[]]> = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

export function validateLocalOptions(opts: Record<string, string> | null | undefined): void {
  if (!opts) return;
  for (const key of Object.keys(opts)) if (!VALID.has(key)) throw invalid(`invalid option: ${JSON.stringify(key)}`);
  // Quotas need project quotas on the backing filesystem; berth does not set them up.
  if ('size' in opts) throw invalid('quota size requested but no quota support');
  for (const [opt, needs] of MANDATORY) {
    if (!(opt in opts)) continue;
    for (const n of needs) if (!(n in opts)) throw invalid(`missing required option: ${JSON.stringify(n)}`);
  }
}

// The mount a volume with type/device options needs: made at its _data while containers
// run with it (VolumeService.activate), and bound into them from there.
export function deviceMount(opts: Record<string, string> | null | undefined): DeviceMount | null {
  if (!opts || (!opts.type && !opts.device)) return null;
  return {
    type: opts.type ?? '',
    device: opts.device ?? '',
    options: (opts.o ?? '').split(',').filter((o) => o !== ''),
  };
}
