import { lstat, mkdir } from 'node:fs/promises';
import { resolveInRoot } from '../../storage/path-safety.js';
import { invalid } from '../../util/errors.js';
import type { WordInstruction } from '../dockerfile-ast.js';
import type { BuildSession } from '../build-session.js';
import type { DispatchState } from '../build-state.js';
import { normalizeWorkdir, withNopCommentString } from '../run-config.js';

// WORKDIR (moby dispatchWorkdir): the config changes, and the directory is made now,
// root-owned 0755, so RUN and the final image find it. A directory that already exists
// gives an empty layer.
export async function workdir(s: BuildSession, state: DispatchState, inst: WordInstruction): Promise<void> {
  const c = state.runConfig;
  c.WorkingDir = normalizeWorkdir(c.WorkingDir ?? '', inst.value);
  const probe = withNopCommentString(c, `WORKDIR ${c.WorkingDir}`);
  if (await s.probeCache(state, probe)) return;
  await s.commitFiles(state, probe, (rootfs) => makeWorkdir(rootfs, c.WorkingDir ?? '/'));
}

export async function makeWorkdir(rootfs: string, dir: string): Promise<void> {
  const abs = await resolveInRoot(rootfs, dir);
  const st = await lstat(abs).catch(() => null);
  if (st && !st.isDirectory()) throw invalid(`Cannot mkdir: ${dir} is not a directory`);
  if (!st) await mkdir(abs, { recursive: true, mode: 0o755 });
}
