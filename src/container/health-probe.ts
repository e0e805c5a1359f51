import type { Readable } from 'node:stream';
import type { ExecCreateBody, ExecInspect, StartedExec } from './exec-service.js';
import type { HealthcheckResult } from './types.js';
import { errorMessage } from '../util/errors.js';
import { formatGoDuration } from '../util/units.js';

// One run of a healthcheck (moby's cmdProbe.run): an exec like `docker exec` makes — so it
// shows in `docker events` as exec_create/exec_start/exec_die and in ExecIDs — with stdout
// and stderr collected together, and killed when it outlives the timeout.

export const MAX_OUTPUT_BYTES = 4096;
// How long the output may trail the exit: moby's StreamConfig.Wait after an exec exit.
const OUTPUT_DRAIN_MS = 2000;

// What a probe needs of the exec service.
export interface ProbeExecs {
  create(ref: string, body: ExecCreateBody): Promise<{ Id: string }>;
  start(id: string, opts: { attach: boolean }): Promise<StartedExec>;
  inspect(id: string): ExecInspect;
}

export interface ProbeInput {
  containerId: string;
  argv: string[];
  timeoutNs: number;
  signal: AbortSignal; // the monitor stopped: kill the probe, the result is not wanted
  killTree(pid: number): Promise<void>;
}

// Keeps the first MAX_OUTPUT_BYTES; "..." marks that more was dropped.
export class LimitedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  write(data: Buffer): void {
    const keep = Math.min(MAX_OUTPUT_BYTES - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(keep === data.length ? data : data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  toString(): string {
    const out = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${out}...` : out;
  }
}

type Outcome = { kind: 'exit'; code: number } | { kind: 'timeout' } | { kind: 'aborted' };

export async function runProbe(execs: ProbeExecs, input: ProbeInput): Promise<HealthcheckResult> {
  const start = new Date();
  const done = (ExitCode: number, Output: string): HealthcheckResult => ({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode, Output });
  try {
    const { Id } = await execs.create(input.containerId, { Cmd: input.argv, AttachStdout: true, AttachStderr: true, Tty: false, Privileged: false });
    const started = await execs.start(Id, { attach: true });
    const output = new LimitedBuffer();
    const drained = started.session ? collect(output, started.session.stdout, started.session.stderr) : Promise.resolve();
    // The timeout counts from the moment the process runs, not from the exec request.
    const outcome = await raceExit(started.exitCode, input.timeoutNs / 1_000_000, input.signal);
    if (outcome.kind !== 'exit') {
      const pid = pidOf(execs, Id);
      if (pid > 0) await input.killTree(pid);
      // Dying probes must not pile up: wait for this one to be gone.
      await started.exitCode.catch(() => -1);
    }
    await within(drained, OUTPUT_DRAIN_MS);
    started.session?.close();
    if (outcome.kind === 'exit') return done(outcome.code, output.toString());
    const out = output.toString();
    const limit = formatGoDuration(input.timeoutNs);
    return done(-1, out ? `Health check exceeded timeout (${limit}): ${out}` : `Health check exceeded timeout (${limit})`);
  } catch (err) {
    // As dockerd: a probe that could not run at all is a failed check carrying the error.
    return done(-1, errorMessage(err));
  }
}

function pidOf(execs: ProbeExecs, id: string): number {
  try {
    const ex = execs.inspect(id);
    return ex.Running ? ex.Pid : 0;
  } catch {
    return 0;
  }
}

function collect(into: LimitedBuffer, ...streams: Readable[]): Promise<void> {
  return Promise.all(
    streams.map((s) => new Promise<void>((resolve) => {
      s.on('data', (d: Buffer | string) => into.write(typeof d === 'string' ? Buffer.from(d) : d));
      s.once('end', resolve);
      s.once('close', resolve);
      s.once('error', () => resolve());
    })),
  ).then(() => undefined);
}

function raceExit(exitCode: Promise<number>, timeoutMs: number, signal: AbortSignal): Promise<Outcome> {
  if (signal.aborted) return Promise.resolve({ kind: 'aborted' });
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    const onAbort = (): void => finish({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    function finish(o: Outcome): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(o);
    }
    exitCode.then((code) => finish({ kind: 'exit', code }), () => finish({ kind: 'exit', code: -1 }));
  });
}

async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
