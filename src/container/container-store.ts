import { readdir, readFile, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { conflict, invalid, notFound } from '../util/errors.js';
import type { ContainerRecord } from './types.js';

// Containers on disk are the truth (containers/<id>/config.v2.json); this map is a
// cache of them, loaded once at start, written through on every change.
export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>(); // '/name' → id

  constructor(readonly root: string) {}

  async load(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    for (const id of await readdir(this.root)) {
      try {
        const rec = JSON.parse(await readFile(join(this.root, id, 'config.v2.json'), 'utf8')) as ContainerRecord;
        this.byId.set(rec.Id, rec);
        this.byName.set(rec.Name, rec.Id);
      } catch {
        // A directory without a whole record was never fully created: drop it.
        await rm(join(this.root, id), { recursive: true, force: true });
      }
    }
  }

  dir(id: string): string {
    return join(this.root, id);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  // Reserve a name before anything is written, so two creates cannot take the same one.
  reserveName(name: string, id: string): void {
    const existing = this.byName.get(name);
    if (existing && existing !== id) {
      throw conflict(
        `Conflict. The container name "${name}" is already in use by container "${existing}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.byName.set(name, id);
  }

  releaseName(name: string, id: string): void {
    if (this.byName.get(name) === id) this.byName.delete(name);
  }

  hasName(name: string): boolean {
    return this.byName.has(name);
  }

  async save(rec: ContainerRecord): Promise<void> {
    this.byId.set(rec.Id, rec);
    await writeJsonAtomic(join(this.root, rec.Id, 'config.v2.json'), rec);
  }

  async delete(rec: ContainerRecord): Promise<void> {
    this.byId.delete(rec.Id);
    this.releaseName(rec.Name, rec.Id);
    await rm(join(this.root, rec.Id), { recursive: true, force: true });
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  // Docker's lookup order: full id, exact name, then a unique id prefix.
  resolve(ref: string): ContainerRecord {
    if (!ref) throw invalid('No container name or ID specified');
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.byName.get(ref.startsWith('/') ? ref : `/${ref}`);
    if (byName) return this.byId.get(byName)!;
    const matches = [...this.byId.keys()].filter((id) => id.startsWith(ref));
    if (matches.length === 1) return this.byId.get(matches[0]!)!;
    if (matches.length > 1) throw invalid(`Multiple IDs found with provided prefix: ${ref}`);
    throw notFound(`No such container: ${ref}`);
  }
}
