import type { ContainerHealth, ContainerRecord, HealthcheckResult } from './types.js';

// How one probe result moves a container's health (moby's handleProbeResult), and how the
// health shows in lists. Pure functions.

export const MAX_LOG_ENTRIES = 5;

export type HealthFilterValue = 'none' | 'starting' | 'healthy' | 'unhealthy';

// A fresh run (start, restart, daemon restore): starting again, the old results kept.
export function startingHealth(prev: ContainerHealth | undefined): ContainerHealth {
  return { Status: 'starting', FailingStreak: 0, Log: prev?.Log ?? [] };
}

export function applyProbeResult(
  h: ContainerHealth,
  result: HealthcheckResult,
  opts: { retries: number; startPeriodMs: number; startedAt: string },
): ContainerHealth {
  const next: ContainerHealth = { ...h, Log: [...h.Log, result].slice(-MAX_LOG_ENTRIES) };
  if (result.ExitCode === 0) return { ...next, Status: 'healthy', FailingStreak: 0 };
  // Failures during the start period do not count while the container has never been healthy.
  if (h.Status === 'starting' && Date.parse(result.Start) - Date.parse(opts.startedAt) < opts.startPeriodMs) return next;
  const streak = h.FailingStreak + 1;
  return { ...next, FailingStreak: streak, Status: streak >= opts.retries ? 'unhealthy' : h.Status };
}

// The value the `health` filter of ps compares with.
export function healthOf(rec: ContainerRecord): HealthFilterValue {
  return rec.State.Health?.Status ?? 'none';
}

// moby's Health.String(), shown after "Up 5 seconds".
export function healthSuffix(rec: ContainerRecord): string {
  const h = rec.State.Health;
  if (!h) return '';
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`;
}

const VALID = new Set<string>(['none', 'starting', 'healthy', 'unhealthy']);

export function isHealthFilterValue(v: string): v is HealthFilterValue {
  return VALID.has(v);
}
