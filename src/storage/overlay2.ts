import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { conflict, invalid, notFound } from '../util/errors.js';
import { newId } from '../util/ids.js';
import { chainId, isDigest } from './chain-id.js';
import { diskUsage } from './disk-usage.js';
import { populateInitLayer } from './init-layer.js';
import { KeyedMutex, SharedExclusiveLock } from './locks.js';
import { isMountedOver, removeTree, unmountOver, unmountUnder } from './mounts.js';
import { mount } from './syscalls.js';
import { applyLayerTar } from './tar-apply.js';
import { listChanges } from './changes.js';
import type { Change } from './changes.js';
import { upperDirTar } from './layer-tar.js';
import type { GraphDriverData, LayerInfo, LayerStore } from './types.js';

// Docker's overlay2 layout, so the tree reads the same to anyone who knows Docker's:
//   overlay2/<cacheId>/{diff,link,lower,work}   a layer; link = its short name, lower = the
//                                               short names of all layers below, topmost first
//   overlay2/l/<26 chars> -> ../<cacheId>/diff  short names keep deep stacks inside the single
//                                               page the kernel takes for mount options
//   layerdb/sha256/<chainHex>/{diff,parent,cache-id,size}     read-only layer metadata
//   layerdb/mounts/<id>/{mount-id,init-id,parent}             a container's rw layer
// Metadata is written last and atomically (a directory renamed into place), so whatever a
// crash leaves without it is garbage that init() removes.
//
// A container's init layer <id>-init has Docker's files (link, lower, diff), but its diff is
// a symlink to <image-layer>/init, built once per image layer: the placeholders depend only
// on the image, sit read-only below the container's upper dir, and looking them up through
// every image layer was most of the cost of a create. A scratch container (no image layer)
// gets a diff of its own.
const sharedInitDir = 'init';

const tmpPrefix = '.tmp-';
// Mount data is copied into one page by the kernel; 4096 is the smallest page Linux uses.
const mountDataMax = 4095;
const idRe = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
// Docker's short link names: 26 base32 characters.
const newLinkId = (): string => Array.from(randomBytes(26), (b) => base32[b % 32]).join('');
const tmpName = (): string => `${tmpPrefix}${randomBytes(8).toString('hex')}`;

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function drain(stream: Readable | AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // discard: the layer is already here
  }
}

