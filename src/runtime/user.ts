import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../util/errors.js';

// Docker's -u resolution (runc libcontainer/user GetExecUser + GetAdditionalGroups, as
// moby's getUser calls them) against the image's /etc/passwd and /etc/group.

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const MAX_ID = 2 ** 31 - 1;
const RANGE_ERROR = 'uids and gids must be in range 0-2147483647';

// Go's strconv.Atoi: optional sign, decimal digits only.
function atoi(s: string): number | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

// Fields past the end stay '', and a non-numeric id field parses as 0, as libcontainer's parseLine does.
function fields(line: string): string[] {
  return line.split(':');
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = fields(t);
    out.push({ name: f[0] ?? '', uid: atoi(f[2] ?? '') ?? 0, gid: atoi(f[3] ?? '') ?? 0, home: f[5] ?? '' });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = fields(t);
    const list = f[3] ?? '';
    out.push({ name: f[0] ?? '', gid: atoi(f[2] ?? '') ?? 0, members: list === '' ? [] : list.split(',') });
  }
  return out;
}

function checkRange(id: number): number {
  if (id < 0 || id > MAX_ID) throw invalid(RANGE_ERROR);
  return id;
}

// passwd/group are the file contents, or null when the file does not exist in the image
// (numeric ids still work then; names do not).
export function resolveUserSpec(spec: string, passwd: string | null, group: string | null, groupAdd: string[] = []): ResolvedUser {
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1).split(':')[0];
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);

  const user: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  const users = passwd === null ? [] : parsePasswd(passwd).filter((u) =>
    userArg === '' ? u.uid === user.uid : uidArg !== null ? u.uid === uidArg : u.name === userArg);

  let matchedName = '';
  if (users.length > 0) {
    matchedName = users[0].name;
    user.uid = users[0].uid;
    user.gid = users[0].gid;
    user.home = users[0].home;
  } else if (userArg !== '') {
    if (uidArg === null) throw invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
    user.uid = checkRange(uidArg);
  }

  if (groupArg !== '' || matchedName !== '') {
    const groups = group === null ? [] : parseGroup(group).filter((g) =>
      groupArg === '' ? g.members.includes(matchedName) : gidArg !== null ? g.gid === gidArg : g.name === groupArg);
    if (groupArg !== '') {
      if (groups.length > 0) user.gid = groups[0].gid;
      else if (gidArg === null) throw invalid(`unable to find group ${groupArg}: no matching entries in group file`);
      else user.gid = checkRange(gidArg);
    } else {
      user.additionalGids = groups.map((g) => g.gid);
    }
  }

  user.additionalGids = dedupe([...user.additionalGids, ...additionalGroups(groupAdd, group)]);
  return user;
}

// --group-add: names must exist in /etc/group; numbers are taken as they are.
export function additionalGroups(names: string[], group: string | null): number[] {
  const entries = group === null ? [] : parseGroup(group);
  const out: number[] = [];
  for (const ag of names) {
    const hit = entries.find((g) => g.name === ag || String(g.gid) === ag);
    if (hit) { out.push(hit.gid); continue; }
    const n = atoi(ag);
    if (n === null) throw invalid(`Unable to find group ${ag}`);
    out.push(checkRange(n));
  }
  return dedupe(out);
}

function dedupe(ids: number[]): number[] {
  return [...new Set(ids)];
}

async function readOptional(rootfs: string, path: string): Promise<string | null> {
  try {
    return await readFile(await resolveInRoot(rootfs, path), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw err;
  }
}

// Follows symlinks as if rootfs were '/': an image whose /etc/passwd links to an absolute
// path must not make the daemon read the host's file (the same concern as runc's securejoin).
export async function resolveInRoot(rootfs: string, path: string): Promise<string> {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') { done.pop(); continue; }
    const candidate = join(rootfs, ...done, part);
    let target: string | null = null;
    try {
      target = await readlink(candidate);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
    }
    if (target === null) { done.push(part); continue; }
    if (++hops > 40) throw Object.assign(new Error(`too many symlinks resolving ${path}`), { code: 'ELOOP' });
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return join(rootfs, ...done);
}

export async function resolveUser(rootfs: string, spec: string, groupAdd: string[] = []): Promise<ResolvedUser> {
  const [passwd, group] = await Promise.all([
    readOptional(rootfs, 'etc/passwd'),
    readOptional(rootfs, 'etc/group'),
  ]);
  return resolveUserSpec(spec, passwd, group, groupAdd);
}
