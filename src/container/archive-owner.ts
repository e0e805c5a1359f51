import { invalid } from '../util/errors.js';
import { parseGroup, parsePasswd } from '../runtime/user.js';

// `docker cp -a` into a container with a Config.User: every extracted file is owned by that
// user, looked up in the container's own /etc/passwd and /etc/group as moby's getUIDGID
// does (a numeric user missing from passwd keeps gid 0, as `docker run --user` would; a
// name that cannot be found is an error).

export interface Owner {
  uid: number;
  gid: number;
}

export type ReadEtc = (file: 'passwd' | 'group') => Promise<string | null>;

// Go's strconv.ParseUint(s, 10, 32) with the MaxInt32 bound moby adds.
function numericId(s: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n <= 2 ** 31 - 1 ? n : null;
}

export async function ownerForUser(spec: string, readEtc: ReadEtc): Promise<Owner> {
  const colon = spec.indexOf(':');
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? '' : spec.slice(colon + 1);
  const owner: Owner = { uid: 0, gid: 0 };
  if (userPart !== '') {
    const passwd = await readEtc('passwd');
    const uid = numericId(userPart);
    const hit = parsePasswd(passwd ?? '').find((u) => (uid !== null ? u.uid === uid : u.name === userPart));
    if (hit) {
      owner.uid = hit.uid;
      owner.gid = hit.gid;
    } else if (uid !== null) {
      owner.uid = uid;
    } else {
      const why = passwd === null ? 'open /etc/passwd: no such file or directory' : 'no matching entries in passwd file';
      throw invalid(`failed to look up user ${JSON.stringify(userPart)} in container: ${why}`);
    }
  }
  if (groupPart !== '') {
    const gid = numericId(groupPart);
    if (gid !== null) {
      owner.gid = gid;
    } else {
      const group = await readEtc('group');
      const hit = parseGroup(group ?? '').find((g) => g.name === groupPart);
      const why = group === null ? 'open /etc/group: no such file or directory' : 'no matching entries in group file';
      if (!hit) throw invalid(`failed to look up group ${JSON.stringify(groupPart)} in container: ${why}`);
      owner.gid = hit.gid;
    }
  }
  return owner;
}
