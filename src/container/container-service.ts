import { mkdir } from 'node:fs/promises';
import { initBinary } from '../runtime/init-binary.js';
import { logSizeMax } from './log-config.js';
import { join } from 'node:path';
import type { EventBus } from '../daemon/events.js';
import type { LayerStore } from '../storage/types.js';
import type { AttachSession, ContainerRuntime, ExitInfo } from '../runtime/types.js';
import { conflict, invalid, notModified, systemError, errorMessage, errorKind, BerthError } from '../util/errors.js';
import { newId } from '../util/ids.js';
import { parseSignal } from '../util/signals.js';
import { ContainerStore } from './container-store.js';
import { mergeCreateConfig, type CreateBody, type ImageRunConfig } from './create-config.js';
import { ensureEtcFiles, etcMounts, writeEtcFiles, type EtcFilesInput } from './etc-files.js';
import { generateName, isValidName } from './names.js';
import { ZERO_TIME, type ContainerRecord } from './types.js';
import { Waiters, type WaitCondition } from './waiters.js';
import { RestartManager, restartPolicyError, startsAtBoot } from './restart-manager.js';
import { containerCgroupsPath } from '../runtime/cgroup-paths.js';
import { normalizeCap } from '../runtime/capabilities.js';
import { KeyedLock } from '../util/keyed-lock.js';
import type { ContainerMounts, MountRequest } from '../volume/container-mounts.js';
import type { ApiMount } from '../volume/types.js';
import { rootfsPropagation } from '../volume/propagation.js';
import { resolveMountTargets } from '../volume/mount-targets.js';
import type { ResourceLimits } from '../runtime/resource-limits.js';
import type { ResourceConfig } from '../runtime/resources.js';
import type { ContainerNetworking } from '../network/container-networking.js';

// What the container service needs of the image side: nothing more.
export interface ImageLookup {
  resolveForRun(name: string): Promise<{ id: string; config: ImageRunConfig; topChainId: string | null }>;
  matches(imageId: string, nameOrId: string): Promise<boolean>;
}

export interface ContainerServiceDeps {
  root: string; // <dataRoot>/containers
  layers: LayerStore;
  runtime: ContainerRuntime;
  images: ImageLookup;
  events: EventBus;
  cgroupParent: string; // e.g. '/berth'
  // Called after a container's layers are gone, so image layers nothing uses are freed.
  layersReleased?: () => void;
  mounts: ContainerMounts; // volumes, binds and tmpfs (src/volume)
  limits: ResourceLimits; // cgroup limits, devices, ulimits (src/runtime/resources.ts)
  network?: ContainerNetworking; // bridges, addresses, ports (src/network); absent: loopback only
  // HostConfig.Runtime as recorded at create: the default for none, Docker's error for an unknown one.
  runtimeName?: (requested: string | undefined) => string;
}

const nowIso = (): string => new Date().toISOString();

// The lifecycle of containers: create → start → (exit) → remove. Every state change
// is written to disk before it is reported, so a restarted berthd reads the truth.
export class ContainerService {
  readonly store: ContainerStore;
  private readonly waiters = new Waiters();
  private readonly lock = new KeyedLock();
  // Attach requests that arrived before start: served between `runc create` and `runc start`,
  // so not a byte of output is missed (the docker CLI attaches, then starts).
  private readonly pendingAttach = new Map<string, Array<{ streams: AttachStreams; resolve: (s: AttachSession) => void; reject: (e: unknown) => void }>>();
  // Aborted when a container stops: ends `logs -f` and waiting attachers.
  private readonly running = new Map<string, AbortController>();
  private readonly restarts = new RestartManager();

  constructor(private readonly deps: ContainerServiceDeps) {
    this.store = new ContainerStore(deps.root);
  }

  async init(): Promise<void> {
    await this.store.load();
    for (const rec of this.store.all()) this.deps.mounts.restore(rec.Id, rec.MountPoints, rec.State.Running && !rec.State.Restarting);
    this.deps.runtime.onExit((info) => void this.handleExit(info));
    await Promise.all(this.store.all().map((rec) => this.recover(rec)));
    // As dockerd at start-up: containers their restart policy wants running are started.
    await Promise.all(
      this.store.all().filter(startsAtBoot).map((rec) =>
        this.start(rec.Id).catch((err) => process.stderr.write(`berthd: restart policy: starting ${rec.Id}: ${errorMessage(err)}\n`)),
      ),
    );
  }

