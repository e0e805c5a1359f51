import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import type { EventBus } from '../daemon/events.js';
import { loadImages, type LoadedImages, type LoadOutput } from './archive-load.js';
import type { LayerTarKeepingStore } from './archive-layer-store.js';
import { planSave, writeSaveArchive } from './archive-save.js';
import type { ImageService } from './image-service.js';
import type { StoredImage } from './image-store.js';

// `save` and `load` over the image service and the layer store. Both run under a layer
// lease: garbage collection waits while a save streams layer tars out or a load has
// registered layers its image does not hold yet.

export interface ImageArchiveDeps {
  images: ImageService;
  layers: LayerTarKeepingStore;
  events: EventBus;
  dataRoot: string;
}

export class ImageArchiveService {
  constructor(private readonly deps: ImageArchiveDeps) {}

  // open() is called once the names are resolved and the layers ready: errors before it
  // are the caller's to report as such; after it, they break the stream.
  async save(names: string[], open: () => Writable): Promise<void> {
    const { images, layers } = this.deps;
    await images.withLayerLease(async () => {
      const plan = await planSave(names, images.store, layers);
      const out = open();
      await pipeline(writeSaveArchive(plan, layers, (img) => this.event('save', img)), out);
    });
  }

  async load(input: Readable, quiet: boolean, out: LoadOutput): Promise<void> {
    await loadImages(input, { images: this.loadedImages(), layers: this.deps.layers, tmpDir: join(this.deps.dataRoot, 'tmp') }, out, { quiet });
  }

  private loadedImages(): LoadedImages {
    const { images } = this.deps;
    return {
      createImage: (config) => images.createImage(config),
      // As dockerd's load: the reference store alone (no `tag` event, no LastTagTime).
      tagForLoad: async (ref, id) => {
        const prev = images.store.refs.get(ref);
        await images.store.refs.addTag(ref, id, true);
        return prev;
      },
      setParent: (id, parent) => images.store.setParent(id, parent),
      getConfig: (id) => images.store.get(id)?.config,
      withLayerLease: (fn) => images.withLayerLease(fn),
      collectLayers: (deleted) => images.collectLayers(deleted),
      settled: () => images.settled(),
      event: (action, id) => {
        const img = images.store.get(id);
        if (img) this.event(action, img);
      },
    };
  }

  // dockerd's LogImageEvent: the image's labels, and its ID as the name.
  private event(action: 'save' | 'load', img: StoredImage): void {
    this.deps.events.emit('image', action, img.id, { ...(img.config.config?.Labels ?? {}), name: img.id });
  }
}
