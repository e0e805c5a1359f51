import type { HealthConfig } from '../image/types.js';
import { invalid } from '../util/errors.js';

// A container's healthcheck as dockerd reads it (daemon/health.go, daemon/commit.go merge,
// daemon/container.go validateHealthCheck). Durations are nanoseconds, as Go's.

const MS = 1_000_000;
const MIN_DURATION = MS; // container.MinimumDuration (1ms)

export const DEFAULT_INTERVAL = 30_000 * MS;
export const DEFAULT_TIMEOUT = 30_000 * MS;
export const DEFAULT_START_PERIOD = 0;
export const DEFAULT_START_INTERVAL = 5_000 * MS;
export const DEFAULT_RETRIES = 3;

// The create request's healthcheck; the messages are dockerd's (its %s of 1ms is "1ms").
export function validateHealthcheck(hc: HealthConfig | null | undefined): void {
  if (!hc) return;
  const tooShort = (v: number | null | undefined): boolean => v != null && v !== 0 && v < MIN_DURATION; // docker-py sends null
  if (tooShort(hc.Interval)) throw invalid('Interval in Healthcheck cannot be less than 1ms');
  if (tooShort(hc.Timeout)) throw invalid('Timeout in Healthcheck cannot be less than 1ms');
  if ((hc.Retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
  if (tooShort(hc.StartPeriod)) throw invalid('StartPeriod in Healthcheck cannot be less than 1ms');
  if (tooShort(hc.StartInterval)) throw invalid('StartInterval in Healthcheck cannot be less than 1ms');
}

// moby's merge: the user's healthcheck wins field by field, its zero fields (and an empty
// Test) inherit the image's. ["NONE"] is a Test like any other, so `--no-healthcheck` keeps
// the image's timings but disables the probe. Zero fields are left out, as Go's omitempty
// leaves them out of inspect.
export function mergeHealthcheck(user: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!user && !image) return undefined;
  const u = user ?? {};
  const i = image ?? {};
  const out: HealthConfig = {};
  const test = u.Test?.length ? u.Test : i.Test;
  if (test?.length) out.Test = [...test];
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
    const v = u[k] || i[k];
    if (v) out[k] = v;
  }
  return out;
}

// The command a probe runs, or null when there is no probe (none configured, NONE, an
// unknown type — dockerd only logs a warning for the latter).
export function probeCommand(hc: HealthConfig | null | undefined, shell?: string[]): string[] | null {
  const test = hc?.Test;
  if (!test?.length) return null;
  switch (test[0]) {
    case 'CMD':
      return test.slice(1);
    case 'CMD-SHELL':
      return [...(shell?.length ? shell : ['/bin/sh', '-c']), ...test.slice(1)];
    default:
      return null;
  }
}

export interface HealthTimings {
  intervalMs: number;
  timeoutNs: number; // kept in ns: the timeout message prints it as Go does
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

// timeoutWithDefault: a zero (or absent) value takes the default.
export function healthTimings(hc: HealthConfig): HealthTimings {
  const ns = (v: number | undefined, def: number): number => (v ? v : def);
  return {
    intervalMs: ns(hc.Interval, DEFAULT_INTERVAL) / MS,
    timeoutNs: ns(hc.Timeout, DEFAULT_TIMEOUT),
    startPeriodMs: ns(hc.StartPeriod, DEFAULT_START_PERIOD) / MS,
    startIntervalMs: ns(hc.StartInterval, DEFAULT_START_INTERVAL) / MS,
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES,
  };
}
