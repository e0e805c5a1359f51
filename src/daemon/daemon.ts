import { mkdir, readFile, writeFile, unlink, chown } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DaemonConfig } from './config.js';
import { EventBus } from './events.js';
import { Overlay2Store } from '../storage/overlay2.js';
import { ImageService } from '../image/image-service.js';
import { ConmonRuntime } from '../runtime/conmon-runtime.js';
import { ContainerService } from '../container/container-service.js';
import { ApiServer } from '../api/server.js';
import { systemRoutes } from '../api/routes/system.js';
import { containerRoutes } from '../api/routes/containers.js';
import { imageRoutes } from '../api/routes/images.js';
import { berthRoutes } from '../api/routes/berth.js';
import { invalid } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { newId } from '../util/ids.js';
import { ENGINE_VERSION } from './version.js';

const run = promisify(execFile);

// Wiring: builds each service once, in dependency order, and serves the API.
export class Daemon {
  readonly events = new EventBus();
  layers!: Overlay2Store;
  images!: ImageService;
  runtime!: ConmonRuntime;
  containers!: ContainerService;
  private servers: ApiServer[] = [];

  constructor(readonly config: DaemonConfig) {}

  async start(): Promise<void> {
    const c = this.config;
    c.dataRoot = resolve(c.dataRoot);
    c.execRoot = resolve(c.execRoot);
    await mkdir(c.dataRoot, { recursive: true, mode: 0o710 });
    await mkdir(c.execRoot, { recursive: true, mode: 0o700 });
    await this.claimPidfile();
    const id = await this.engineId();

    this.layers = new Overlay2Store(c.dataRoot);
    await this.layers.init();
    this.runtime = new ConmonRuntime({ execRoot: c.execRoot });
    // The image and container services need each other's answers (who uses an image;
    // which layers containers sit on): the callbacks close over the later-built service.
    this.images = new ImageService({
      dataRoot: c.dataRoot,
      layers: this.layers,
      events: this.events,
      containersUsing: (imageId) => this.containers.containersUsing(imageId),
      layersInUse: () => this.containers.layersInUse(),
      engineVersion: ENGINE_VERSION,
    });
    await this.images.init();
    this.containers = new ContainerService({
      root: join(c.dataRoot, 'containers'),
      layers: this.layers,
      runtime: this.runtime,
      images: this.images,
      events: this.events,
      cgroupParent: c.cgroupParent,
      layersReleased: () => void this.images.collectLayers(null).catch(() => {}),
    });
    await this.containers.init();

    const routes = [
      ...systemRoutes({
        id,
        dataRoot: c.dataRoot,
        debug: c.debug,
        events: this.events,
        counts: () => this.counts(),
      }),
      ...containerRoutes({ containers: this.containers, layers: this.layers, imageMatches: (imageId, ref) => this.images.matches(imageId, ref), imageSize: async (imageId) => ((await this.images.inspect(imageId)) as { Size: number }).Size }),
      ...imageRoutes(this.images),
      ...berthRoutes(this.images),
    ];
    for (const host of c.hosts) {
      const server = new ApiServer({ routes, debug: c.debug });
      await listen(server, host, c.group);
      this.servers.push(server);
    }
  }

  counts(): { containers: number; running: number; paused: number; stopped: number; images: number } {
    const all = this.containers.store.all();
    const paused = all.filter((r) => r.State.Paused).length;
    const running = all.filter((r) => r.State.Running && !r.State.Paused).length;
    return { containers: all.length, running, paused, stopped: all.length - running - paused, images: this.images.count() };
  }

  // Containers keep running under conmon when berthd stops (live restore by design).
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
    for (const host of this.config.hosts) if (host.startsWith('unix://')) await unlink(host.slice(7)).catch(() => {});
    await unlink(this.config.pidfile).catch(() => {});
  }

  private async claimPidfile(): Promise<void> {
    const old = await readFile(this.config.pidfile, 'utf8').catch(() => '');
    const pid = Number(old.trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw invalid(`pid file found, ensure berthd is not running or delete ${this.config.pidfile}`);
    }
    await writeFileAtomic(this.config.pidfile, `${process.pid}`);
  }

  private async engineId(): Promise<string> {
    const path = join(this.config.dataRoot, 'engine-id');
    const existing = (await readFile(path, 'utf8').catch(() => '')).trim();
    if (existing) return existing;
    const id = newId();
    await writeFile(path, id);
    return id;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function listen(server: ApiServer, host: string, group: string): Promise<void> {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    await server.listenUnix(path, 0o660);
    if (group) {
      const { stdout } = await run('getent', ['group', group]).catch(() => ({ stdout: '' }));
      const gid = Number(stdout.split(':')[2]);
      if (Number.isFinite(gid)) await chown(path, 0, gid);
    }
    return;
  }
  const m = /^tcp:\/\/([^:]*):(\d+)$/.exec(host);
  if (!m) throw invalid(`invalid host: ${host}`);
  await server.listenTcp(m[1] || '127.0.0.1', Number(m[2]));
}
