import { Writable } from 'node:stream';
import { existsSync, openSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import { EngineError } from '../client/engine-client.js';
import { parseAnyReference, parseNormalizedNamed, familiarString, refName, tagNameOnly, type NamedRef } from '../image/reference.js';
import { BIN, StatusError, type CliContext, type TerminalOut } from './command.js';
import { displayJsonMessages } from './jsonmessage.js';
import { registryAuthFor } from './credential-store.js';
import { ttySize } from './tty.js';
import type { CreateBody } from './opts/container-opts.js';

// docker's createContainer and pullImage (cli/command/container/create.go):
// create, and when the image is missing pull it and create again; the --cidfile
// dance; the warnings.

export const PULL_ALWAYS = 'always';
export const PULL_MISSING = 'missing';
export const PULL_NEVER = 'never';

export function validatePullOpt(val: string): void {
  if (val === PULL_ALWAYS || val === PULL_MISSING || val === PULL_NEVER || val === '') return;
  throw new Error(`invalid pull option: '${val}': must be one of "always", "missing" or "never"`);
}

// "docker: <err>\n\nRun 'docker run --help' for more information"
export function withHelp(message: string, command: string): string {
  return `${BIN}: ${message}\n\nRun '${BIN} ${command} --help' for more information`;
}

// docker's toStatusError: 127 when the command was not found, 126 when it could not
// be invoked, 125 for any other failure of the engine.
export function toStatusError(err: unknown, command = 'run'): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  let status = 125;
  if (msg.includes('executable file not found') || msg.includes('no such file or directory') || msg.includes('system cannot find the file specified')) {
    status = 127;
  } else if (msg.includes('permission denied') || msg.includes('is a directory')) {
    status = 126;
  }
  return new StatusError(withHelp(msg, command), status);
}

export interface CreateOptions {
  name: string;
  platform: string;
  pull: string;
  quiet: boolean;
}

// POST /images/create?fromImage=..&tag=.. with the progress on stderr, as run/create
// show it.
export async function pullImage(ctx: CliContext, image: string, platform: string, quiet: boolean): Promise<void> {
  const ref = parseNormalizedNamed(image);
  const tag = ref.digest ?? tagNameOnly(ref).tag;
  const res = await ctx.client().imagePull(refName(ref), tag, platform, registryAuthFor(ctx, ref.domain));
  const out = quiet ? discard() : ctx.io.stderr;
  await displayJsonMessages(res, out, { isTerminal: out.isTTY === true });
}

export function discard(): TerminalOut {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}

class CidFile {
  private fd?: number;
  private written = false;

  constructor(private readonly path: string) {
    if (path === '') return;
    if (existsSync(path)) {
      throw new Error(`container ID file found, make sure the other container isn't running or delete ${path}`);
    }
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new Error(`failed to create the container ID file: ${(err as Error).message}`);
    }
  }

  write(id: string): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, id);
    this.written = true;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    if (!this.written) {
      try {
        unlinkSync(this.path);
      } catch (err) {
        throw new Error(`failed to remove the CID file '${this.path}': ${(err as Error).message}`);
      }
    }
  }
}

export async function createContainer(ctx: CliContext, body: CreateBody, warnings: string[], opts: CreateOptions): Promise<string> {
  const cid = new CidFile(body.HostConfig.ContainerIDFile);
  try {
    const any = parseAnyReference(body.Image);
    const namedRef: NamedRef | undefined = any.kind === 'named' ? tagNameOnly(any.ref) : undefined;
    if (opts.pull === PULL_ALWAYS) await pullImage(ctx, body.Image, opts.platform, opts.quiet);
    body.HostConfig.ConsoleSize = ttySize(ctx.io.stdout);
    let response;
    try {
      response = await ctx.client().containerCreate(body, opts.name, opts.platform || undefined);
    } catch (err) {
      if (!(err instanceof EngineError && err.isNotFound && namedRef && opts.pull === PULL_MISSING)) throw err;
      // Keep stdout for the container ID alone.
      if (!opts.quiet) ctx.err(`Unable to find image '${familiarString(namedRef)}' locally\n`);
      await pullImage(ctx, body.Image, opts.platform, opts.quiet);
      response = await ctx.client().containerCreate(body, opts.name, opts.platform || undefined);
    }
    for (const w of [...(response.Warnings ?? []), ...warnings]) ctx.err(`WARNING: ${w}\n`);
    cid.write(response.Id);
    return response.Id;
  } finally {
    cid.close();
  }
}
