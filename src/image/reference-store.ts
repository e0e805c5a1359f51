import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { conflict, invalid } from '../util/errors.js';
import {
  familiarName,
  familiarString,
  parseNormalizedNamed,
  refString,
  tagNameOnly,
  trimNamed,
  type NamedRef,
} from './reference.js';

// Tags and digest references → image IDs, persisted as Docker's repositories.json:
//   {"Repositories":{"busybox":{"busybox:latest":"sha256:…","busybox@sha256:…":"sha256:…"}}}
// Keys are familiar names and strings, exactly as dockerd writes them.

interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

// A reference with both tag and digest is stored by its digest alone.
function favorDigest(ref: NamedRef): NamedRef {
  return ref.digest !== undefined && ref.tag !== undefined ? { ...trimNamed(ref), digest: ref.digest } : ref;
}

export class ReferenceStore {
  private readonly file: string;
  private repos: Record<string, Record<string, string>> = {};
  private readonly byId = new Map<string, Map<string, NamedRef>>();

  constructor(dataRoot: string) {
    this.file = join(dataRoot, 'image', 'repositories.json');
  }

  async init(): Promise<void> {
    let raw: string;
    try {
      raw = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.save();
      return;
    }
    const parsed = JSON.parse(raw) as Partial<RepositoriesFile>;
    this.repos = parsed.Repositories ?? {};
    this.byId.clear();
    for (const repo of Object.values(this.repos)) {
      for (const [refStr, id] of Object.entries(repo)) {
        let ref: NamedRef;
        try {
          ref = parseNormalizedNamed(refStr);
        } catch {
          continue;
        }
        this.index(id, refStr, ref);
      }
    }
  }

  // Every reference to an image, sorted by canonical string as dockerd does.
  references(id: string): NamedRef[] {
    const refs = [...(this.byId.get(id)?.values() ?? [])];
    return refs.sort((a, b) => compare(refString(a), refString(b)));
  }

  // All (reference, image) pairs, for listing and pruning.
  all(): Array<{ ref: NamedRef; id: string }> {
    const out: Array<{ ref: NamedRef; id: string }> = [];
    for (const [id, refs] of this.byId) for (const ref of refs.values()) out.push({ ref, id });
    return out;
  }

  get(ref: NamedRef): string | undefined {
    const key = ref.digest !== undefined ? favorDigest(ref) : tagNameOnly(ref);
    return this.repos[familiarName(key)]?.[familiarString(key)];
  }

  async addTag(ref: NamedRef, id: string, force: boolean): Promise<void> {
    if (ref.digest !== undefined) throw invalid('refusing to create a tag with a digest reference');
    await this.add(tagNameOnly(ref), id, force);
  }

  async addDigest(ref: NamedRef, id: string, force: boolean): Promise<void> {
    if (ref.digest === undefined) throw invalid('reference has no digest');
    await this.add(ref, id, force);
  }

  private async add(input: NamedRef, id: string, force: boolean): Promise<void> {
    const ref = favorDigest(input);
    const name = familiarName(ref);
    const str = familiarString(ref);
    if (name === 'sha256') throw invalid('refusing to create an ambiguous tag using digest algorithm as name');
    const repo = (this.repos[name] ??= {});
    const old = repo[str];
    if (old !== undefined) {
      if (old === id) return;
      if (ref.digest !== undefined) throw conflict(`Cannot overwrite digest ${ref.digest}`);
      if (!force) {
        throw conflict(
          `Conflict: Tag ${str} is already set to image ${old}, if you want to replace it, please use the force option`,
        );
      }
      this.unindex(old, str);
    }
    repo[str] = id;
    this.index(id, str, ref);
    await this.save();
  }

  // Returns whether the reference existed.
  async delete(input: NamedRef): Promise<boolean> {
    const ref = tagNameOnly(favorDigest(input));
    const name = familiarName(ref);
    const str = familiarString(ref);
    const repo = this.repos[name];
    const id = repo?.[str];
    if (!repo || id === undefined) return false;
    delete repo[str];
    if (Object.keys(repo).length === 0) delete this.repos[name];
    this.unindex(id, str);
    await this.save();
    return true;
  }

  private index(id: string, str: string, ref: NamedRef): void {
    let m = this.byId.get(id);
    if (!m) this.byId.set(id, (m = new Map()));
    m.set(str, ref);
  }

  private unindex(id: string, str: string): void {
    const m = this.byId.get(id);
    if (!m) return;
    m.delete(str);
    if (m.size === 0) this.byId.delete(id);
  }

  private async save(): Promise<void> {
    const body: RepositoriesFile = { Repositories: this.repos };
    await writeFileAtomic(this.file, JSON.stringify(body), 0o600);
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
