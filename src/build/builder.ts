import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { StoredImage } from '../image/image-store.js';
import { familiarString, parseNormalizedNamed, refString, tagNameOnly, type NamedRef } from '../image/reference.js';
import { BerthError, errorMessage, invalid, systemError } from '../util/errors.js';
import { shortId } from '../util/ids.js';
import { BuildArgs } from './build-args.js';
import { BuildCacheIndex } from './build-cache.js';
import { receiveContext } from './build-context-daemon.js';
import { removeLeftoverLayers } from './build-layer.js';
import type { BuildOptions } from './build-options.js';
import type { BuildOutput } from './build-output.js';
import { pruneBuildCache, type CachePruneReport, type PruneOptions } from './build-prune.js';
import { BuildSession, type BuilderDeps } from './build-session.js';
import { DispatchState, StageResults } from './build-state.js';
import { dispatch } from './build-steps/dispatch.js';
import type { EnvInstruction, FromInstruction, Instruction, Stage } from './dockerfile-ast.js';
import { expandInstruction } from './dockerfile-expand.js';
import { parseDockerfile, parseInstruction } from './dockerfile-parser.js';
import { parseDockerignore, PatternMatcher } from './dockerignore.js';
import { squashImage } from './squash.js';

// The legacy builder (moby builder/dockerfile builder.go + the build backend): the context
// is received, the Dockerfile parsed, the stages up to --target run in order, step by step
// ("Step 2/5 : RUN ...", " ---> <id>"), each step an image on the previous one; at the end
// "Successfully built <id>", the tags, "Successfully tagged <name>". Its on-disk state is
// <dataRoot>/builder/: the index of images builds made (the cache) and temp files.

export type { BuilderDeps } from './build-session.js';
export type { BuildOptions } from './build-options.js';
export type { BuildOutput } from './build-output.js';
export type { CachePruneReport, PruneOptions } from './build-prune.js';

export interface BuilderConfig extends BuilderDeps {
  // `builder prune` frees layers: their sizes, by chain ID.
  layerSizes?: () => Promise<Map<string, number>>;
  events?: { emit(type: 'builder', action: string, id: string, attrs: Record<string, string>): void };
}

export class Builder {
  private readonly dir: string;
  private readonly tmpDir: string;
  private readonly index: BuildCacheIndex;
  // Images running builds made or stand on: prune leaves them alone.
  private readonly busy = new Map<string, number>();
  private ready: Promise<void> | null = null;

  constructor(private readonly deps: BuilderConfig) {
    this.dir = join(deps.dataRoot, 'builder');
    this.tmpDir = join(this.dir, 'tmp');
    this.index = new BuildCacheIndex(this.dir);
  }

  // Once, before the first build or prune: what builds the daemon did not live to finish
  // left behind goes, and the cache index is read.
  init(): Promise<void> {
    this.ready ??= this.load().catch((err: unknown) => {
      this.ready = null; // the next call tries again
      throw err;
    });
    return this.ready;
  }

  private async load(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await removeLeftoverLayers(this.deps.layers, this.tmpDir);
    for (const name of await readdir(this.tmpDir)) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    await this.index.init();
    await this.index.forget((id) => this.deps.images.store.get(id) !== undefined);
  }

