import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { invalid, notFound } from '../util/errors.js';
import type { NetworkRecord } from './types.js';

// One JSON file per network under <dataRoot>/network/networks/. Memory is a cache of
// the files; every change is written (atomically) before it is reported.
export class NetworkStore {
  private readonly byId = new Map<string, NetworkRecord>();
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'networks');
  }

  async load(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const f of await readdir(this.dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as NetworkRecord;
        this.byId.set(rec.Id, rec);
      } catch {
        // A torn file cannot happen with atomic writes; anything else unreadable is skipped.
      }
    }
  }

  all(): NetworkRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): NetworkRecord | undefined {
    return this.byId.get(id);
  }

  byName(name: string): NetworkRecord | undefined {
    return this.all().find((n) => n.Name === name);
  }

  // Docker's FindNetwork: full ID, then exact name, then a unique ID prefix.
  find(term: string): NetworkRecord | undefined {
    const exact = this.byId.get(term);
    if (exact) return exact;
    const named = this.all().filter((n) => n.Name === term);
    if (named.length === 1) return named[0];
    if (named.length > 1) throw invalid(`network ${term} is ambiguous (${named.length} matches found on name)`);
    const prefixed = term === '' ? [] : this.all().filter((n) => n.Id.startsWith(term));
    if (prefixed.length > 1) throw invalid(`network ${term} is ambiguous (${prefixed.length} matches found based on ID prefix)`);
    return prefixed[0];
  }

  resolve(term: string): NetworkRecord {
    const n = this.find(term);
    if (!n) throw notFound(`network ${term} not found`);
    return n;
  }

  async save(rec: NetworkRecord): Promise<void> {
    await writeJsonAtomic(join(this.dir, `${rec.Id}.json`), rec);
    this.byId.set(rec.Id, rec);
  }

  async delete(id: string): Promise<void> {
    await unlink(join(this.dir, `${id}.json`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    this.byId.delete(id);
  }
}
