import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';

// What COPY and ADD put into their cache key: a hash of each source, in the shapes the
// legacy builder writes into history ("file:<hex>", "dir:<hex>", "multi:<hex>").
// Like Docker's tarsum v1 a file's hash covers its name, mode, owner, size, type, link
// target and content but not its times, so touching a file keeps the cache and editing it
// misses. (Docker hashes the tar headers it received; berth hashes the extracted files,
// so the hex differs from Docker's for the same context, the behaviour does not.)

export class SourceHasher {
  private readonly memo = new Map<string, Promise<string>>();

  // A file (or symlink, device...) at abs, named rel in its source.
  file(abs: string, rel: string): Promise<string> {
    return this.once(`f:${abs}:${rel}`, async () => `file:${await entryHash(abs, rel, await lstat(abs))}`);
  }

  // A directory: the sorted hashes of everything below it (itself included).
  dir(abs: string, rel: string): Promise<string> {
    return this.once(`d:${abs}:${rel}`, async () => {
      const sums: string[] = [];
      await walk(abs, rel, sums);
      sums.sort();
      return hashStrings('dir', sums);
    });
  }

  private once(key: string, fn: () => Promise<string>): Promise<string> {
    let p = this.memo.get(key);
    if (!p) {
      p = fn();
      this.memo.set(key, p);
    }
    return p;
  }
}

// moby's hashStringSlice: "<prefix>:" + sha256 of the hashes joined by ",".
export function hashStrings(prefix: string, items: string[]): string {
  return `${prefix}:${createHash('sha256').update(items.join(',')).digest('hex')}`;
}

async function walk(abs: string, rel: string, out: string[]): Promise<void> {
  const st = await lstat(abs);
  out.push(await entryHash(abs, rel, st));
  if (!st.isDirectory()) return;
  for (const name of (await readdir(abs)).sort()) await walk(`${abs}/${name}`, rel === '' ? name : `${rel}/${name}`, out);
}

function typeFlag(st: Stats): string {
  if (st.isFile()) return '0';
  if (st.isSymbolicLink()) return '2';
  if (st.isCharacterDevice()) return '3';
  if (st.isBlockDevice()) return '4';
  if (st.isDirectory()) return '5';
  if (st.isFIFO()) return '6';
  return '?';
}

async function entryHash(abs: string, rel: string, st: Stats): Promise<string> {
  const h = createHash('sha256');
  const link = st.isSymbolicLink() ? await readlink(abs) : '';
  const size = st.isFile() ? st.size : 0;
  h.update(`name${rel}mode${st.mode & 0o7777}uid${st.uid}gid${st.gid}size${size}typeflag${typeFlag(st)}linkname${link}devmajor${st.rdev}`);
  if (st.isFile()) {
    for await (const chunk of createReadStream(abs)) h.update(chunk as Buffer);
  }
  return h.digest('hex');
}
