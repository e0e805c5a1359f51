import type { StoredImage } from '../image/image-store.js';
import type { ContainerConfig } from '../image/types.js';
import { BuildArgs } from './build-args.js';
import { stageRunConfig } from './run-config.js';

// What the dispatchers change as a stage runs (moby's dispatchState), and the results of
// the stages done so far (stagesBuildResults), by name and by index.

export class DispatchState {
  runConfig: ContainerConfig = {};
  maintainer = '';
  cmdSet = false; // CMD given in this stage: a later ENTRYPOINT keeps it
  imageId = '';
  stageName = '';
  os = 'linux';
  base: StoredImage | null = null;

  constructor(public buildArgs: BuildArgs) {}

  beginStage(name: string, img: StoredImage | null): void {
    this.stageName = name;
    this.imageId = img?.id ?? '';
    this.os = img?.config.os || 'linux';
    this.runConfig = stageRunConfig(img?.config.config);
    this.base = img;
  }

  // After every step the config names the image it now stands on.
  updateRunConfig(): void {
    this.runConfig.Image = this.imageId;
  }

  // A FROM line was handled (a scratch stage counts, with no image yet).
  hasFromImage(): boolean {
    return this.imageId !== '' || this.base === null;
  }
}

export class StageResults {
  private readonly flat: ContainerConfig[] = [];
  private readonly byName = new Map<string, ContainerConfig>();

  getByName(name: string): ContainerConfig | undefined {
    return this.byName.get(name.toLowerCase());
  }

  // COPY --from: a stage name, a stage index, or (undefined) something else (an image).
  get(nameOrIndex: string): ContainerConfig | undefined {
    const named = this.getByName(nameOrIndex);
    if (named) return named;
    if (!/^[+-]?\d+$/.test(nameOrIndex)) return undefined;
    const i = Number(nameOrIndex);
    if (i === this.flat.length) throw new Error('refers to current build stage');
    if (i < 0 || i > this.flat.length) throw new Error('index out of bounds');
    return this.flat[i];
  }

  checkNameAvailable(name: string): void {
    if (name && this.getByName(name)) throw new Error(`${name} stage name already used`);
  }

  commit(name: string, config: ContainerConfig): void {
    this.checkNameAvailable(name);
    if (name) this.byName.set(name.toLowerCase(), config);
    this.flat.push(config);
  }
}
