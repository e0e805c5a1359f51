import type { EventBus, EngineEvent } from '../daemon/events.js';
import { errorKind, errorMessage } from '../util/errors.js';
import { containerEventAttrs } from './event-attrs.js';
import { healthTimings, probeCommand, type HealthTimings } from './health-config.js';
import { runProbe, type ProbeExecs } from './health-probe.js';
import { applyProbeResult, startingHealth } from './health-state.js';
import type { ContainerRecord, HealthcheckResult } from './types.js';

// Runs the healthchecks of running containers (moby's daemon/health.go monitor): one probe
// loop per running, unpaused container whose config has a probe. It follows the container
// lifecycle through the event bus — start (also by restart policy) begins a fresh run in
// "starting"; die, pause and remove stop it; unpause resumes it — so the lifecycle code
// needs no hook. After a berthd restart, restore() picks up the containers still running.

export interface HealthContainers {
  get(id: string): ContainerRecord | undefined;
  all(): ContainerRecord[];
  // Writes the record as it is now, under the container's lock, if it still exists.
  persist(id: string): Promise<void>;
}

// The container service seen as HealthContainers: saving takes the container's lock, so a
// save never races a remove (and never brings a removed record back).
export function healthContainersOf(svc: {
  store: { get(id: string): ContainerRecord | undefined; all(): ContainerRecord[]; save(rec: ContainerRecord): Promise<void> };
  withLock<T>(ref: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T>;
}): HealthContainers {
  return {
    get: (id) => svc.store.get(id),
    all: () => svc.store.all(),
    persist: (id) =>
      svc.withLock(id, (rec) => svc.store.save(rec)).catch((err) => {
        if (errorKind(err) !== 'NotFound') throw err;
      }),
  };
}

export interface HealthMonitorDeps {
  containers: HealthContainers;
  execs: ProbeExecs;
  events: EventBus;
  killTree(pid: number): Promise<void>;
}

export class HealthMonitor {
  private readonly loops = new Map<string, ProbeLoop>();
  private readonly unsubscribe: () => void;

  constructor(private readonly deps: HealthMonitorDeps) {
    this.unsubscribe = deps.events.subscribe((ev) => this.onEvent(ev));
  }

  // moby's restore: a container that kept running gets a fresh run; a paused one waits for unpause.
  restore(): void {
    for (const rec of this.deps.containers.all()) {
      if (rec.State.Running && !rec.State.Paused && !rec.State.Restarting && !this.loops.has(rec.Id)) this.begin(rec);
    }
  }

  close(): void {
    this.unsubscribe();
    for (const loop of this.loops.values()) loop.stop();
    this.loops.clear();
  }

  // Containers with a probe loop now (tests, diagnostics).
  monitored(): string[] {
    return [...this.loops.keys()];
  }

  private onEvent(ev: EngineEvent): void {
    if (ev.Type !== 'container') return;
    const id = ev.Actor.ID;
    switch (ev.Action) {
      case 'start': {
        const rec = this.deps.containers.get(id);
        if (rec) this.begin(rec);
        return;
      }
      case 'unpause': {
        const rec = this.deps.containers.get(id);
        if (rec) this.resume(rec);
        return;
      }
      case 'die':
      case 'pause':
        this.halt(id, true);
        return;
      case 'destroy':
        this.halt(id, false);
        return;
    }
  }

  // initHealthMonitor: a new run starts in "starting" with no failures counted.
  private begin(rec: ContainerRecord): void {
    if (!probeCommand(rec.Config.Healthcheck, shellOf(rec))) return;
    this.halt(rec.Id, false);
    rec.State.Health = startingHealth(rec.State.Health);
    this.save(rec.Id);
    this.resume(rec);
  }

  // updateHealthMonitor: a loop while the container runs unpaused.
  private resume(rec: ContainerRecord): void {
    const argv = probeCommand(rec.Config.Healthcheck, shellOf(rec));
    if (!argv || !rec.State.Health || this.loops.has(rec.Id)) return;
    if (!rec.State.Running || rec.State.Paused || rec.State.Restarting) return;
    const timings = healthTimings(rec.Config.Healthcheck!);
    const loop = new ProbeLoop(rec.Id, Date.parse(rec.State.StartedAt), timings, {
      status: () => this.deps.containers.get(rec.Id)?.State.Health?.Status ?? 'unhealthy',
      probe: (signal) => runProbe(this.deps.execs, { containerId: rec.Id, argv, timeoutNs: timings.timeoutNs, signal, killTree: this.deps.killTree }),
      result: (r) => this.record(rec.Id, r, timings),
    });
    this.loops.set(rec.Id, loop);
  }

  // CloseMonitorChannel: a stopped monitor leaves the container "unhealthy", as dockerd
  // does for compatibility (shown after a stop or while paused), without an event.
  private halt(id: string, markUnhealthy: boolean): void {
    const loop = this.loops.get(id);
    if (!loop) return;
    loop.stop();
    this.loops.delete(id);
    const rec = this.deps.containers.get(id);
    if (markUnhealthy && rec?.State.Health) {
      rec.State.Health = { ...rec.State.Health, Status: 'unhealthy' };
      this.save(id);
    }
  }

  private record(id: string, result: HealthcheckResult, timings: HealthTimings): void {
    const rec = this.deps.containers.get(id);
    const before = rec?.State.Health;
    if (!rec || !before) return;
    const after = applyProbeResult(before, result, { retries: timings.retries, startPeriodMs: timings.startPeriodMs, startedAt: rec.State.StartedAt });
    rec.State.Health = after;
    // Only a change of status is written at once (dockerd keeps the rest in memory until the
    // next checkpoint): a probe every few seconds must not mean a disk write every few seconds.
    if (after.Status === before.Status) return;
    this.save(id);
    this.deps.events.emit('container', `health_status: ${after.Status}`, id, containerEventAttrs(rec));
  }

  private save(id: string): void {
    this.deps.containers.persist(id).catch((err) => process.stderr.write(`berthd: health: saving ${id}: ${errorMessage(err)}\n`));
  }
}

function shellOf(rec: ContainerRecord): string[] | undefined {
  return (rec.Config as { Shell?: string[] }).Shell;
}

interface LoopHooks {
  status(): string;
  probe(signal: AbortSignal): Promise<HealthcheckResult>;
  result(r: HealthcheckResult): void;
}

// moby's monitor(): the first probe after one interval; during the start period, while
// still "starting", the start interval instead. The next wait begins when a probe ends.
class ProbeLoop {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: AbortController | null = null;
  private stopped = false;

  constructor(
    readonly id: string,
    private readonly startedAt: number,
    private readonly t: HealthTimings,
    private readonly hooks: LoopHooks,
  ) {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
  }

  private nextDelay(): number {
    if (Date.now() - this.startedAt >= this.t.startPeriodMs) return this.t.intervalMs;
    return this.hooks.status() === 'starting' ? this.t.startIntervalMs : this.t.intervalMs;
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.tick(), this.nextDelay());
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    const ac = new AbortController();
    this.inFlight = ac;
    const result = await this.hooks.probe(ac.signal);
    this.inFlight = null;
    // Stopped while probing: the result belongs to a run that is over.
    if (this.stopped) return;
    this.hooks.result(result);
    this.schedule();
  }
}