  // After a berthd restart: containers conmon kept alive stay running; the ones that
  // exited meanwhile get their recorded exit code; the ones whose monitor is gone died.
  // Exits found here are recorded without the restart policy: init's start-up pass applies it.
  private async recover(rec: ContainerRecord): Promise<void> {
    if (rec.State.Restarting) {
      // berthd went down between an exit and its restart by policy.
      rec.State = { ...rec.State, Status: 'exited', Running: false, Restarting: false };
      return this.store.save(rec);
    }
    if (!rec.State.Running) return;
    const info = await this.deps.runtime.exitInfo(rec.Id);
    if (info) return this.handleExit(info, true);
    if (await this.deps.runtime.monitorAlive(rec.Id)) {
      this.running.set(rec.Id, new AbortController());
      await this.deps.network?.adopt(rec);
      return;
    }
    await this.handleExit({ id: rec.Id, exitCode: 255, finishedAt: new Date() }, true);
  }

  // ---- create -------------------------------------------------------------------

  async create(body: CreateBody, requestedName: string | null): Promise<{ Id: string; Warnings: string[] }> {
    if (!body.Image) throw invalid('Config cannot be empty in order to create a container');
    if (requestedName !== null && requestedName !== '' && !isValidName(requestedName)) {
      throw invalid(`Invalid container name (${requestedName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    }
    // As moby's verifyContainerSettings: the request's own policy, before the image is looked up.
    const policyError = restartPolicyError(body.HostConfig?.RestartPolicy);
    if (policyError) throw invalid(policyError);
    checkCapabilities(body.HostConfig?.CapAdd, 'CapAdd');
    checkCapabilities(body.HostConfig?.CapDrop, 'CapDrop');
    const runtime = this.deps.runtimeName?.(body.HostConfig?.Runtime);
    const image = await this.deps.images.resolveForRun(body.Image);
    const id = newId();
    const merged = mergeCreateConfig(body, body.Image, image.config, id);
    validateHostConfig(merged.HostConfig);
    if (runtime) merged.HostConfig.Runtime = runtime;
    const limits = await this.deps.limits.checkCreate(merged.HostConfig);
    Object.assign(merged.HostConfig, limits.resources);
    const name = `/${(requestedName || generateName((n) => this.store.hasName(n))).replace(/^\//, '')}`;
    const net = this.deps.network?.plan({
      id, name, hostConfig: merged.HostConfig, config: merged.Config, networkingConfig: body.NetworkingConfig,
      userHostname: body.Hostname ?? '', userExposedPorts: body.ExposedPorts ?? undefined, legacyMacAddress: (body as { MacAddress?: string }).MacAddress,
    });
    if (net?.hostname) merged.Config.Hostname = net.hostname;
    this.store.reserveName(name, id);
    const rec: ContainerRecord = {
      Id: id,
      Created: nowIso(),
      Path: merged.Path,
      Args: merged.Args,
      State: {
        Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
      },
      Image: image.id,
      Name: name,
      RestartCount: 0,
      Config: merged.Config,
      HostConfig: merged.HostConfig,
      ImageChainId: image.topChainId,
    };
    if (net) rec.NetworkSettings = net.settings;
    const dir = this.store.dir(id);
    try {
      await mkdir(dir, { recursive: true });
      // Independent: the layer store and the container's own directory. Both settle before
      // any cleanup below, so none races a write still under way.
      const made = await Promise.allSettled([this.deps.layers.createRw(id, image.topChainId), writeEtcFiles(dir, etcInput(rec))]);
      for (const r of made) if (r.status === 'rejected') throw r.reason;
      rec.MountPoints = await this.deps.mounts.prepare(mountRequest(rec), {
        containerId: id,
        mountPointsOf: (ref) => this.store.resolve(ref).MountPoints ?? [],
        withRootfs: async (fn) => {
          const rootfs = await this.deps.layers.mountRw(id);
          try {
            return await fn(rootfs);
          } finally {
            await this.deps.layers.unmountRw(id);
          }
        },
      });
      await this.store.save(rec);
    } catch (err) {
      await this.deps.mounts.release(id, rec.MountPoints, true).catch(() => {});
      this.store.releaseName(name, id);
      await this.deps.layers.removeRw(id).catch(() => {});
      await this.store.delete(rec).catch(() => {});
      throw err;
    }
    // HostConfig.ContainerIDFile is the client's (--cidfile, relative to its cwd): the CLI
    // writes it, as dockerd leaves it alone.
    this.deps.events.emit('container', 'create', id, this.attrs(rec));
    return { Id: id, Warnings: [...limits.warnings, ...(net?.warnings ?? [])] };
  }

  // ---- start --------------------------------------------------------------------

  async start(ref: string): Promise<void> {
    const rec0 = this.store.resolve(ref);
    let failedToRun = false;
    await this.lock.run(rec0.Id, async () => {
      const rec = this.store.resolve(rec0.Id);
      if (rec.State.Paused) throw conflict(`cannot start a paused container, try unpause instead`);
      if (rec.State.Running) throw notModified('container already started');
      if (rec.State.Status === 'removing') throw conflict(`container is marked for removal and cannot be started`);
      // A start by the user begins the restart policy afresh (moby's ResetRestartManager).
      this.restarts.reset(rec.Id);
      rec.RestartCount = 0;
      delete rec.HasBeenManuallyStopped;
      failedToRun = true;
      await this.startLocked(rec);
      failedToRun = false;
    }).catch(async (err) => {
      // As Docker: a --rm container that cannot run is removed (the CLI waits for that).
      if (failedToRun && rec0.HostConfig.AutoRemove) await this.remove(rec0.Id, { force: true, volumes: true }).catch(() => {});
      throw err;
    });
  }

  private async startLocked(rec: ContainerRecord): Promise<void> {
    const { layers, runtime } = this.deps;
    const dir = this.store.dir(rec.Id);
    // Addresses are chosen before runc mounts the /etc files, so hosts already names them.
    const net = await this.deps.network?.prepare(rec, etcInput);
    const [rootfs] = await Promise.all([layers.mountRw(rec.Id), net ? writeEtcFiles(dir, net.etc) : ensureEtcFiles(dir, etcInput(rec))]);
    try {
      if (rec.Config.WorkingDir) await mkdir(join(rootfs, rec.Config.WorkingDir), { recursive: true });
      const [userMounts, limits] = await Promise.all([
        this.deps.mounts.specMounts(rec.Id, rec.MountPoints ?? [], rec.HostConfig.Tmpfs as Record<string, string> | undefined).then((m) => resolveMountTargets(rootfs, m)),
        this.deps.limits.specFor(rec.HostConfig),
      ]);
      const { pid, conmonPid } = await runtime.create(
        {
          id: rec.Id,
          rootfs,
          args: [rec.Path, ...rec.Args],
          env: rec.Config.Env,
          cwd: rec.Config.WorkingDir || '/',
          user: rec.Config.User,
          hostname: rec.Config.Hostname,
          domainname: rec.Config.Domainname,
          tty: rec.Config.Tty,
          readonlyRootfs: rec.HostConfig.ReadonlyRootfs,
          privileged: rec.HostConfig.Privileged,
          capAdd: rec.HostConfig.CapAdd ?? [],
          capDrop: rec.HostConfig.CapDrop ?? [],
          // A user's mount of /etc/hosts (or resolv.conf, hostname) replaces berth's.
          mounts: [...userMounts, ...etcMounts(dir, rec.HostConfig.ReadonlyRootfs).filter((m) => !userMounts.some((u) => u.destination === m.destination))],
          resources: limits.resources,
          devices: limits.devices,
          ulimits: limits.ulimits,
          cgroupsPath: containerCgroupsPath(this.deps.cgroupParent, rec.Id, rec.HostConfig.CgroupParent),
          netns: net?.netns ?? (rec.HostConfig.NetworkMode === 'host' ? { mode: 'host' } : { mode: 'new' }),
          hostNamespaces: (['pid', 'ipc'] as const).filter((t) => (t === 'pid' ? rec.HostConfig.PidMode : rec.HostConfig.IpcMode) === 'host'),
          shmSize: rec.HostConfig.ShmSize,
          groupAdd: rec.HostConfig.GroupAdd ?? [],
          consoleSize: rec.HostConfig.ConsoleSize as [number, number] | undefined,
          init: rec.HostConfig.Init ? initBinary() : undefined,
          sysctl: (rec.HostConfig.Sysctls as Record<string, string> | null | undefined) ?? undefined,
          runtime: rec.HostConfig.Runtime,
          rootfsPropagation: await rootfsPropagation(userMounts),
        },
        { logPath: this.logPath(rec.Id), logSizeMax: logSizeMax(rec.HostConfig.LogConfig), tty: rec.Config.Tty, openStdin: rec.Config.OpenStdin, stdinOnce: rec.Config.StdinOnce },
      );
      // The new netns exists now (runc create): veths and published ports, before the process runs.
      await this.deps.network?.join(rec, pid);
      await this.servePendingAttach(rec.Id);
      this.running.set(rec.Id, new AbortController());
      await runtime.start(rec.Id);
      rec.State = {
        ...rec.State,
        Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
        // FinishedAt stays the last exit's time, as moby's State.SetRunning leaves it.
        Pid: pid, ExitCode: 0, Error: '', StartedAt: nowIso(),
      };
      rec.ConmonPid = conmonPid;
      await this.store.save(rec);
    } catch (err) {
      this.running.get(rec.Id)?.abort();
      this.running.delete(rec.Id);
      await this.deps.network?.leave(rec).catch(() => {});
      await runtime.delete(rec.Id).catch(() => {});
      await this.deps.mounts.stopped(rec.Id, rec.MountPoints).catch(() => {});
      await layers.unmountRw(rec.Id).catch(() => {});
      const message = errorMessage(err);
      rec.State = { ...rec.State, Status: rec.State.StartedAt === ZERO_TIME ? 'created' : 'exited', Running: false, Pid: 0, Error: message, ExitCode: exitCodeForStartError(message) };
      await this.store.save(rec).catch(() => {});
      this.rejectPendingAttach(rec.Id, err);
      // Docker answers 400 for a command that cannot be run, 500 for anything else.
      throw err instanceof BerthError ? err : new BerthError(/executable file not found|no such file or directory|permission denied|not a directory/.test(message) ? 'InvalidParameter' : 'System', message);
    }
    this.deps.events.emit('container', 'start', rec.Id, this.attrs(rec));
  }

  // ---- exit, stop, kill ------------------------------------------------------------

  private async handleExit(info: ExitInfo, recovering = false): Promise<void> {
    const rec = this.store.get(info.id);
    if (!rec) return;
    let removed = false;
    let restartIn: number | null = null;
    await this.lock.run(rec.Id, async () => {
      if ((!rec.State.Running && rec.State.Status !== 'paused') || rec.State.Restarting) return;
      if (!recovering && !rec.HostConfig.AutoRemove) {
        restartIn = this.restarts.afterExit(rec.Id, rec.HostConfig.RestartPolicy, {
          exitCode: info.exitCode,
          manuallyStopped: rec.HasBeenManuallyStopped === true,
          restartCount: rec.RestartCount,
          ranForMs: info.finishedAt.getTime() - Date.parse(rec.State.StartedAt),
        });
      }
      // Between exit and restart Docker counts the container as running (stop, rm and
      // start treat it so) and shows it as restarting.
      const restarting = restartIn !== null;
      if (restarting) rec.RestartCount++;
      rec.State = {
        ...rec.State,
        Status: restarting ? 'restarting' : 'exited', Running: restarting, Paused: false, Restarting: restarting, Pid: 0,
        ExitCode: info.exitCode, FinishedAt: info.finishedAt.toISOString(), OOMKilled: info.oomKilled === true,
      };
      delete rec.ConmonPid;
      await this.deps.network?.leave(rec).catch(() => {});
      await this.deps.mounts.stopped(rec.Id, rec.MountPoints).catch(() => {});
      // --rm: removed under this same lock, so the record goes from running to deleted
      // without an exited state written in between (a crash before the delete reads as an
      // exit at the next start-up, and is then removed the same way).
      if (rec.HostConfig.AutoRemove) removed = await this.removeLocked(rec, true).then(() => true, () => false);
      if (!removed && this.store.get(rec.Id)) {
        // Independent once the process is gone: runc's state and the rootfs mount.
        await Promise.all([this.deps.runtime.delete(rec.Id).catch(() => {}), this.deps.layers.unmountRw(rec.Id).catch(() => {})]);
        rec.State.Status = restarting ? 'restarting' : 'exited';
        await this.store.save(rec);
      }
      this.running.get(rec.Id)?.abort();
      this.running.delete(rec.Id);
      // Docker reports the OOM kill first, then the death it caused.
      if (info.oomKilled) this.deps.events.emit('container', 'oom', rec.Id, this.attrs(rec));
      this.deps.events.emit('container', 'die', rec.Id, { ...this.attrs(rec), exitCode: String(info.exitCode) });
    });
    this.waiters.exited(rec.Id, info.exitCode);
    if (restartIn !== null) this.restarts.schedule(rec.Id, restartIn, () => void this.restartByPolicy(rec.Id));
    if (removed) this.removed(rec);
    else if (rec.HostConfig.AutoRemove) await this.remove(rec.Id, { force: true, volumes: true }).catch(() => {});
  }

  private async restartByPolicy(id: string): Promise<void> {
    await this.lock.run(id, async () => {
      const rec = this.store.get(id);
      if (!rec || !rec.State.Restarting || this.restarts.isCanceled(id)) return;
      try {
        await this.startLocked(rec);
      } catch (err) {
        // As moby: a restart that fails leaves the container stopped, with no further attempt.
        rec.State = { ...rec.State, Status: 'exited', Running: false, Restarting: false };
        await this.store.save(rec).catch(() => {});
        process.stderr.write(`berthd: restart policy: restarting ${id}: ${errorMessage(err)}\n`);
      }
    });
  }

  // docker stop / kill / rm (moby's ExitOnNext and HasBeenManuallyStopped): `cancel` calls
  // off restarts by policy until the next start by the user. True when the container was
  // between two runs: there is no process to signal, and if cancelled it is now stopped.
  private async markManuallyStopped(rec: ContainerRecord, cancel = true): Promise<boolean> {
    if (cancel) this.restarts.cancel(rec.Id);
    // Written with the exit this leads to; no lock taken for a running container, so a kill
    // never waits behind a long cp or export.
    rec.HasBeenManuallyStopped = true;
    if (!rec.State.Restarting || !cancel) return rec.State.Restarting;
    const stopped = await this.lock.run(rec.Id, async () => {
      // A restart that was already under way has finished: there is a process to stop.
      if (!this.store.get(rec.Id) || !rec.State.Restarting) return false;
      rec.State = { ...rec.State, Status: 'exited', Running: false, Restarting: false };
      await this.store.save(rec);
      return true;
    });
    if (stopped) this.waiters.exited(rec.Id, rec.State.ExitCode);
    return stopped;
  }

  // docker update (moby's ContainerUpdate): new limits kept in HostConfig and written into
  // the cgroups at once when the container runs; a failed write puts the old HostConfig back.
  async update(ref: string, body: ResourceConfig & { RestartPolicy?: { Name?: string; MaximumRetryCount?: number } }): Promise<{ Warnings: string[] }> {
    const rec0 = this.store.resolve(ref);
    const warnings = await this.lock.run(rec0.Id, async () => {
      const rec = this.store.resolve(rec0.Id);
      const cannot = (kind: 'Conflict' | 'System', msg: string): BerthError => new BerthError(kind, `Cannot update container ${rec.Id}: ${msg}`);
      if (rec.State.Status === 'removing' || rec.State.Dead) throw cannot('Conflict', 'container is marked for removal and cannot be "update"');
      const { merged, oci, warnings } = await this.deps.limits.checkUpdate(rec.Id, rec.HostConfig, body);
      const policy = body.RestartPolicy?.Name ? { Name: body.RestartPolicy.Name, MaximumRetryCount: body.RestartPolicy.MaximumRetryCount ?? 0 } : null;
      if (policy) {
        const policyError = restartPolicyError(policy);
        if (policyError) throw invalid(policyError);
        if (rec.HostConfig.AutoRemove && policy.Name !== 'no') throw cannot('Conflict', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
      }
      const before = rec.HostConfig;
      rec.HostConfig = { ...before, ...merged, ...(policy ? { RestartPolicy: policy } : {}) };
      await this.store.save(rec);
      if (rec.State.Running && !rec.State.Restarting) {
        try {
          await this.deps.runtime.update(rec.Id, oci);
        } catch (err) {
          rec.HostConfig = before;
          await this.store.save(rec).catch(() => {});
          throw cannot('System', errorMessage(err));
        }
      }
      return warnings;
    });
    this.deps.events.emit('container', 'update', rec0.Id, this.attrs(rec0));
    return { Warnings: warnings };
  }

  // Freeze every process through the cgroup freezer (runc pause); state stays on disk.
  async pause(ref: string): Promise<void> {
    const rec = this.store.resolve(ref);
    await this.lock.run(rec.Id, async () => {
      if (!rec.State.Running) throw conflict(`Container ${rec.Id} is not running`);
      if (rec.State.Paused) throw conflict(`Container ${rec.Id} is already paused`);
      if (rec.State.Restarting) throw conflict(`Container ${rec.Id} is restarting, wait until the container is running`);
      await this.deps.runtime.pause(rec.Id);
      rec.State = { ...rec.State, Status: 'paused', Paused: true };
      await this.store.save(rec);
    });
    this.deps.events.emit('container', 'pause', rec.Id, this.attrs(rec));
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.store.resolve(ref);
    await this.lock.run(rec.Id, async () => {
      if (!rec.State.Paused) throw conflict(`Container ${rec.Id} is not paused`);
      await this.deps.runtime.resume(rec.Id);
      rec.State = { ...rec.State, Status: 'running', Paused: false };
      await this.store.save(rec);
    });
    this.deps.events.emit('container', 'unpause', rec.Id, this.attrs(rec));
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.store.resolve(ref);
    if (!newName) throw invalid('Neither old nor new names may be empty');
    const name = `/${newName.replace(/^\//, '')}`;
    if (name === rec.Name) throw invalid(`Renaming a container with the same name as its current name`);
    // moby's rename wraps what reserving the name says.
    const allocating = 'Error when allocating new name: ';
    if (!isValidName(newName)) throw invalid(`${allocating}Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const oldName = rec.Name;
    try {
      this.store.reserveName(name, rec.Id);
    } catch (err) {
      throw new BerthError(errorKind(err), allocating + errorMessage(err));
    }
    rec.Name = name;
    try {
      await this.store.save(rec);
    } catch (err) {
      rec.Name = oldName;
      this.store.releaseName(name, rec.Id);
      throw err;
    }
    this.store.releaseName(oldName, rec.Id);
    this.deps.events.emit('container', 'rename', rec.Id, { ...this.attrs(rec), oldName });
  }

  async kill(ref: string, signal: string | undefined): Promise<void> {
    // moby checks the signal before it looks the container up.
    const sig = parseSignal(signal, 'SIGKILL');
    const rec = this.store.resolve(ref);
    if (!rec.State.Running) throw conflict(`Container ${rec.Id} is not running`);
    // Only the stop signal (or SIGKILL) ends the restart policy; any kill counts as manual.
    const stopSig = rec.Config.StopSignal ? parseSignal(rec.Config.StopSignal, 'SIGTERM') : 0;
    if (await this.markManuallyStopped(rec, !stopSig || sig === 9 || sig === stopSig)) return;
    // Docker signals the init process only (a HUP to reload must not reach the workers);
    // SIGKILL goes to every process, which ends the same way once init is gone.
    await this.deps.runtime.kill(rec.Id, sig, sig === 9);
    this.deps.events.emit('container', 'kill', rec.Id, { ...this.attrs(rec), signal: String(sig) });
  }

  // SIGTERM (or the image's STOPSIGNAL), then SIGKILL after the grace period.
  async stop(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const rec = this.store.resolve(ref);
    if (!rec.State.Running) throw notModified('container already stopped');
    if (await this.markManuallyStopped(rec)) {
      this.deps.events.emit('container', 'stop', rec.Id, this.attrs(rec));
      return;
    }
    const sig = parseSignal(signal || rec.Config.StopSignal, 'SIGTERM');
    const grace = timeoutSec ?? rec.Config.StopTimeout ?? 10;
    const exited = this.waiters.wait(rec.Id, 'not-running', () => this.store.get(rec.Id));
    if (rec.State.Paused) await this.deps.runtime.resume(rec.Id).catch(() => {});
    await this.deps.runtime.kill(rec.Id, sig, false).catch(() => {});
    this.deps.events.emit('container', 'kill', rec.Id, { ...this.attrs(rec), signal: String(sig) });
    const done = grace < 0 ? await exited.then(() => true) : await raceTimeout(exited, grace * 1000);
    if (!done) {
      await this.deps.runtime.kill(rec.Id, 9, true).catch(() => {});
      this.deps.events.emit('container', 'kill', rec.Id, { ...this.attrs(rec), signal: '9' });
      await exited;
    }
    this.deps.events.emit('container', 'stop', rec.Id, this.attrs(rec));
  }

  async restart(ref: string, timeoutSec?: number, signal?: string): Promise<void> {
    const rec = this.store.resolve(ref);
    if (rec.State.Running) await this.stop(rec.Id, timeoutSec, signal);
    await this.start(rec.Id);
    this.deps.events.emit('container', 'restart', rec.Id, this.attrs(rec));
  }

  // ---- remove ------------------------------------------------------------------

  async remove(ref: string, opts: { force: boolean; volumes: boolean }): Promise<void> {
    const rec = this.store.resolve(ref);
    if (rec.State.Running && !opts.force) {
      throw conflict(`cannot remove container "${rec.Name}": container is ${rec.State.Restarting ? 'restarting' : 'running'}: stop the container before removing or force remove`);
    }
    if (rec.State.Running) await this.markManuallyStopped(rec);
    if (rec.State.Running) {
      const exited = this.waiters.wait(rec.Id, 'not-running', () => this.store.get(rec.Id));
      if (rec.State.Paused) await this.deps.runtime.resume(rec.Id).catch(() => {});
      await this.deps.runtime.kill(rec.Id, 9, true).catch(() => {});
      this.deps.events.emit('container', 'kill', rec.Id, { ...this.attrs(rec), signal: '9' });
      await raceTimeout(exited, 15_000);
    }
    const removedHere = await this.lock.run(rec.Id, async () => {
      // Gone meanwhile (--rm, or another remove): that one reported it.
      if (!this.store.get(rec.Id)) return false;
      await this.removeLocked(rec, opts.volumes);
      return true;
    });
    if (removedHere) this.removed(rec);
  }

  // Under the container's lock.
  // volumes: the container's anonymous volumes go too (rm -v, --rm), unless still used.
  private async removeLocked(rec: ContainerRecord, volumes = false): Promise<void> {
    rec.State.Status = 'removing';
    // Independent (the container has exited): side by side, they cost the slowest of them.
    await Promise.all([
      this.deps.network?.leave(rec).catch(() => {}),
      this.deps.runtime.delete(rec.Id).catch(() => {}),
      this.deps.layers.removeRw(rec.Id),
    ]);
    await this.store.delete(rec);
    await this.deps.mounts.release(rec.Id, rec.MountPoints, volumes);
  }

  private removed(rec: ContainerRecord): void {
    this.restarts.reset(rec.Id);
    this.deps.layersReleased?.();
    this.rejectPendingAttach(rec.Id, new Error('container removed'));
    this.deps.events.emit('container', 'destroy', rec.Id, this.attrs(rec));
    this.waiters.removed(rec.Id);
  }

  // ---- wait, attach, logs -------------------------------------------------------

  async wait(ref: string, condition: WaitCondition): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const rec = this.store.resolve(ref);
    const code = await this.waiters.wait(rec.Id, condition, () => this.store.get(rec.Id));
    return { StatusCode: code, Error: null };
  }

  // Resolves a promise once the wait is registered, so callers can flush headers first.
  waitRegistered(ref: string, condition: WaitCondition): Promise<number> {
    const rec = this.store.resolve(ref);
    return this.waiters.wait(rec.Id, condition, () => this.store.get(rec.Id));
  }

  async attach(ref: string, streams: AttachStreams): Promise<{ rec: ContainerRecord; session: Promise<AttachSession> }> {
    const rec = this.store.resolve(ref);
    if (rec.State.Running) {
      // It may have just exited, its monitor gone before its exit is recorded: the stream
      // ends quietly, as moby's attach to a stopped container does.
      const session = this.deps.runtime.attach(rec.Id, streams).catch((err: unknown) => {
        throw errorKind(err) === 'NotFound' ? new AttachEnded(errorMessage(err)) : err;
      });
      return { rec, session };
    }
    if (rec.State.Status === 'exited' || rec.State.Status === 'created' || rec.State.Status === 'dead') {
      const session = new Promise<AttachSession>((resolve, reject) => {
        const list = this.pendingAttach.get(rec.Id) ?? [];
        list.push({ streams, resolve, reject });
        this.pendingAttach.set(rec.Id, list);
      });
      return { rec, session };
    }
    throw conflict(`You cannot attach to a ${rec.State.Status} container, start it first`);
  }

  cancelPendingAttach(id: string, session: Promise<AttachSession>): void {
    const list = this.pendingAttach.get(id);
    if (!list) return;
    session.then((s) => s.close(), () => {});
  }

  private async servePendingAttach(id: string): Promise<void> {
    const list = this.pendingAttach.get(id) ?? [];
    this.pendingAttach.delete(id);
    await Promise.all(
      list.map(async (p) => {
        try {
          p.resolve(await this.deps.runtime.attach(id, p.streams));
        } catch (err) {
          p.reject(err);
        }
      }),
    );
  }

  // The container never ran (start failed, or it was removed): waiting attachers end
  // quietly, as moby's do; the start's own error is what the client reports.
  private rejectPendingAttach(id: string, cause: unknown): void {
    const list = this.pendingAttach.get(id) ?? [];
    this.pendingAttach.delete(id);
    for (const p of list) p.reject(new AttachEnded(errorMessage(cause)));
  }

  // A signal that aborts when the container stops (for `logs -f`); already aborted if not running.
  stopSignal(id: string): AbortSignal {
    const ac = this.running.get(id);
    return ac ? ac.signal : AbortSignal.abort();
  }

  logPath(id: string): string {
    return join(this.store.dir(id), 'container.log');
  }

  async resize(ref: string, h: number, w: number): Promise<void> {
    const rec = this.store.resolve(ref);
    if (!rec.State.Running) throw conflict(`Container ${rec.Id} is not running`);
    await this.deps.runtime.resize(rec.Id, h, w);
  }

  // `network connect` / `disconnect` (src/network): the change runs under the container's
  // lock, then the record is saved.
  async updateNetworking(ref: string, fn: (rec: ContainerRecord) => Promise<void>): Promise<void> {
    const rec0 = this.store.resolve(ref);
    await this.lock.run(rec0.Id, async () => {
      const rec = this.store.resolve(rec0.Id);
      if (rec.State.Status === 'removing' || rec.State.Dead) throw conflict(`container ${rec.Id} is marked for removal and cannot be connected or disconnected to the network`);
      await fn(rec);
      await this.store.save(rec);
    });
  }

  // Which containers use an image (for rmi), and which layer chains they sit on (for GC).
  async containersUsing(imageId: string): Promise<Array<{ id: string; running: boolean }>> {
    return this.store.all().filter((r) => r.Image === imageId).map((r) => ({ id: r.Id, running: r.State.Running }));
  }

  async layersInUse(): Promise<Set<string>> {
    return new Set(this.store.all().map((r) => r.ImageChainId).filter((c): c is string => !!c));
  }

  // Runs fn holding the container's lock: it does not start, exit or go away meanwhile
  // (cp, export and commit read or write its rootfs, mounting it if it is stopped).
  async withLock<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
    const rec = this.store.resolve(ref);
    return this.lock.run(rec.Id, () => fn(this.store.resolve(rec.Id)));
  }

  emitEvent(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events.emit('container', action, rec.Id, { ...this.attrs(rec), ...extra });
  }

  private attrs(rec: ContainerRecord): Record<string, string> {
    return { ...(rec.Config.Labels ?? {}), image: rec.Config.Image, name: rec.Name.slice(1) };
  }

  // Containers whose stop the daemon must do on shutdown: none — conmon keeps them.
  runningIds(): string[] {
    return [...this.running.keys()];
  }
}

export class AttachEnded extends Error {
  override readonly name = 'AttachEnded';
}

export interface AttachStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

function mountRequest(rec: ContainerRecord): MountRequest {
  const h = rec.HostConfig;
  return {
    binds: h.Binds,
    mounts: h.Mounts as ApiMount[] | null | undefined,
    tmpfs: h.Tmpfs as Record<string, string> | null | undefined,
    volumesFrom: h.VolumesFrom,
    volumeDriver: h.VolumeDriver,
    anonymous: Object.keys(rec.Config.Volumes ?? {}),
  };
}

function etcInput(rec: ContainerRecord): EtcFilesInput {
  return {
    hostname: rec.Config.Hostname,
    domainname: rec.Config.Domainname,
    extraHosts: rec.HostConfig.ExtraHosts ?? [],
    dns: rec.HostConfig.Dns ?? [],
    dnsSearch: rec.HostConfig.DnsSearch ?? [],
    dnsOptions: rec.HostConfig.DnsOptions ?? [],
    addresses: [],
  };
}

function validateHostConfig(h: ContainerRecord['HostConfig']): void {
  const policy = h.RestartPolicy?.Name ?? 'no';
  if (h.AutoRemove && policy !== 'no' && policy !== '') {
    throw invalid(`can't create 'AutoRemove' container with restart policy`);
  }
  if (h.ShmSize < 0) throw invalid('SHM size can not be less than 0');
}

// moby's verifyContainerSettings refuses an unknown capability at create, not at start.
function checkCapabilities(names: string[] | null | undefined, field: string): void {
  try {
    for (const n of names ?? []) normalizeCap(n);
  } catch (e) {
    throw invalid(`invalid ${field}: ${errorMessage(e)}`);
  }
}

// Docker's CLI turns these start failures into exit codes 127 and 126.
function exitCodeForStartError(message: string): number {
  if (/executable file not found|no such file or directory/.test(message)) return 127;
  if (/permission denied|not a directory/.test(message)) return 126;
  return 128;
}

async function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), t]);
  } finally {
    clearTimeout(timer);
  }
}

export { systemError };
