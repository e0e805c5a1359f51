import { parseGroup, parsePasswd } from '../../runtime/user.js';
import { readFileInRoot } from '../../container/archive-rootfs.js';
import { BerthError, errorMessage, invalid } from '../../util/errors.js';
import type { CopyInstruction } from '../dockerfile-ast.js';
import type { BuildSession } from '../build-session.js';
import type { DispatchState } from '../build-state.js';
import { hashStrings } from '../source-hash.js';
import { normalizeDest, withNopCommentString } from '../run-config.js';
import { copyIntoRootfs, type Owner } from './copy-files.js';
import { copySources, type SourceRoot } from './copy-sources.js';

// COPY and ADD (moby dispatchCopy, dispatchAdd, performCopy): the sources are found and
// hashed first; "COPY <hash> in <dest> " is the cache key; on a miss they are copied into
// a writable layer on the current image, which becomes the step's image.

export async function copy(s: BuildSession, state: DispatchState, inst: CopyInstruction): Promise<void> {
  const root = await sourceRoot(s, inst);
  let sources;
  try {
    sources = await copySources(s, inst, root);
  } catch (err) {
    throw rewrap(err, `${inst.kind} failed: `);
  }
  if (sources.length > 1 && !inst.dest.endsWith('/')) {
    throw invalid(`When using ${inst.kind} with more than one source file, the destination must be a directory and end with a /`);
  }
  const mode = parseChmod(inst.chmod);
  const srcHash = sources.length === 1 ? sources[0]!.hash : hashStrings('multi', sources.map((x) => x.hash));
  const flags = (inst.chown ? `--chown=${inst.chown} ` : '') + (inst.chmod ? `--chmod=${inst.chmod} ` : '');
  const probe = withNopCommentString(state.runConfig, `${inst.kind} ${flags}${srcHash} in ${inst.dest} `);
  if (await s.probeCache(state, probe)) return;

  const dest = normalizeDest(state.runConfig.WorkingDir ?? '', inst.dest);
  await s.commitFiles(state, probe, async (rootfs) => {
    let owner: Owner | null = { uid: 0, gid: 0 };
    if (inst.chown) owner = await chownOwner(inst.chown, rootfs);
    else if (inst.from) owner = null; // COPY --from keeps the owners it finds
    for (const src of sources) {
      try {
        await copyIntoRootfs(rootfs, dest, src, { decompress: inst.kind === 'ADD', owner, mode });
      } catch (err) {
        throw rewrap(err, 'failed to copy files: ');
      }
    }
  });
}

// The context, or the files of the stage or image --from names.
async function sourceRoot(s: BuildSession, inst: CopyInstruction): Promise<SourceRoot> {
  if (!inst.from) return { root: s.env.contextRoot, fromImage: false };
  try {
    let stageImage: string | undefined;
    try {
      stageImage = s.env.stages.get(inst.from)?.Image;
    } catch (err) {
      throw invalid(errorMessage(err));
    }
    const img = await s.getImage(stageImage ?? inst.from, stageImage !== undefined);
    return { root: await s.imageRootfs(img), fromImage: true };
  } catch (err) {
    throw rewrap(err, `invalid from flag value ${inst.from}: `);
  }
}

// --chown=user[:group] (moby parseChownFlag): names are looked up in the image's own
// /etc/passwd and /etc/group; a lone user names the group too.
export async function chownOwner(chown: string, rootfs: string): Promise<Owner> {
  const parts = chown.split(':');
  if (parts.length > 2) throw invalid(`invalid chown string format: ${chown}`);
  const [userStr, grpStr] = parts.length === 1 ? [parts[0]!, parts[0]!] : [parts[0]!, parts[1]!];
  const wrap = 'unable to convert uid/gid chown string to host mapping: ';
  const uid = await lookupId(userStr, rootfs, 'passwd').catch((err: unknown) => {
    throw invalid(`${wrap}can't find uid for user ${userStr}: ${errorMessage(err)}`);
  });
  const gid = await lookupId(grpStr, rootfs, 'group').catch((err: unknown) => {
    throw invalid(`${wrap}can't find gid for group ${grpStr}: ${errorMessage(err)}`);
  });
  return { uid, gid };
}

async function lookupId(name: string, rootfs: string, file: 'passwd' | 'group'): Promise<number> {
  if (/^[+-]?\d+$/.test(name)) return Number(name);
  const text = await readFileInRoot(rootfs, `/etc/${file}`);
  if (text === null) throw new Error(`open /etc/${file}: no such file or directory`);
  const hit = file === 'passwd' ? parsePasswd(text).find((u) => u.name === name)?.uid : parseGroup(text).find((g) => g.name === name)?.gid;
  if (hit === undefined) throw new Error(`no such ${file === 'passwd' ? 'user' : 'group'}: ${name}`);
  return hit;
}

// --chmod=0755 (octal, as buildkit takes it).
function parseChmod(chmod: string | undefined): number | null {
  if (chmod === undefined) return null;
  if (!/^[0-7]{1,4}$/.test(chmod)) throw invalid(`invalid chmod parameter: ${chmod}`);
  return parseInt(chmod, 8);
}

function rewrap(err: unknown, prefix: string): Error {
  const kind = err instanceof BerthError ? err.kind : 'System';
  return new BerthError(kind, prefix + errorMessage(err));
}
