import type { ServerResponse } from 'node:http';
import { mkdir, readFile, writeFile, unlink, chown } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DaemonConfig } from './config.js';
import { EventBus } from './events.js';
import { Overlay2Store } from '../storage/overlay2.js';
import { LayerTarKeepingStore } from '../image/archive-layer-store.js';
import { ImageArchiveService } from '../image/archive-service.js';
import { imageArchiveRoutes } from '../api/routes/image-archive.js';
import { ImageService } from '../image/image-service.js';
import { ConmonRuntime } from '../runtime/conmon-runtime.js';
import { setUpRuntimes } from '../runtime/oci-runtimes.js';
import { ContainerService } from '../container/container-service.js';
import { NetworkService } from '../network/network-service.js';
import { ContainerNetworking } from '../network/container-networking.js';
import { networkRoutes } from '../api/routes/networks.js';
import { VolumeService } from '../volume/volume-service.js';
import { ContainerMounts } from '../volume/container-mounts.js';
import { ResourceLimits } from '../runtime/resource-limits.js';
import { volumeRoutes } from '../api/routes/volumes.js';
import { ApiServer } from '../api/server.js';
import { IdleCollector } from './idle-gc.js';
import { systemRoutes } from '../api/routes/system.js';
import { containerRoutes } from '../api/routes/containers.js';
import { attachRoutes } from '../api/routes/attach.js';
import { imageRoutes } from '../api/routes/images.js';
import { distributionRoutes, pullHandler } from '../api/routes/distribution.js';
import { DistributionService } from '../distribution/distribution-service.js';
import { berthRoutes } from '../api/routes/berth.js';
import { archiveRoutes } from '../api/routes/archive.js';
import { commitRoutes } from '../api/routes/commit.js';
import { ArchiveService } from '../container/archive.js';
import { etcMounts } from '../container/etc-files.js';
import { statsRoutes } from '../api/routes/stats.js';
import { swarmRoutes } from '../api/routes/swarm.js';
import { pluginRoutes } from '../api/routes/plugins.js';
import { execRoutes } from '../api/routes/exec.js';
import { ExecService } from '../container/exec-service.js';
import { HealthMonitor, healthContainersOf } from '../container/health-monitor.js';
import { killProcessTree } from '../runtime/process-tree.js';
import { ContainerTop } from '../container/top.js';
import { conmonExecRuntime } from '../runtime/exec.js';
import { invalid } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { newId } from '../util/ids.js';
import { ENGINE_VERSION } from './version.js';
import { buildRoutes } from '../api/routes/build.js';
import { Builder } from '../build/builder.js';

const run = promisify(execFile);

// Wiring: builds each service once, in dependency order, and serves the API.
export class Daemon {
  readonly events = new EventBus();
  layers!: Overlay2Store;
  images!: ImageService;
  // Registries: pull/push/login/search; distribution.pullImage is the hook for build's FROM.
  distribution!: DistributionService;
  runtime!: ConmonRuntime;
  containers!: ContainerService;
  networks!: NetworkService;
  volumes!: VolumeService;
  private servers: ApiServer[] = [];
  private readonly idleGc = new IdleCollector();
  private health: HealthMonitor | null = null;

  constructor(readonly config: DaemonConfig) {}

