import { invalid } from '../util/errors.js';
import { parseSignal } from '../util/signals.js';
import type { CommandLine, HealthcheckInstruction, Instruction } from '../build/dockerfile-ast.js';
import { expandInstruction } from '../build/dockerfile-expand.js';
import { instructionFromNode } from '../build/dockerfile-parser.js';
import { parseSyntax, type EscapeToken } from '../build/dockerfile-syntax.js';
import type { ContainerConfig, HealthConfig } from './types.js';

// `docker import -c` / `docker commit -c`: Dockerfile instructions that only touch the
// image config, applied as dockerd's BuildFromConfig does with the build's own parser
// and expander (src/build/), one after the other, each seeing the environment the
// previous ones set.

export const CHANGE_COMMANDS = new Set([
  'cmd',
  'entrypoint',
  'healthcheck',
  'env',
  'expose',
  'label',
  'onbuild',
  'stopsignal',
  'user',
  'volume',
  'workdir',
]);

const DEFAULT_SHELL = ['/bin/sh', '-c'];

// A logical line of a change (or Dockerfile) split the way the parser sees it.
export interface ChangeLine {
  keyword: string; // lower case
  flags: string[]; // leading "--name=value" words
  rest: string; // the arguments, trimmed
  original: string; // the whole logical line
}

export function parseInstructions(text: string, escape: EscapeToken = '\\'): ChangeLine[] {
  return parseSyntax(text, escape).nodes.map((n) => ({ keyword: n.keyword.toLowerCase(), flags: n.flags, rest: n.rest, original: n.original }));
}

// Applies `changes` to a copy of base. Throws InvalidParameter with Docker's message.
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config = cloneConfig(base);
  if (changes.length === 0) return config;
  const { nodes, escapeToken } = parseSyntax(changes.join('\n'));
  for (const n of nodes) {
    const keyword = n.keyword.toLowerCase();
    if (!CHANGE_COMMANDS.has(keyword)) throw invalid(`${keyword} is not a valid change command`);
  }
  const instructions = nodes.map((n) => instructionFromNode(n) as Instruction);
  const state: ConfigState = { cmdSet: false };
  for (const inst of instructions) applyConfigInstruction(config, expandInstruction(inst, config.Env ?? [], escapeToken), state);
  return config;
}

export interface ConfigState {
  // A CMD was given earlier in this build stage (or change list): ENTRYPOINT keeps it.
  cmdSet: boolean;
}

// The image-config part of an instruction whose words are already expanded, as the
// legacy builder's dispatchers apply it (also used by `docker build`). Instructions
// that touch no config field (RUN, COPY, ADD, ARG, MAINTAINER) are left alone.
export function applyConfigInstruction(config: ContainerConfig, inst: Instruction, state: ConfigState): void {
  switch (inst.kind) {
    case 'ENV':
      for (const { key, value } of inst.pairs) {
        const entry = `${key}=${value}`;
        const list = (config.Env ??= []);
        const i = list.findIndex((e) => e.split('=', 1)[0] === key);
        if (i >= 0) list[i] = entry;
        else list.push(entry);
      }
      return;
    case 'LABEL': {
      const labels = (config.Labels ??= {});
      for (const { key, value } of inst.pairs) labels[key] = value;
      return;
    }
    case 'CMD':
      config.Cmd = commandLine(inst.cmd, config, false);
      delete config.ArgsEscaped;
      if (inst.cmd.args.length > 0) state.cmdSet = true;
      return;
    case 'ENTRYPOINT':
      config.Entrypoint = commandLine(inst.cmd, config, true);
      delete config.ArgsEscaped;
      if (!state.cmdSet) config.Cmd = null;
      return;
    case 'SHELL':
      config.Shell = [...inst.shell];
      return;
    case 'EXPOSE': {
      const ports = (config.ExposedPorts ??= {});
      for (const p of inst.ports) for (const key of portKeys(p)) ports[key] = {};
      return;
    }
    case 'USER':
      config.User = inst.value;
      return;
    case 'WORKDIR':
      config.WorkingDir = normaliseWorkdir(config.WorkingDir ?? '', inst.value);
      return;
    case 'STOPSIGNAL':
      parseSignal(inst.value);
      config.StopSignal = inst.value;
      return;
    case 'VOLUME': {
      const volumes = (config.Volumes ??= {});
      for (const v of inst.paths) {
        if (v === '') throw invalid('VOLUME specified can not be an empty string');
        volumes[v] = {};
      }
      return;
    }
    case 'ONBUILD':
      (config.OnBuild ??= []).push(inst.expression);
      return;
    case 'HEALTHCHECK':
      config.Healthcheck = healthConfig(inst);
      return;
  }
}

// CMD/ENTRYPOINT: exec form as is; shell form behind the image's SHELL (or sh -c).
// ENTRYPOINT with no arguments at all clears it.
function commandLine(cmd: CommandLine, config: ContainerConfig, emptyAsNull: boolean): string[] | null {
  if (emptyAsNull && cmd.args.length === 0) return null;
  if (cmd.json) return [...cmd.args];
  const shell = config.Shell && config.Shell.length ? config.Shell : DEFAULT_SHELL;
  return [...shell, ...cmd.args];
}

function healthConfig(inst: HealthcheckInstruction): HealthConfig {
  if (inst.none || !inst.cmd) return { Test: ['NONE'] };
  const hc: HealthConfig = { Test: inst.cmd.json ? ['CMD', ...inst.cmd.args] : ['CMD-SHELL', ...inst.cmd.args] };
  if (inst.intervalNs) hc.Interval = inst.intervalNs;
  if (inst.timeoutNs) hc.Timeout = inst.timeoutNs;
  if (inst.startPeriodNs) hc.StartPeriod = inst.startPeriodNs;
  if (inst.startIntervalNs) hc.StartInterval = inst.startIntervalNs;
  if (inst.retries) hc.Retries = inst.retries;
  return hc;
}

// nat.ParsePortSpecs for EXPOSE: "80", "80/udp", "8000-8002/tcp" → "80/tcp", ...
export function portKeys(spec: string): string[] {
  const slash = spec.lastIndexOf('/');
  const portPart = slash >= 0 ? spec.slice(0, slash) : spec;
  const proto = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : 'tcp';
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw invalid(`Invalid proto: ${proto}`);
  const container = portPart.split(':').pop() ?? '';
  const m = /^(\d+)(?:-(\d+))?$/.exec(container);
  if (!m) throw invalid(`Invalid containerPort: ${container}`);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start > 65535 || end > 65535 || end < start) throw invalid(`Invalid containerPort: ${container}`);
  const keys: string[] = [];
  for (let p = start; p <= end; p++) keys.push(`${p}/${proto}`);
  return keys;
}

// WORKDIR: relative paths are joined onto the current one; absolute ones kept as given.
function normaliseWorkdir(current: string, requested: string): string {
  if (requested === '') throw invalid('cannot normalize nothing');
  if (requested.startsWith('/')) return requested;
  const parts: string[] = [];
  for (const seg of `/${current}/${requested}`.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}

function cloneConfig(c: ContainerConfig): ContainerConfig {
  return JSON.parse(JSON.stringify(c)) as ContainerConfig;
}

