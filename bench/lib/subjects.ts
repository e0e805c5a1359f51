// The engines under test as a bench script walks through its steps: each engine's steps run
// in turn, and a failing step takes only that engine out of the rest of the run.
import { describeFailure, runCommand, type CommandResult } from './command.js';
import { EngineSkipped, type Client, type Engine } from './engine.js';

export interface RunStatus {
  engine: string;
  status: 'ok' | 'skipped' | 'broken';
  error?: string;
  notes: string[];
}

export interface Subject<R extends RunStatus = RunStatus> {
  engine: Engine;
  result: R;
  live: boolean;
}

export function markFailed(s: Subject, e: unknown): void {
  s.live = false;
  s.result.status = e instanceof EngineSkipped ? 'skipped' : 'broken';
  s.result.error = e instanceof Error ? e.message : String(e);
}

/** Runs `step` for every live subject in turn; a throw takes only that subject out. */
export async function eachLive<S extends Subject>(subjects: readonly S[], step: (s: S) => Promise<void>): Promise<void> {
  for (const s of subjects) {
    if (!s.live) continue;
    try {
      await step(s);
    } catch (e) {
      markFailed(s, e);
    }
  }
}

/** Starts every engine; one that fails to start is marked and left out. */
export function startAll(subjects: readonly Subject[], progress: (line: string) => void): Promise<void> {
  return eachLive(subjects, async (s) => {
    progress(`${s.engine.name}: starting`);
    await s.engine.start();
  });
}

/** Stops every engine, live or not (a failed start may have left something to remove). */
export async function stopAll(subjects: readonly Subject[]): Promise<void> {
  for (const s of subjects) {
    try {
      await s.engine.stop();
    } catch (e) {
      s.result.status = 'broken';
      s.result.notes.push(`stop: ${(e as Error).message}`);
    }
  }
}

export function callClient(client: Client, args: readonly string[], input?: string | Buffer): Promise<CommandResult> {
  return runCommand(client.command, [...client.args, ...args], { ...process.env, DOCKER_CLI_HINTS: 'false', ...client.env }, input);
}

/** A failing CLI call means the engine is broken, not slow: the throw ends that engine's run. */
export async function mustCall(client: Client, args: readonly string[], signal: AbortSignal, input?: string | Buffer): Promise<CommandResult> {
  if (signal.aborted) throw new Error('interrupted');
  const r = await callClient(client, args, input);
  if (r.code !== 0) throw new Error(describeFailure(`${client.label}: ${args.join(' ')}`, r));
  return r;
}
