// What the benchmark needs from an engine under test.
import type { MemoryFigure, ProcessSetSpec } from './proc.js';

/** One way to talk to an engine: a CLI binary plus the arguments that point it at the socket. */
export interface Client {
  label: string;
  command: string;
  args: readonly string[];
  /** Set on top of the bench's environment for this client's calls. */
  env?: Readonly<Record<string, string>>;
}

export interface Engine {
  readonly name: string;
  /** The first client is the engine's own CLI; the others are measured when cheap. */
  readonly clients: readonly Client[];
  /** Things the reader of the results should know (reused daemon, skipped parts). */
  readonly notes: string[];
  /** Resolves when the API answers and busybox:latest exists. Throws EngineSkipped when absent. */
  start(): Promise<void>;
  processSpec(): Promise<ProcessSetSpec>;
  /**
   * Memory of a resident process that serves the CLI (berth's warm CLI server): client-side
   * memory, reported on its own row rather than hidden in the daemon's or left out.
   */
  cliServerMemory?(): Promise<MemoryFigure | null>;
  /** Stops what start() started and removes its state; safe to call after a failed start. */
  stop(): Promise<void>;
}

/** The engine is not there to measure (not a failure of the engine). */
export class EngineSkipped extends Error {}
