import { BerthError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import type { ImageStore, StoredImage } from './image-store.js';
import { familiarString, parseNormalizedNamed, refName, tagNameOnly, type NamedRef } from './reference.js';
import type { DeleteItem } from './types.js';

// `docker rmi` with dockerd's exact rules (daemon/images/image_delete.go):
// - by name: untag; the image goes only when that was its last reference. Untagging the
//   last reference of an image a container uses needs force (else it would dangle).
// - by ID: all its references go if they are one tag (plus digests) of one repository;
//   several repositories need force.
// - hard conflicts (child images, running containers) cannot be forced; soft ones
//   (other references, stopped containers) can.
// - then, unless noprune, untagged parents go too, quietly stopping at any conflict.

export interface DeleteContext {
  store: ImageStore;
  containersUsing(imageId: string): Promise<Array<{ id: string; running: boolean }>>;
  event(action: 'untag' | 'delete', img: StoredImage): void;
  // Frees the layers nothing references any more; returns their chain IDs, top first.
  collectLayers(deleted: StoredImage): Promise<string[]>;
}

const HARD_CHILD = 1;
const HARD_RUNNING = 2;
const SOFT_REFERENCE = 4;
const SOFT_STOPPED = 8;
const HARD = HARD_CHILD | HARD_RUNNING;
const SOFT = SOFT_REFERENCE | SOFT_STOPPED;

export class ImageDeleteConflict extends BerthError {
  constructor(
    readonly hard: boolean,
    readonly used: boolean,
    imageId: string,
    reason: string,
  ) {
    super('Conflict', `conflict: unable to delete ${shortId(imageId)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${reason}`);
  }
}

const isCanonical = (r: NamedRef): boolean => r.digest !== undefined;

// All references are in one repository and at most one of them is a tag.
export function isSingleReference(refs: NamedRef[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: NamedRef | undefined;
  const canonicalNames = new Set<string>();
  for (const r of refs) {
    if (isCanonical(r)) canonicalNames.add(refName(r));
    else if (single === undefined) single = r;
    else return false;
  }
  single ??= refs[0];
  return canonicalNames.size === 1 && canonicalNames.has(refName(single));
}

// Whether what the user typed is (a prefix of) the image ID rather than a name.
export function isImageIdPrefix(imageId: string, typed: string): boolean {
  return imageId.startsWith(typed) || imageId.slice(imageId.indexOf(':') + 1).startsWith(typed);
}

export async function deleteImage(ctx: DeleteContext, typed: string, force: boolean, prune: boolean): Promise<DeleteItem[]> {
  const records: DeleteItem[] = [];
  const img = ctx.store.resolve(typed);
  let refs = ctx.store.refs.references(img.id);
  let removedRepositoryRef = false;

  if (!isImageIdPrefix(img.id, typed)) {
    if (!force && isSingleReference(refs)) {
      const user = (await ctx.containersUsing(img.id))[0];
      if (user) {
        throw new BerthError(
          'Conflict',
          `conflict: unable to remove repository reference ${JSON.stringify(typed)} (must force) - container ${shortId(user.id)} is using its referenced image ${shortId(img.id)}`,
        );
      }
    }
    const parsed = tagNameOnly(parseNormalizedNamed(typed));
    await ctx.store.refs.delete(parsed);
    records.push({ Untagged: familiarString(parsed) });
    ctx.event('untag', img);
    refs = ctx.store.refs.references(img.id);

    // The last tag of a repository took its digest references with it.
    if (!isCanonical(parsed) && !refs.some((r) => !isCanonical(r) && refName(r) === refName(parsed))) {
      const remaining: NamedRef[] = [];
      for (const r of refs) {
        if (isCanonical(r) && refName(r) === refName(parsed)) {
          await ctx.store.refs.delete(r);
          records.push({ Untagged: familiarString(r) });
        } else {
          remaining.push(r);
        }
      }
      refs = remaining;
    }
    if (refs.length > 0) return records;
    removedRepositoryRef = true;
  } else if (isSingleReference(refs)) {
    const conflict = await checkConflicts(ctx, img, force ? HARD : HARD | (SOFT & ~SOFT_REFERENCE));
    if (conflict) throw conflict;
    for (const r of refs) {
      const ref = tagNameOnly(r);
      await ctx.store.refs.delete(ref);
      records.push({ Untagged: familiarString(ref) });
      ctx.event('untag', img);
    }
  }

  await deleteHelper(ctx, img, records, force, prune, removedRepositoryRef);
  return records;
}

async function deleteHelper(
  ctx: DeleteContext,
  img: StoredImage,
  records: DeleteItem[],
  force: boolean,
  prune: boolean,
  quiet: boolean,
): Promise<void> {
  const conflict = await checkConflicts(ctx, img, force ? HARD : HARD | SOFT);
  if (conflict) {
    // Quietly keep an image someone still needs, unless it would be left dangling unused.
    if (quiet && (!isDangling(ctx, img) || conflict.used)) return;
    throw conflict;
  }
  const parent = img.parent;
  for (const r of ctx.store.refs.references(img.id)) {
    const ref = tagNameOnly(r);
    await ctx.store.refs.delete(ref);
    records.push({ Untagged: familiarString(ref) });
    ctx.event('untag', img);
  }
  await ctx.store.delete(img.id);
  ctx.event('delete', img);
  records.push({ Deleted: img.id });
  for (const chain of await ctx.collectLayers(img)) records.push({ Deleted: chain });

  if (!prune || !parent) return;
  const parentImg = ctx.store.get(parent);
  if (parentImg) await deleteHelper(ctx, parentImg, records, false, true, true);
}

async function checkConflicts(ctx: DeleteContext, img: StoredImage, mask: number): Promise<ImageDeleteConflict | null> {
  if (mask & HARD_CHILD && ctx.store.children(img.id).length > 0) {
    return new ImageDeleteConflict(true, false, img.id, 'image has dependent child images');
  }
  const users = mask & (HARD_RUNNING | SOFT_STOPPED) ? await ctx.containersUsing(img.id) : [];
  const running = users.find((c) => c.running);
  if (mask & HARD_RUNNING && running) {
    return new ImageDeleteConflict(true, true, img.id, `image is being used by running container ${shortId(running.id)}`);
  }
  if (mask & SOFT_REFERENCE && ctx.store.refs.references(img.id).length > 0) {
    return new ImageDeleteConflict(false, false, img.id, 'image is referenced in multiple repositories');
  }
  const stopped = users.find((c) => !c.running);
  if (mask & SOFT_STOPPED && stopped) {
    return new ImageDeleteConflict(false, true, img.id, `image is being used by stopped container ${shortId(stopped.id)}`);
  }
  return null;
}

function isDangling(ctx: DeleteContext, img: StoredImage): boolean {
  return ctx.store.refs.references(img.id).length === 0 && ctx.store.children(img.id).length === 0;
}
