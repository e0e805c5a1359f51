import type { BigIntStats } from 'node:fs';
import { formatRfc3339Nano } from '../image/time.js';

// The X-Docker-Container-Path-Stat header of /containers/{id}/archive: base64 of the JSON
// of moby's container.PathStat. Its mode is a Go os.FileMode, not st_mode: the file type
// lives in the high bits (the docker CLI tests ModeDir, ModeSymlink, ModeDevice there).

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const ModeDir = 2 ** 31;
const ModeSymlink = 2 ** 27;
const ModeDevice = 2 ** 26;
const ModeNamedPipe = 2 ** 25;
const ModeSocket = 2 ** 24;
const ModeSetuid = 2 ** 23;
const ModeSetgid = 2 ** 22;
const ModeCharDevice = 2 ** 21;
const ModeSticky = 2 ** 20;

const S_IFMT = 0o170000;
const typeBits: Record<number, number> = {
  0o140000: ModeSocket,
  0o120000: ModeSymlink,
  0o100000: 0,
  0o060000: ModeDevice,
  0o040000: ModeDir,
  0o020000: ModeDevice + ModeCharDevice,
  0o010000: ModeNamedPipe,
};

// Go's fillFileStatFromSys. Sums, not `|`: JavaScript's bitwise operators are 32-bit signed.
export function goFileMode(stMode: number): number {
  let mode = (stMode & 0o777) + (typeBits[stMode & S_IFMT] ?? 0);
  if (stMode & 0o4000) mode += ModeSetuid;
  if (stMode & 0o2000) mode += ModeSetgid;
  if (stMode & 0o1000) mode += ModeSticky;
  return mode;
}

export function pathStat(name: string, st: BigIntStats, linkTarget: string): PathStat {
  return { name, size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: formatRfc3339Nano(st.mtimeNs), linkTarget };
}

export function encodePathStat(stat: PathStat): string {
  return Buffer.from(JSON.stringify(stat)).toString('base64');
}