async function writeSynced(path: string, content: string): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// Writes files into a fresh directory and renames it to dest in one step: dest either
// does not exist or is complete. The files are synced in parallel (one journal commit
// serves them all) and need no rename of their own: nobody reads the temp dir.
async function writeDirAtomic(dest: string, files: Record<string, string>): Promise<void> {
  const parent = resolve(dest, '..');
  const tmp = `${parent}/${tmpName()}`;
  await mkdir(tmp);
  try {
    await Promise.all(Object.entries(files).map(([name, content]) => writeSynced(`${tmp}/${name}`, content)));
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export class Overlay2Store implements LayerStore {
  private home: string; // <dataRoot>/overlay2
  private layerDb: string; // <dataRoot>/layerdb/sha256
  private mountDb: string; // <dataRoot>/layerdb/mounts
  private readonly cache = new Map<string, LayerInfo>();
  // Nothing is stacked on a layer while garbage collection may remove it: rw layers are made
  // under the shared side (side by side), new layers are committed and garbage collected
  // under the exclusive side (one at a time).
  private readonly commitLock = new SharedExclusiveLock();
  private readonly rwLock = new KeyedMutex();
  // Shared init dirs known to exist (by cacheId), and the ones being built.
  private readonly initsBuilt = new Set<string>();
  private readonly initJobs = new Map<string, Promise<void>>();
  // Parents of extractions in progress: garbage collection leaves them alone.
  private readonly pins = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<LayerInfo>>();
  // Commits held back by callers (chain id -> what must settle first), see holdCommit.
  private readonly holds = new Map<string, Set<Promise<unknown>>>();

  constructor(dataRoot: string) {
    const root = resolve(dataRoot);
    this.home = `${root}/overlay2`;
    this.layerDb = `${root}/layerdb/sha256`;
    this.mountDb = `${root}/layerdb/mounts`;
  }

  async init(): Promise<void> {
    await mkdir(`${this.home}/l`, { recursive: true, mode: 0o700 });
    await mkdir(this.layerDb, { recursive: true, mode: 0o700 });
    await mkdir(this.mountDb, { recursive: true, mode: 0o700 });
    // Mount points in mountinfo are canonical; so must our paths be to match them.
    const root = await realpath(resolve(this.home, '..'));
    this.home = `${root}/overlay2`;
    this.layerDb = `${root}/layerdb/sha256`;
    this.mountDb = `${root}/layerdb/mounts`;
    this.cache.clear();
    this.initsBuilt.clear();
    await this.removeLeftovers();
  }

  // --- read-only layers ---

  async register(tar: Readable, parentChainId: string | null, expectedDiffId?: string): Promise<LayerInfo> {
    if (parentChainId !== null && !isDigest(parentChainId)) throw invalid(`invalid chain id ${JSON.stringify(parentChainId)}`);
    this.pin(parentChainId);
    try {
      const chain = expectedDiffId === undefined ? null : chainId(parentChainId, expectedDiffId);
      // A held layer may arrive before its parent: the parent is checked when it commits.
      const parentKnown = parentChainId === null || (chain !== null && this.holds.has(chain)) || (await this.get(parentChainId)) !== null;
      if (!parentKnown) throw notFound(`layer ${parentChainId} does not exist`);
      if (chain === null) return await this.extract(tar, parentChainId, undefined);
      // The caller knows the diff id (from the image config): an existing layer is not
      // extracted again, and two pulls of one layer share one extraction.
      const have = (await this.get(chain)) ?? this.inflight.get(chain);
      if (have) {
        await drain(tar);
        return await have;
      }
      const job = this.extract(tar, parentChainId, expectedDiffId);
      this.inflight.set(chain, job);
      try {
        return await job;
      } finally {
        this.inflight.delete(chain);
      }
    } finally {
      this.unpin(parentChainId);
    }
  }

  // For a caller registering a stack of layers at once (pull): the layer with this chain id
  // may be registered before its parent exists, and is extracted aside at once, but committed
  // only after `until` resolves (its parent committed, its compressed blob verified). If
  // `until` rejects, the extraction is thrown away and register fails with that error. The
  // returned function lifts the hold; call it once the registration has settled.
  holdCommit(chain: string, until: Promise<unknown>): () => void {
    until.catch(() => {});
    let set = this.holds.get(chain);
    if (!set) this.holds.set(chain, (set = new Set()));
    set.add(until);
    return () => {
      set.delete(until);
      if (set.size === 0 && this.holds.get(chain) === set) this.holds.delete(chain);
    };
  }

  async get(id: string): Promise<LayerInfo | null> {
    if (!isDigest(id)) return null;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const dir = `${this.layerDb}/${id.slice(7)}`;
    const [diffId, parent, cacheId, size] = await Promise.all(
      ['diff', 'parent', 'cache-id', 'size'].map((f) => readText(`${dir}/${f}`)),
    );
    if (diffId === null || cacheId === null) return null;
    const info: LayerInfo = { chainId: id, diffId, parent: parent || null, cacheId, size: Number(size ?? 0) };
    this.cache.set(id, info);
    return info;
  }

  async list(): Promise<LayerInfo[]> {
    const out: LayerInfo[] = [];
    for (const name of await readdir(this.layerDb)) {
      if (name.startsWith(tmpPrefix)) continue;
      const info = await this.get(`sha256:${name}`);
      if (info) out.push(info);
    }
    return out;
  }

  async removeUnreferenced(keep: Set<string>): Promise<string[]> {
    return this.commitLock.exclusive(async () => {
      const all = await this.list();
      const byId = new Map(all.map((l) => [l.chainId, l]));
      const live = new Set<string>();
      const mark = (id: string | null): void => {
        while (id !== null && !live.has(id)) {
          live.add(id);
          id = byId.get(id)?.parent ?? null;
        }
      };
      keep.forEach(mark);
      [...this.pins.keys()].forEach(mark);
      // A container's rw layer holds its image layers, whatever the caller keeps.
      const parents = await Promise.all((await this.rwIds()).map((id) => readText(`${this.mountDb}/${id}/parent`)));
      parents.forEach(mark);
      const depth = (l: LayerInfo): number => {
        let d = 0;
        for (let p = l.parent; p !== null; p = byId.get(p)?.parent ?? null) d++;
        return d;
      };
      // Children first: a crash midway never leaves a layer whose parent is gone.
      const doomed = all.filter((l) => !live.has(l.chainId)).sort((a, b) => depth(b) - depth(a));
      for (const layer of doomed) await this.deleteLayer(layer);
      return doomed.map((l) => l.chainId);
    });
  }

  async graphDriver(id: string): Promise<GraphDriverData> {
    const layer = await this.get(id);
    if (!layer) throw notFound(`layer ${id} does not exist`);
    return this.driverData(`${this.home}/${layer.cacheId}`);
  }

  // The diff dirs of a layer and all below it, topmost first (for changes and lookups).
  async layerDiffDirs(id: string): Promise<string[]> {
    const layer = await this.get(id);
    if (!layer) throw notFound(`layer ${id} does not exist`);
    const dir = `${this.home}/${layer.cacheId}`;
    return [`${dir}/diff`, ...(await this.lowerDirs(dir))];
  }

  // --- container rw layers ---

  async createRw(id: string, parentChainId: string | null): Promise<void> {
    this.checkId(id);
    await this.rwLock.run(id, () =>
      this.commitLock.shared(async () => {
        if (await exists(`${this.mountDb}/${id}`)) throw conflict(`rw layer for ${id} already exists`);
        const parent = parentChainId === null ? null : await this.get(parentChainId);
        if (parentChainId !== null && !parent) throw notFound(`layer ${parentChainId} does not exist`);
        const [parentLower] = await Promise.all([
          parent ? this.lowerChain(parent.cacheId) : '',
          parent ? this.ensureSharedInit(parent) : null,
          // Leftovers of an interrupted create or remove under these names have no metadata;
          // a fresh id has none, and then mountinfo need not be read.
          ...[`${this.home}/${id}`, `${this.home}/${id}-init`].map(async (dir) => {
            if (await exists(dir)) await removeTree(dir);
          }),
        ]);
        const initTmp = `${this.home}/${tmpName()}`;
        const rwTmp = `${this.home}/${tmpName()}`;
        const initLink = newLinkId();
        const rwLink = newLinkId();
        try {
          await Promise.all([mkdir(initTmp), mkdir(rwTmp)]);
          await Promise.all([
            parent
              ? symlink(`../${parent.cacheId}/${sharedInitDir}`, `${initTmp}/diff`)
              : mkdir(`${initTmp}/diff`).then(() => populateInitLayer(`${initTmp}/diff`, [])),
            writeFile(`${initTmp}/link`, initLink),
            parentLower ? writeFile(`${initTmp}/lower`, parentLower) : null,
            mkdir(`${rwTmp}/diff`),
            mkdir(`${rwTmp}/work`),
            mkdir(`${rwTmp}/merged`),
            writeFile(`${rwTmp}/link`, rwLink),
            writeFile(`${rwTmp}/lower`, parentLower ? `l/${initLink}:${parentLower}` : `l/${initLink}`),
          ]);
          // The short links may dangle for a moment: init() removes links to dirs that have
          // no metadata, so their order against the renames does not matter.
          await Promise.all([
            rename(initTmp, `${this.home}/${id}-init`),
            rename(rwTmp, `${this.home}/${id}`),
            symlink(`../${id}-init/diff`, `${this.home}/l/${initLink}`),
            symlink(`../${id}/diff`, `${this.home}/l/${rwLink}`),
          ]);
          const meta: Record<string, string> = { 'mount-id': id, 'init-id': `${id}-init` };
          if (parentChainId !== null) meta.parent = parentChainId;
          await writeDirAtomic(`${this.mountDb}/${id}`, meta);
        } catch (err) {
          // Nothing was mounted under these: plain removal, no mountinfo.
          await Promise.all(
            [initTmp, rwTmp, `${this.home}/${id}-init`, `${this.home}/${id}`].map((dir) => rm(dir, { recursive: true, force: true })),
          );
          await Promise.all([initLink, rwLink].map((link) => unlink(`${this.home}/l/${link}`).catch(() => {})));
          throw err;
        }
      }),
    );
  }

  // volatile: the upper dir is never synced, not even at unmount, where overlayfs would
  // otherwise sync the whole filesystem under it (0.05-0.25 s on a busy host). For layers
  // that must not outlive a crash anyway (a build's scratch layers): after one, the work
  // dir refuses a second mount. Kernels before 5.10 mount without it.
  async mountRw(id: string, opts: { volatile?: boolean } = {}): Promise<string> {
    this.checkId(id);
    return this.rwLock.run(id, async () => {
      await this.requireRw(id);
      const dir = `${this.home}/${id}`;
      const merged = `${dir}/merged`;
      await mkdir(merged, { recursive: true });
      if (await isMountedOver(merged)) return merged;
      const lower = (await readText(`${dir}/lower`)) ?? '';
      // index=off as Docker does: with the index on (a kernel default on some distros) an
      // upper dir remembers its lower dirs and refuses a mount after they change.
      const more = opts.volatile ? ',volatile' : '';
      const overlay = (data: string): void => {
        try {
          mount('overlay', merged, 'overlay', 0, data + more);
        } catch (err) {
          if (!more || (err as { code?: string }).code !== 'EINVAL') throw err;
          mount('overlay', merged, 'overlay', 0, data);
        }
      };
      const abs = `lowerdir=${lower.split(':').map((l) => `${this.home}/${l}`).join(':')},upperdir=${dir}/diff,workdir=${dir}/work,index=off`;
      if (abs.length + more.length <= mountDataMax) {
        overlay(abs);
        return merged;
      }
      // Too deep for absolute paths: relative short links from the overlay2 dir, as Docker
      // does. chdir is process-wide, but the mount call is synchronous, so no other
      // JavaScript runs between the two chdirs; the rest of berth uses absolute paths.
      const rel = `lowerdir=${lower},upperdir=${id}/diff,workdir=${id}/work,index=off`;
      if (rel.length + more.length > mountDataMax) throw invalid(`too many layers to mount for ${id}`);
      const cwd = process.cwd();
      process.chdir(this.home);
      try {
        overlay(rel);
      } finally {
        process.chdir(cwd);
      }
      return merged;
    });
  }

  async unmountRw(id: string): Promise<void> {
    this.checkId(id);
    await this.rwLock.run(id, () => unmountOver(`${this.home}/${id}/merged`));
  }

  async removeRw(id: string): Promise<void> {
    this.checkId(id);
    await this.rwLock.run(id, async () => {
      const dirs = [`${this.home}/${id}`, `${this.home}/${id}-init`];
      // Removal deletes recursively, so here mountinfo is read after all (once): whatever
      // is mounted anywhere below must go first.
      await unmountUnder(...dirs);
      // Metadata goes first: from then on the layer is garbage, whatever else a crash leaves.
      const meta = `${this.mountDb}/${id}`;
      const doomedMeta = `${this.mountDb}/${tmpName()}`;
      const hadMeta = await rename(meta, doomedMeta).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
      await Promise.all(dirs.map((dir) => this.removeLayerDir(dir, false)));
      if (hadMeta) await rm(doomedMeta, { recursive: true, force: true });
    });
  }

  async rwGraphDriver(id: string): Promise<GraphDriverData> {
    this.checkId(id);
    await this.requireRw(id);
    return this.driverData(`${this.home}/${id}`);
  }

  async rwSize(id: string): Promise<number> {
    this.checkId(id);
    await this.requireRw(id);
    return diskUsage(`${this.home}/${id}/diff`);
  }

  // The rw layer's upper dir and the dirs below it (init layer, then the image), topmost
  // first: what changes.ts and layer-tar.ts read.
  async rwDirs(id: string): Promise<{ upper: string; lowers: string[] }> {
    this.checkId(id);
    await this.requireRw(id);
    const dir = `${this.home}/${id}`;
    return { upper: `${dir}/diff`, lowers: await this.lowerDirs(dir) };
  }

  // `docker diff`.
  async rwChanges(id: string): Promise<Change[]> {
    const { upper, lowers } = await this.rwDirs(id);
    return listChanges(upper, lowers);
  }

  // The rw layer as an OCI layer tar (commit). Pause the container first, as Docker does, for
  // a consistent snapshot.
  async rwDiffTar(id: string): Promise<Readable> {
    const { upper } = await this.rwDirs(id);
    return upperDirTar(upper);
  }

  // The rw layer's changes as a read-only layer on the one it was made on. Its upper dir
  // becomes the layer's diff (moved, not archived and extracted again: containerd's
  // overlay snapshotter commits the same way); the tar is only made to compute the diff
  // ID. Callers make sure nothing has it mounted or changes it meanwhile.
  async commitRw(id: string): Promise<LayerInfo> {
    const hash = createHash('sha256');
    for await (const chunk of await this.rwDiffTar(id)) hash.update(chunk as Buffer);
    return this.adoptRw(id, `sha256:${hash.digest('hex')}`);
  }

  // commitRw's move, for a diff ID the caller took from upperDirTar of the upper dir. The
  // rw layer is left with an empty upper dir.
  protected async adoptRw(id: string, diffId: string): Promise<LayerInfo> {
    this.checkId(id);
    if (!isDigest(diffId)) throw invalid(`invalid diff id ${JSON.stringify(diffId)}`);
    return this.rwLock.run(id, async () => {
      await this.requireRw(id);
      const dir = `${this.home}/${id}`;
      if (await isMountedOver(`${dir}/merged`)) throw conflict(`rw layer for ${id} is mounted`);
      const parentChainId = (await readText(`${this.mountDb}/${id}/parent`)) || null;
      this.pin(parentChainId);
      const tmp = `${this.home}/${tmpName()}`;
      let handedOver = false;
      try {
        await mkdir(tmp);
        await rename(`${dir}/diff`, `${tmp}/diff`);
        await Promise.all([mkdir(`${dir}/diff`), mkdir(`${tmp}/work`)]);
        handedOver = true;
        return await this.install(tmp, parentChainId, diffId);
      } finally {
        if (!handedOver) await rm(tmp, { recursive: true, force: true });
        this.unpin(parentChainId);
      }
    });
  }

  // --- internals ---

  private pin(id: string | null): void {
    if (id !== null) this.pins.set(id, (this.pins.get(id) ?? 0) + 1);
  }

  private unpin(id: string | null): void {
    if (id === null) return;
    const n = (this.pins.get(id) ?? 1) - 1;
    if (n > 0) this.pins.set(id, n);
    else this.pins.delete(id);
  }

  private checkId(id: string): void {
    if (!idRe.test(id) || id.endsWith('-init')) throw invalid(`invalid rw layer id ${JSON.stringify(id)}`);
  }

  private async requireRw(id: string): Promise<void> {
    if (!(await exists(`${this.mountDb}/${id}/mount-id`))) throw notFound(`no rw layer for ${id}`);
  }

  private async rwIds(): Promise<string[]> {
    return (await readdir(this.mountDb)).filter((n) => !n.startsWith(tmpPrefix));
  }

  private async extract(tar: Readable, parentChainId: string | null, expectedDiffId: string | undefined): Promise<LayerInfo> {
    const tmp = `${this.home}/${tmpName()}`;
    let handedOver = false;
    try {
      await mkdir(`${tmp}/diff`, { recursive: true });
      await mkdir(`${tmp}/work`);
      const { diffId } = await applyLayerTar(tar, `${tmp}/diff`);
      if (expectedDiffId !== undefined && diffId !== expectedDiffId) {
        throw invalid(`layer digest mismatch: expected ${expectedDiffId}, got ${diffId}`);
      }
      handedOver = true;
      return await this.install(tmp, parentChainId, diffId);
    } finally {
      if (!handedOver) await removeTree(tmp);
    }
  }

  // A layer dir made aside (tmp, with diff/ and work/) becomes layer diffId on
  // parentChainId, or goes when that layer exists already: tmp is gone either way.
  private async install(tmp: string, parentChainId: string | null, diffId: string): Promise<LayerInfo> {
    let committed = false;
    try {
      const chain = chainId(parentChainId, diffId);
      const [size] = await Promise.all([diskUsage(`${tmp}/diff`), ...(this.holds.get(chain) ?? [])]);
      return await this.commitLock.exclusive(async () => {
        const have = await this.get(chain);
        if (have) return have;
        const parent = parentChainId === null ? null : await this.get(parentChainId);
        if (parentChainId !== null && !parent) throw notFound(`layer ${parentChainId} does not exist`);
        const cacheId = newId();
        const linkId = newLinkId();
        await writeFile(`${tmp}/link`, linkId);
        if (parent) await writeFile(`${tmp}/lower`, await this.lowerChain(parent.cacheId));
        const dir = `${this.home}/${cacheId}`;
        await rename(tmp, dir);
        committed = true;
        try {
          await symlink(`../${cacheId}/diff`, `${this.home}/l/${linkId}`);
          const meta: Record<string, string> = { diff: diffId, 'cache-id': cacheId, size: String(size) };
          if (parent) meta.parent = parent.chainId;
          await writeDirAtomic(`${this.layerDb}/${chain.slice(7)}`, meta);
        } catch (err) {
          await this.removeLayerDir(dir);
          throw err;
        }
        const info: LayerInfo = { chainId: chain, diffId, parent: parent?.chainId ?? null, cacheId, size };
        this.cache.set(chain, info);
        return info;
      });
    } finally {
      if (!committed) await removeTree(tmp);
    }
  }

  private async deleteLayer(layer: LayerInfo): Promise<void> {
    const doomedMeta = `${this.layerDb}/${tmpName()}`;
    await rename(`${this.layerDb}/${layer.chainId.slice(7)}`, doomedMeta);
    this.cache.delete(layer.chainId);
    this.initsBuilt.delete(layer.cacheId);
    await this.removeLayerDir(`${this.home}/${layer.cacheId}`);
    await rm(doomedMeta, { recursive: true, force: true });
  }

  // Removes a layer dir and its short link; checkMounts false when the caller has just
  // detached everything below dir.
  private async removeLayerDir(dir: string, checkMounts = true): Promise<void> {
    const link = await readText(`${dir}/link`);
    if (link) await unlink(`${this.home}/l/${link}`).catch(() => {});
    if (checkMounts) await removeTree(dir);
    else await rm(dir, { recursive: true, force: true });
  }

  // The init placeholders for containers of this image layer, built once (see the top).
  private async ensureSharedInit(layer: LayerInfo): Promise<void> {
    if (this.initsBuilt.has(layer.cacheId)) return;
    const dest = `${this.home}/${layer.cacheId}/${sharedInitDir}`;
    let job = this.initJobs.get(layer.cacheId);
    if (!job) {
      job = (async () => {
        if (await exists(dest)) return;
        // Built aside and renamed into place: it exists whole or not at all, and a crash
        // leaves only a temp dir that init() removes.
        const tmp = `${this.home}/${tmpName()}`;
        try {
          await mkdir(tmp);
          await populateInitLayer(tmp, await this.layerDiffDirs(layer.chainId));
          await rename(tmp, dest);
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      })().finally(() => this.initJobs.delete(layer.cacheId));
      this.initJobs.set(layer.cacheId, job);
    }
    await job;
    this.initsBuilt.add(layer.cacheId);
  }

  // What goes in the `lower` file of a layer stacked directly on the layer in cacheId.
  private async lowerChain(cacheId: string): Promise<string> {
    const dir = `${this.home}/${cacheId}`;
    const link = await readText(`${dir}/link`);
    if (!link) throw notFound(`layer dir ${cacheId} has no link`);
    const lower = await readText(`${dir}/lower`);
    return lower ? `l/${link}:${lower}` : `l/${link}`;
  }

  // Absolute diff dirs named by a layer dir's `lower` file, as Docker resolves them for inspect.
  private async lowerDirs(dir: string): Promise<string[]> {
    const lower = await readText(`${dir}/lower`);
    if (!lower) return [];
    return Promise.all(lower.split(':').map(async (l) => resolve(`${this.home}/l`, await readlink(`${this.home}/${l}`))));
  }

  private async driverData(dir: string): Promise<GraphDriverData> {
    const lowers = await this.lowerDirs(dir);
    // Keys in the order Docker's JSON map gives them.
    const data: GraphDriverData = {};
    if (lowers.length > 0) data.LowerDir = lowers.join(':');
    data.MergedDir = `${dir}/merged`;
    data.UpperDir = `${dir}/diff`;
    data.WorkDir = `${dir}/work`;
    return data;
  }

  // Whatever has no metadata is the remains of an interrupted register, create or remove.
  private async removeLeftovers(): Promise<void> {
    for (const db of [this.layerDb, this.mountDb]) {
      for (const name of await readdir(db)) if (name.startsWith(tmpPrefix)) await rm(`${db}/${name}`, { recursive: true, force: true });
    }
    const referenced = new Set<string>(['l']);
    for (const layer of await this.list()) referenced.add(layer.cacheId);
    for (const id of await this.rwIds()) {
      referenced.add((await readText(`${this.mountDb}/${id}/mount-id`)) ?? id);
      referenced.add((await readText(`${this.mountDb}/${id}/init-id`)) ?? `${id}-init`);
    }
    for (const name of await readdir(this.home)) if (!referenced.has(name)) await removeTree(`${this.home}/${name}`);
    for (const link of await readdir(`${this.home}/l`)) {
      const target = await readlink(`${this.home}/l/${link}`).catch(() => '');
      const m = /^\.\.\/([^/]+)\/diff$/.exec(target);
      if (!m || !referenced.has(m[1] as string)) await unlink(`${this.home}/l/${link}`).catch(() => {});
    }
  }
}