  // POST /build. Returns the image ID; progress and RUN output go to out as they happen.
  async build(body: Readable, opts: BuildOptions, out: BuildOutput, signal: AbortSignal): Promise<string> {
    const tags = sanitizeTags(opts.tags);
    await this.init();
    const ctx = await receiveContext(body, { tmpRoot: this.tmpDir, dockerfile: opts.dockerfile, ignored: dockerignored });
    const mine = new Set<string>();
    try {
      const df = parseDockerfile(ctx.dockerfile, ctx.dockerfileName);
      let stages = df.stages;
      if (opts.target) {
        const ix = stages.findIndex((st) => st.from.stageName === opts.target.toLowerCase());
        if (ix < 0) throw invalid(`failed to reach build target ${opts.target} in Dockerfile`);
        stages = stages.slice(0, ix + 1);
      }
      const labelSteps = labelInstructions(opts.labels);
      const stageResults = new StageResults();
      const session = new BuildSession(this.deps, opts, out, signal, {
        contextRoot: ctx.root,
        escapeToken: df.escapeToken,
        stages: stageResults,
        tmpDir: this.tmpDir,
        index: this.index,
        onImage: (id) => this.hold(id, mine),
      });
      try {
        for (const w of df.warnings ?? []) out.stderr(`${w}\n`);
        const state = await this.runStages(session, df.metaArgs, stages, labelSteps, opts);
        if (!state || !state.imageId) throw systemError('No image was generated. Is your Dockerfile empty?');
        await this.index.flush();
        let imageId = state.imageId;
        if (opts.squash) {
          imageId = await this.squash(imageId, state.base);
          out.aux({ ID: imageId }, 'moby.image.id');
        }
        out.stdout(`Successfully built ${shortId(imageId)}\n`);
        for (const ref of tags) {
          await this.deps.images.tag(imageId, refString(ref));
          out.stdout(`Successfully tagged ${familiarString(ref)}\n`);
        }
        return imageId;
      } finally {
        await session.close();
      }
    } finally {
      for (const id of mine) this.release(id);
      // The context goes in the background: the client has its answer without waiting for
      // a large tree to be deleted.
      void ctx.close().catch(() => {});
    }
  }

