import type { Readable, Writable } from 'node:stream';
import type { EngineClient } from '../client/engine-client.js';
import type { FlagSpec, ParsedFlags } from './flags.js';

// The shape every command file exports: docker's cobra command, reduced to what
// the CLI needs. Flags are declared next to the command that owns them.

export const BIN = 'berth';

export type ArgsRule =
  | { kind: 'any' }
  | { kind: 'none' }
  | { kind: 'min'; n: number }
  | { kind: 'max'; n: number }
  | { kind: 'exact'; n: number }
  | { kind: 'range'; min: number; max: number };

export const anyArgs: ArgsRule = { kind: 'any' };
export const noArgs: ArgsRule = { kind: 'none' };
export const minArgs = (n: number): ArgsRule => ({ kind: 'min', n });
export const maxArgs = (n: number): ArgsRule => ({ kind: 'max', n });
export const exactArgs = (n: number): ArgsRule => ({ kind: 'exact', n });
export const rangeArgs = (min: number, max: number): ArgsRule => ({ kind: 'range', min, max });

export interface TerminalIn extends Readable {
  isTTY?: boolean;
  fd?: number;
  setRawMode?(mode: boolean): unknown;
}

export interface TerminalOut extends Writable {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface CliIO {
  stdin: TerminalIn;
  stdout: TerminalOut;
  stderr: TerminalOut;
  env: NodeJS.ProcessEnv;
  // The fd behind stdin (0 when omitted), asked without building the stream: the CLI
  // server (src/cli/server/) serves callers whose stdin is another fd of its own.
  stdinFd?: number;
  // Ends the whole call now with this status, as process.exit (the default) does for the
  // CLI's own process: docker's "got 3 SIGTERM/SIGINTs, forcefully exiting".
  exit?(code: number): void;
}

export function exitNow(io: CliIO, code: number): void {
  if (io.exit) io.exit(code);
  else process.exit(code);
}

// The parts of the client config file (~/.docker/config.json) the CLI honours.
export interface ClientConfigFile {
  psFormat?: string;
  imagesFormat?: string;
  detachKeys?: string;
}

export interface CliContext {
  readonly io: CliIO;
  // "berth container ls": the path the user typed, for messages and help.
  readonly commandPath: string;
  readonly debug: boolean;
  // Created on first use, so commands that fail before talking to the daemon
  // (and `--help`) never resolve the host.
  client(): EngineClient;
  configFile(): ClientConfigFile;
  // The client config directory named by --config (undefined when not given).
  explicitConfigDir(): string | undefined;
  out(text: string): void;
  err(text: string): void;
}

export interface CommandSpec {
  name: string;
  // Usage line after the parent path: "run [OPTIONS] IMAGE [COMMAND] [ARG...]".
  use: string;
  short: string;
  long?: string;
  example?: string;
  // Other names under the same parent (`container ls` is also `ps` and `list`).
  aliases?: string[];
  // docker's "aliases" annotation, written with "docker"; shown under "Aliases:".
  aliasText?: string;
  flags?: FlagSpec[];
  // false for run/create/exec: flags stop at the first positional argument.
  interspersed?: boolean;
  args?: ArgsRule;
  // Order under "Common Commands" of the root help.
  topCategory?: number;
  hidden?: boolean;
  subcommands?: CommandSpec[];
  // Returns the exit code (0 when omitted).
  run?(ctx: CliContext, flags: ParsedFlags, args: string[]): Promise<number | void>;
}

// An error that carries docker's exit status; an empty message prints nothing.
export class StatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'StatusError';
  }
}

// errors.Join for several failures of one command (docker rm a b): one line each.
export function joinErrors(errors: readonly Error[]): Error | undefined {
  if (errors.length === 0) return undefined;
  if (errors.length === 1) return errors[0];
  return new Error(errors.map((e) => e.message).join('\n'));
}
