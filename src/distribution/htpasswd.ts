import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { bcryptVerify, parseBcryptHash } from './bcrypt.js';

// htpasswd files as distribution's htpasswd auth reads them: one `user:hash` a line,
// bcrypt hashes ($2y$ from `htpasswd -B`, $2a$, $2b$). Apache's {SHA} lines are
// accepted too; crypt(3) and $apr1$ lines are not (distribution refuses them as well).

export type HtpasswdEntries = Map<string, string>;

export function parseHtpasswd(text: string): HtpasswdEntries {
  const entries: HtpasswdEntries = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    // The first line for a user wins, as in Apache's and distribution's readers.
    const user = line.slice(0, colon);
    if (!entries.has(user)) entries.set(user, line.slice(colon + 1));
  }
  return entries;
}

export function verifyHtpasswdHash(password: string, hash: string): boolean {
  if (hash.startsWith('{SHA}')) {
    const expected = Buffer.from(hash.slice(5));
    const actual = Buffer.from(createHash('sha1').update(password, 'utf8').digest('base64'));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }
  if (parseBcryptHash(hash)) return bcryptVerify(password, hash);
  return false;
}

// The file as last read, re-read when it changes so users can be added while the
// registry runs. Successful checks are remembered: a docker push sends Basic
// credentials with every request, and each bcrypt check costs tens of milliseconds.
export class HtpasswdFile {
  private entries: HtpasswdEntries = new Map();
  private stamp = '';
  private readonly verified = new Map<string, string>();

  constructor(readonly path: string) {}

  async load(): Promise<void> {
    const st = await stat(this.path);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (stamp === this.stamp) return;
    this.entries = parseHtpasswd(await readFile(this.path, 'utf8'));
    this.stamp = stamp;
    this.verified.clear();
  }

  async check(user: string, password: string): Promise<boolean> {
    await this.load();
    const hash = this.entries.get(user);
    if (hash === undefined) return false;
    const key = `${user}\0${createHash('sha256').update(password, 'utf8').digest('hex')}`;
    if (this.verified.get(key) === hash) return true;
    if (!verifyHtpasswdHash(password, hash)) return false;
    this.verified.set(key, hash);
    return true;
  }
}
