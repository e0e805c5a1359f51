import { mkdir, readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { removeTree } from '../storage/mounts.js';

// What berth keeps of a volume: <root>/<name>/volume.json next to <root>/<name>/_data,
// the directory containers see (Docker's layout, with its bolt db replaced by one small
// file per volume).
export interface StoredVolume {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

const META = 'volume.json';

export class VolumeStore {
  constructor(readonly root: string) {}

  dataPath(name: string): string {
    return join(this.root, name, '_data');
  }

  // Volumes whose volume.json is whole. A directory without one is what a crash during
  // create leaves behind: it never became a volume, so it goes.
  async load(): Promise<StoredVolume[]> {
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    const out: StoredVolume[] = [];
    for (const name of await readdir(this.root)) {
      if (name.startsWith('.removing-')) await removeTree(join(this.root, name));
      if (name.startsWith('.')) continue;
      const text = await readFile(join(this.root, name, META), 'utf8').catch(() => null);
      if (text === null) {
        await removeTree(join(this.root, name));
        continue;
      }
      out.push(JSON.parse(text) as StoredVolume);
    }
    return out;
  }

  // _data first, then the metadata: the metadata file is what makes it a volume.
  async create(v: StoredVolume): Promise<void> {
    await mkdir(this.dataPath(v.Name), { recursive: true, mode: 0o755 });
    await writeJsonAtomic(join(this.root, v.Name, META), v);
  }

  // Renamed away first, so a crash half way never leaves a volume with part of its data.
  async remove(name: string): Promise<void> {
    const doomed = join(this.root, `.removing-${name}`);
    await rename(join(this.root, name), doomed);
    await removeTree(doomed);
  }
}