  // POST /build/prune
  async prune(opts: PruneOptions): Promise<CachePruneReport> {
    await this.init();
    const report = await pruneBuildCache(
      {
        images: this.deps.images,
        containers: this.deps.containers,
        layerSizes: this.deps.layerSizes ?? (async () => new Map()),
        index: this.index,
        busy: new Set(this.busy.keys()),
      },
      opts,
    );
    this.deps.events?.emit('builder', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
    return report;
  }

  // The state of the last stage; null when there was none.
  private async runStages(session: BuildSession, metaArgs: Instruction[], stages: Stage[], labels: Instruction[], opts: BuildOptions): Promise<DispatchState | null> {
    const out = session.out;
    const buildArgs = new BuildArgs(opts.buildArgs);
    const total = metaArgs.length + stages.length + stages.reduce((n, st) => n + st.instructions.length, 0) + labels.length;
    let step = 1;
    // Two writes, two messages, as moby's printCommand.
    const print = (text: string): void => {
      out.stdout(`Step ${step++}/${total} : ${text}`);
      out.stdout('\n');
    };
    for (const meta of metaArgs) {
      print(meta.original);
      const allowed = [...buildArgs.allAllowed()].map(([k, v]) => `${k}=${v}`);
      const expanded = expandInstruction(meta, allowed, session.env.escapeToken);
      if (expanded.kind !== 'ARG') continue;
      for (const a of expanded.args) {
        buildArgs.addArg(a.name, a.default ?? null);
        buildArgs.addMetaArg(a.name, a.default ?? null);
      }
    }
    let state: DispatchState | null = null;
    for (const [i, stage] of stages.entries()) {
      const last = i === stages.length - 1;
      session.env.stages.checkNameAvailable(stage.from.stageName ?? '');
      state = new DispatchState(buildArgs.forStage());
      print(stage.from.original);
      await this.initializeStage(session, state, stage.from);
      state.updateRunConfig();
      out.stdout(` ---> ${shortId(state.imageId)}\n`);
      const steps: Array<[Instruction, boolean]> = [...stage.instructions.map((x): [Instruction, boolean] => [x, false]), ...(last ? labels.map((x): [Instruction, boolean] => [x, true]) : [])];
      for (const [inst, literal] of steps) {
        if (session.signal.aborted) {
          out.stdout('Build cancelled\n');
          throw systemError('Build cancelled');
        }
        print(inst.original);
        await dispatch(session, state, inst, { noExpand: literal });
        state.updateRunConfig();
        out.stdout(` ---> ${shortId(state.imageId)}\n`);
      }
      if (state.imageId) out.aux({ ID: state.imageId });
      buildArgs.mergeReferenced(state.buildArgs);
      session.env.stages.commit(state.stageName, state.runConfig);
    }
    const unused = buildArgs.unusedArgs();
    if (unused.length) out.stdout(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);
    return state;
  }

  // FROM (moby initializeStage): an earlier stage by name, scratch, or an image (pulled
  // when missing); then the base image's ONBUILD triggers run.
  private async initializeStage(session: BuildSession, state: DispatchState, from: FromInstruction): Promise<void> {
    session.prober.reset();
    const meta = [...state.buildArgs.allMeta()].map(([k, v]) => `${k}=${v}`);
    const f = expandInstruction(from, meta, session.env.escapeToken);
    if (f.platform) checkPlatform(f.platform);
    let img: StoredImage | null = null;
    const stage = session.env.stages.getByName(f.image);
    if (stage) img = session.deps.images.resolve(stage.Image ?? '');
    else if (f.image !== 'scratch') img = await session.getImage(f.image, false);
    if (img) session.hold(img.id);
    state.beginStage(f.stageName ?? '', img);
    const triggers = state.runConfig.OnBuild ?? [];
    if (triggers.length === 0) return;
    state.runConfig.OnBuild = null;
    session.out.stdout(`# Executing ${triggers.length} build trigger`);
    if (triggers.length > 1) session.out.stdout('s');
    session.out.stdout('\n');
    for (const trigger of triggers) {
      state.updateRunConfig();
      await dispatch(session, state, parseInstruction(trigger));
    }
  }

  private async squash(imageId: string, base: StoredImage | null): Promise<string> {
    const { images, layers } = this.deps;
    const img = images.store.get(imageId);
    if (!img) throw systemError(`error squashing image: No such image: ${imageId}`);
    try {
      return await images.withLayerLease(() =>
        squashImage({ layers, tmpDir: this.tmpDir, createImage: (config) => images.createImage(config, {}) }, img, base),
      );
    } catch (err) {
      throw new BerthError(err instanceof BerthError ? err.kind : 'System', `error squashing image: ${errorMessage(err)}`);
    }
  }

  private hold(id: string, mine: Set<string>): void {
    if (mine.has(id)) return;
    mine.add(id);
    this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
  }

  private release(id: string): void {
    const n = (this.busy.get(id) ?? 1) - 1;
    if (n > 0) this.busy.set(id, n);
    else this.busy.delete(id);
  }
}

// moby's sanitizeRepoAndTags: every name valid, no digest, each name:tag once.
export function sanitizeTags(names: readonly string[]): NamedRef[] {
  const out: NamedRef[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') continue;
    let ref: NamedRef;
    try {
      ref = parseNormalizedNamed(name);
    } catch (err) {
      throw systemError(errorMessage(err)); // dockerd 20.10 answers 500 here
    }
    if (ref.digest !== undefined) throw invalid('build tag cannot contain a digest');
    const tagged = tagNameOnly(ref);
    const key = refString(tagged);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(tagged);
  }
  return out;
}

// moby removeDockerfile: the Dockerfile and .dockerignore go when .dockerignore lists them.
function dockerignored(rules: string, path: string): boolean {
  return new PatternMatcher(parseDockerignore(rules)).matchesOrParentMatches(path);
}

// --label: one literal LABEL per key, in key order, at the end of the last stage.
function labelInstructions(labels: Record<string, string>): EnvInstruction[] {
  return Object.keys(labels)
    .sort()
    .map((key) => ({ kind: 'LABEL', line: 0, original: `LABEL ${key}=${labels[key]}`, pairs: [{ key, value: labels[key]! }] }));
}

// --platform: os[/arch[/variant]].
function checkPlatform(p: string): void {
  if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+){0,2}$/i.test(p)) throw invalid(`failed to parse platform ${p}: "${p}": unknown operating system or architecture: invalid argument`);
}