  async start(): Promise<void> {
    const c = this.config;
    c.dataRoot = resolve(c.dataRoot);
    c.execRoot = resolve(c.execRoot);
    await mkdir(c.dataRoot, { recursive: true, mode: 0o710 });
    await mkdir(c.execRoot, { recursive: true, mode: 0o700 });
    await this.claimPidfile();
    const id = await this.engineId();

    const layers = new LayerTarKeepingStore(c.dataRoot);
    this.layers = layers;
    await this.layers.init();
    // The OCI runtimes, the host's cgroups readied for crun, and the default chosen.
    const runtimes = await setUpRuntimes({
      execRoot: c.execRoot, cgroupParent: c.cgroupParent, runtimes: c.runtimes, defaultRuntime: c.defaultRuntime,
      log: (line) => process.stderr.write(`berthd: ${line}\n`),
    });
    process.stderr.write(`berthd: default runtime ${runtimes.default.name} (${runtimes.default.path})\n`);
    this.runtime = new ConmonRuntime({ execRoot: c.execRoot, runtimes });
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
    this.distribution = new DistributionService({ dataRoot: c.dataRoot, daemonJson: c.raw, images: this.images, layers, events: this.events, userAgent: `berth/${ENGINE_VERSION}`,
      bootstrap: (kind, tag, progress) => this.images.bootstrap(kind, { tag }, progress),
    });
    await this.distribution.init();
    this.volumes = new VolumeService({ root: join(c.dataRoot, 'volumes'), events: this.events });
    await this.volumes.init();
    // Bridges, chains and DNS first; the containers that survived a restart then get their
    // ports back, and only then are the iptables rules reconciled.
    this.networks = new NetworkService({ root: join(c.dataRoot, 'network'), config: c.raw, events: this.events, containers: () => this.containers.store });
    await this.networks.init();
    const containerNetworking = new ContainerNetworking(this.networks, (cid) => this.containers.store.dir(cid));
    this.containers = new ContainerService({
      root: join(c.dataRoot, 'containers'),
      layers: this.layers,
      runtime: this.runtime,
      images: this.images,
      events: this.events,
      cgroupParent: c.cgroupParent,
      layersReleased: () => void this.images.collectLayers(null).catch(() => {}),
      mounts: new ContainerMounts(this.volumes, this.events),
      limits: new ResourceLimits(),
      network: containerNetworking,
      runtimeName: (requested) => runtimes.resolve(requested),
    });
    await this.containers.init();
    await this.networks.restoreRules();

    const execs = new ExecService({ containers: this.containers.store, runtime: conmonExecRuntime(this.runtime, c.execRoot), events: this.events });
    // Healthchecks run as execs; containers still running from before a restart get theirs back.
    this.health = new HealthMonitor({ containers: healthContainersOf(this.containers), execs, events: this.events, killTree: killProcessTree });
    this.health.restore();
    const top = new ContainerTop({ containers: this.containers.store, cgroupParent: c.cgroupParent, events: this.events });
    const routes = [
      ...systemRoutes({
        id,
        dataRoot: c.dataRoot,
        debug: c.debug,
        events: this.events,
        counts: () => this.counts(),
        runtimes: () => ({ runtimes: runtimes.info(), default: runtimes.default.name }),
      }),
      ...containerRoutes({ containers: this.containers, layers: this.layers, imageMatches: (imageId, ref) => this.images.matches(imageId, ref), imageId: (ref) => this.images.imageId(ref), imageSize: async (imageId) => ((await this.images.inspect(imageId)) as { Size: number }).Size, execIds: (id) => execs.execIds(id), events: this.events }),
      ...attachRoutes({ containers: this.containers, events: this.events }),
      ...execRoutes({ execs, top }),
      ...imageRoutes(this.images, pullHandler(this.distribution)),
      ...distributionRoutes(this.distribution),
      ...networkRoutes({ networks: this.networks, containerNetworking, updateNetworking: (ref, fn) => this.containers.updateNetworking(ref, fn) }),
      ...berthRoutes(this.images),
      ...imageArchiveRoutes(new ImageArchiveService({ images: this.images, layers, events: this.events, dataRoot: c.dataRoot })),
      ...statsRoutes({ containers: this.containers, cgroupParent: c.cgroupParent }),
      ...swarmRoutes(),
      ...pluginRoutes(),
      ...archiveRoutes(
        new ArchiveService({
          containers: this.containers,
          layers: this.layers,
          runtime: this.runtime,
          fileMounts: (rec) => etcMounts(this.containers.store.dir(rec.Id), false),
        }),
      ),
      ...commitRoutes({ containers: this.containers, images: this.images, layers: this.layers }),
      ...buildRoutes(new Builder({ dataRoot: c.dataRoot, images: this.images, layers, containers: this.containers, engineVersion: ENGINE_VERSION, events: this.events, layerSizes: async () => new Map((await layers.list()).map((l) => [l.chainId, l.size])), pullImage: async (ref, o) => void (await this.distribution.pullImage(ref, { platform: o.platform, auth: o.auth }, (m) => o.progress.message({ ...m }))) })),
      ...volumeRoutes({ volumes: this.volumes, df: { images: this.images, layers: this.layers, containers: () => this.containers.store.all(), volumes: () => this.volumes.usage() } }),
    ];
    for (const host of c.hosts) {
      const server = new ApiServer({ routes, debug: c.debug });
      server.server.on('request', (_req, res: ServerResponse) => {
        this.idleGc.begin();
        res.once('close', () => this.idleGc.end());
      });
      await listen(server, host, c.group);
      this.servers.push(server);
    }
    this.idleGc.arm(); // start-up's own garbage
  }

  counts(): { containers: number; running: number; paused: number; stopped: number; images: number } {
    const all = this.containers.store.all();
    const paused = all.filter((r) => r.State.Paused).length;
    const running = all.filter((r) => r.State.Running && !r.State.Paused).length;
    return { containers: all.length, running, paused, stopped: all.length - running - paused, images: this.images.count() };
  }

  // Containers keep running under conmon when berthd stops (live restore by design).
  async stop(): Promise<void> {
    this.health?.close();
    this.idleGc.cancel();
    await Promise.all(this.servers.map((s) => s.close()));
    await this.networks?.close();
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
