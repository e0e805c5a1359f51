// The build context of bench/build.ts: a 4-step Dockerfile and random, incompressible files
// in a few directories, made once per run in a temp directory.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** FROM, COPY, RUN, CMD: one layer from the context, one from a container, one config-only. */
export const BUILD_DOCKERFILE = `FROM busybox
COPY data /ctx
RUN du -s /ctx > /size
CMD ["cat", "/size"]
`;

/** Steps after FROM; a fully cached rebuild reuses every one of them. */
export const CACHEABLE_STEPS = 3;

const DIRS = 4;
const FILES_PER_DIR = 10;

export interface BuildContext {
  path: string;
  /** Bytes of the data files (the Dockerfile aside). */
  bytes: number;
  files: number;
}

/** `megabytes` (10^6 bytes) of random data under data/d0..d3, plus the Dockerfile. */
export async function makeBuildContext(megabytes: number): Promise<BuildContext> {
  const path = await mkdtemp(join(tmpdir(), 'berth-bench-build-ctx-'));
  try {
    const fileSize = Math.floor((megabytes * 1e6) / (DIRS * FILES_PER_DIR));
    for (let d = 0; d < DIRS; d++) {
      const dir = join(path, 'data', `d${d}`);
      await mkdir(dir, { recursive: true });
      for (let f = 0; f < FILES_PER_DIR; f++) await writeFile(join(dir, `f${f}.bin`), randomBytes(fileSize));
    }
    await writeFile(join(path, 'Dockerfile'), BUILD_DOCKERFILE);
    return { path, bytes: fileSize * DIRS * FILES_PER_DIR, files: DIRS * FILES_PER_DIR };
  } catch (e) {
    await rm(path, { recursive: true, force: true });
    throw e;
  }
}

export function removeBuildContext(ctx: BuildContext): Promise<void> {
  return rm(ctx.path, { recursive: true, force: true });
}
