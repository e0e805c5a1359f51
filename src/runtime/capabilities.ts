import { readFile } from 'node:fs/promises';
import { invalid } from '../util/errors.js';

// Linux capability names indexed by their number (include/uapi/linux/capability.h).
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID',
  'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

// Docker's default set (moby oci/defaults.go).
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const KNOWN = new Set(CAPABILITY_NAMES);

// The CapBnd mask of /proc/<pid>/status as capability names.
export function parseCapMask(hex: string): string[] {
  const mask = BigInt('0x' + hex.trim());
  return CAPABILITY_NAMES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n);
}

// The capabilities this host can hand to a container: a container can never get one
// outside berthd's bounding set, and runc fails "unable to apply caps" if asked to.
export async function readBoundingCaps(statusPath = '/proc/self/status'): Promise<string[]> {
  const status = await readFile(statusPath, 'utf8');
  const m = /^CapBnd:\s*([0-9a-fA-F]+)$/m.exec(status);
  if (!m) throw new Error(`no CapBnd line in ${statusPath}`);
  return parseCapMask(m[1]);
}

// Docker accepts "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN", and "ALL".
export function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return 'ALL';
  const full = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!KNOWN.has(full)) throw invalid(`unknown capability: "${full}"`);
  return full;
}

// moby's caps.TweakCapabilities: privileged gets everything; "ALL" in --cap-add means every
// capability but the dropped ones; "ALL" in --cap-drop means only the added ones; otherwise
// drop from the defaults, then add. The result is limited to the host's bounding set.
export function effectiveCaps(opts: { privileged: boolean; capAdd: string[]; capDrop: string[]; bounding: string[] }): string[] {
  const bounding = new Set(opts.bounding);
  const inHost = (c: string): boolean => bounding.has(c);
  if (opts.privileged) return CAPABILITY_NAMES.filter(inHost);
  const adds = opts.capAdd.map(normalizeCap);
  const drops = opts.capDrop.map(normalizeCap);
  let caps: string[];
  if (adds.includes('ALL')) {
    caps = CAPABILITY_NAMES.filter((c) => !drops.includes(c));
  } else if (drops.includes('ALL')) {
    caps = adds;
  } else {
    caps = [...DOCKER_DEFAULT_CAPS.filter((c) => !drops.includes(c)), ...adds];
  }
  return [...new Set(caps)].filter(inHost);
}
