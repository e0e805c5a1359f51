import { posix } from 'node:path';
import type { ContainerConfig } from '../image/types.js';
import { goClean } from '../util/archive-path.js';
import { invalid } from '../util/errors.js';
import type { BuildArgs } from './build-args.js';

// The container config a build carries from step to step (moby's runConfig) and the
// small rules around it (builder/dockerfile/internals.go, dispatchers_unix.go).

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function copyRunConfig(c: ContainerConfig, changes: Partial<ContainerConfig> = {}): ContainerConfig {
  return { ...(structuredClone(c) as ContainerConfig), ...changes };
}

export function shellOf(c: ContainerConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? [...c.Shell] : [...DEFAULT_SHELL];
}

// Config-only steps record themselves as a two-word "#(nop) " comment; WORKDIR, COPY and
// ADD as one word (moby keeps both forms for cache compatibility with older images).
export function withNopComment(c: ContainerConfig, comment: string): ContainerConfig {
  return copyRunConfig(c, { Cmd: [...shellOf(c), '#(nop) ', comment] });
}

export function withNopCommentString(c: ContainerConfig, comment: string): ContainerConfig {
  return copyRunConfig(c, { Cmd: [...shellOf(c), `#(nop) ${comment}`] });
}

// Shell form goes through the SHELL; exec form is taken as written.
export function resolveCmdLine(c: ContainerConfig, args: string[], json: boolean): string[] {
  return json ? [...args] : [...shellOf(c), ...args];
}

// A stage begins from its base image's config, without stdin, with a PATH.
export function stageRunConfig(base: ContainerConfig | undefined): ContainerConfig {
  const c = copyRunConfig(base ?? {});
  c.OpenStdin = false;
  c.StdinOnce = false;
  const env = c.Env ?? [];
  if (!env.some((e) => e.split('=', 1)[0] === 'PATH')) c.Env = [...env, `PATH=${DEFAULT_PATH}`];
  return c;
}

// Build args RUN sees are recorded in the cache key as "|<n> K=V ... cmd" (n args, sorted),
// so a changed --build-arg misses; undeclared proxy args stay out of it.
export function prependEnvOnCmd(args: BuildArgs, buildArgEnv: string[], cmd: string[]): string[] {
  const kept = buildArgEnv.filter((e) => args.isReferencedOrNotBuiltin(e.split('=', 1)[0]!)).sort();
  return [`|${kept.length}`, ...kept, ...cmd];
}

export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw invalid('cannot normalize nothing');
  return goClean(requested.startsWith('/') ? requested : posix.join('/', current, requested));
}

// A relative destination is under WORKDIR; a trailing slash (meaning "a directory") is kept.
export function normalizeDest(workingDir: string, requested: string): string {
  if (requested.startsWith('/')) return requested;
  const dest = posix.join('/', workingDir, requested);
  return requested.endsWith('/') && !dest.endsWith('/') ? `${dest}/` : dest;
}

// ENV replaces a variable in place (keeping its position) or appends it.
export function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => e.split('=', 1)[0] === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}
