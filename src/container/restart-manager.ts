import { ZERO_TIME, type ContainerRecord, type HostConfig } from './types.js';

// Restart policies (--restart), with moby's rules (restartmanager/restartmanager.go and
// daemon/monitor.go): the decision after each exit, the back-off between restarts, and
// which containers berthd starts again when it starts itself.

export type RestartPolicy = HostConfig['RestartPolicy'];

export interface ExitFacts {
  exitCode: number;
  // docker stop / kill / rm touched it since its last start by the user.
  manuallyStopped: boolean;
  restartCount: number; // restarts by policy since the last start by the user
}

export function policyWantsRestart(policy: RestartPolicy | undefined, f: ExitFacts): boolean {
  switch (policy?.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !f.manuallyStopped;
    case 'on-failure': {
      // MaximumRetryCount 0 means no maximum.
      const max = policy.MaximumRetryCount;
      return f.exitCode !== 0 && (max <= 0 || f.restartCount < max);
    }
    default:
      return false;
  }
}

// moby's validateRestartPolicy, word for word: a retry count belongs to on-failure only. An
// empty name with a count passes (moby keeps that for old clients).
export function restartPolicyError(policy: { Name?: string; MaximumRetryCount?: number } | null | undefined): string | null {
  const name = policy?.Name ?? '';
  const max = policy?.MaximumRetryCount ?? 0;
  switch (name) {
    case '':
      return null;
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (max === 0) return null;
      return `invalid restart policy: maximum retry count can only be used with 'on-failure'${max < 0 ? ' and cannot be negative' : ''}`;
    case 'on-failure':
      return max < 0 ? 'invalid restart policy: maximum retry count cannot be negative' : null;
    default:
      return `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`;
  }
}

export const BACKOFF_FIRST_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
// A container that ran this long is healthy again: its next restart is quick.
export const BACKOFF_RESET_AFTER_MS = 10_000;

// The delay before the next restart: 100 ms, doubled at every quick exit, at most a minute.
export function nextBackoff(previousMs: number, ranForMs: number): number {
  let t = ranForMs >= BACKOFF_RESET_AFTER_MS ? 0 : previousMs;
  if (t <= 0) t = BACKOFF_FIRST_MS;
  else if (t < BACKOFF_MAX_MS) t *= 2;
  return Math.min(t, BACKOFF_MAX_MS);
}

// At daemon start, as moby's restore: a container that has run before, is not running, and
// whose policy would restart it now is started again. `always` comes back even after
// `docker stop` (Docker's documented behaviour); `unless-stopped` does not.
export function startsAtBoot(rec: ContainerRecord): boolean {
  const s = rec.State;
  if (s.Running || s.Paused || s.Dead || s.Status === 'removing' || s.StartedAt === ZERO_TIME) return false;
  return policyWantsRestart(rec.HostConfig.RestartPolicy, {
    exitCode: s.ExitCode,
    manuallyStopped: rec.HasBeenManuallyStopped === true,
    restartCount: rec.RestartCount,
  });
}

export interface RestartTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: RestartTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface PerContainer {
  backoffMs: number;
  canceled: boolean;
  pending: unknown; // the timer of a scheduled restart, or undefined
}

// Per-container restart state that lives as long as the daemon (moby keeps one restart
// manager per container until the user starts it again). What must survive a daemon
// restart (RestartCount, HasBeenManuallyStopped) is in the container's record.
export class RestartManager {
  private readonly byId = new Map<string, PerContainer>();

  constructor(private readonly timers: RestartTimers = realTimers) {}

  // After an exit: the delay before the restart, or null when the container stays stopped.
  // The back-off advances whatever the answer, as moby's does.
  afterExit(id: string, policy: RestartPolicy | undefined, facts: ExitFacts & { ranForMs: number }): number | null {
    if (!policy || policy.Name === '' || policy.Name === 'no') return null;
    const s = this.state(id);
    if (s.canceled || s.pending !== undefined) return null;
    s.backoffMs = nextBackoff(s.backoffMs, facts.ranForMs);
    return policyWantsRestart(policy, facts) ? s.backoffMs : null;
  }

  schedule(id: string, delayMs: number, restart: () => void): void {
    const s = this.state(id);
    if (s.pending !== undefined) this.timers.clear(s.pending);
    s.pending = this.timers.set(() => {
      s.pending = undefined;
      restart();
    }, delayMs);
  }

  // docker stop / kill / rm: no restart from now on until the user starts the container.
  // Returns true if a scheduled restart was called off.
  cancel(id: string): boolean {
    const s = this.state(id);
    s.canceled = true;
    if (s.pending === undefined) return false;
    this.timers.clear(s.pending);
    s.pending = undefined;
    return true;
  }

  isCanceled(id: string): boolean {
    return this.byId.get(id)?.canceled === true;
  }

  isPending(id: string): boolean {
    return this.byId.get(id)?.pending !== undefined;
  }

  // A start by the user, or the container's removal: a fresh state (moby's ResetRestartManager).
  reset(id: string): void {
    const s = this.byId.get(id);
    if (s?.pending !== undefined) this.timers.clear(s.pending);
    this.byId.delete(id);
  }

  private state(id: string): PerContainer {
    let s = this.byId.get(id);
    if (!s) {
      s = { backoffMs: 0, canceled: false, pending: undefined };
      this.byId.set(id, s);
    }
    return s;
  }
}
