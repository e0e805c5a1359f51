import { lstat, readdir } from 'node:fs/promises';

// Bytes used by a tree as Docker counts a layer's size (moby pkg/directory.Size): the
// lstat size of every non-directory, each inode once (hardlinks count once).
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const subdirs: string[] = [];
    await Promise.all(
      names.map(async (name) => {
        const p = `${d}/${name}`;
        const st = await lstat(p).catch(() => null);
        if (!st) return;
        if (st.isDirectory()) {
          subdirs.push(p);
          return;
        }
        if (st.size === 0 || seen.has(st.ino)) return;
        seen.add(st.ino);
        total += st.size;
      }),
    );
    for (const s of subdirs) await walk(s);
  };
  await walk(dir);
  return total;
}
