import { invalid } from '../util/errors.js';
import { parseSignal } from '../util/signals.js';
import { processWord, processWords } from './shell-words.js';
import { parseGoDuration } from './time.js';
import type { ContainerConfig, HealthConfig } from './types.js';

// `docker import -c` / `docker commit -c`: Dockerfile instructions that only touch the
// image config, applied as dockerd's BuildFromConfig does (same parsing, same error
// texts), one after the other, each seeing the environment the previous ones set.

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
const MIN_HEALTH_DURATION_NS = 1_000_000; // container.MinimumDuration = 1ms

export interface Instruction {
  keyword: string; // lower case
  flags: string[]; // leading "--name=value" words
  rest: string; // the arguments, trimmed
  original: string; // the whole logical line
}

// Dockerfile lines → instructions: `\` continues a line, `#` lines are comments.
export function parseInstructions(text: string, escape = '\\'): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (pending === '' && (trimmed === '' || trimmed.startsWith('#'))) continue;
    if (pending !== '' && trimmed.startsWith('#')) continue; // comments inside a continuation
    const continued = trimmed.endsWith(escape) && i < lines.length - 1;
    pending += continued ? line.replace(/\s*$/, '').slice(0, -escape.length) : line;
    if (continued) continue;
    const logical = pending.trim();
    pending = '';
    if (logical) out.push(splitInstruction(logical));
  }
  if (pending.trim()) out.push(splitInstruction(pending.trim()));
  return out;
}

function splitInstruction(line: string): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(line)!;
  let rest = m[2];
  const flags: string[] = [];
  for (;;) {
    const f = /^(--\S*)(?:\s+|$)/.exec(rest);
    if (!f) break;
    flags.push(f[1]);
    rest = rest.slice(f[0].length);
  }
  return { keyword: m[1].toLowerCase(), flags, rest: rest.trim(), original: line };
}

// Applies `changes` to a copy of base. Throws InvalidParameter with Docker's message.
export function applyChanges(base: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const config = cloneConfig(base);
  if (changes.length === 0) return config;
  const instructions = parseInstructions(changes.join('\n'));
  for (const ins of instructions) {
    if (!CHANGE_COMMANDS.has(ins.keyword)) throw invalid(`${ins.keyword} is not a valid change command`);
  }
  const state = { cmdSet: false };
  for (const ins of instructions) applyInstruction(config, ins, state);
  return config;
}

function applyInstruction(config: ContainerConfig, ins: Instruction, state: { cmdSet: boolean }): void {
  const env = config.Env ?? [];
  const expand = (w: string): string => processWord(w, env);
  const upper = ins.keyword.toUpperCase();
  const flags = parseFlags(ins.flags, ins.keyword === 'healthcheck' ? ['interval', 'timeout', 'start-period', 'retries'] : []);
  switch (ins.keyword) {
    case 'env': {
      for (const [k, v] of nameValues(ins.rest, 'ENV')) {
        const key = expand(k);
        const entry = `${key}=${expand(v)}`;
        const list = (config.Env ??= []);
        const i = list.findIndex((e) => e.split('=', 1)[0] === key);
        if (i >= 0) list[i] = entry;
        else list.push(entry);
      }
      return;
    }
    case 'label': {
      const labels = (config.Labels ??= {});
      for (const [k, v] of nameValues(ins.rest, 'LABEL')) labels[expand(k)] = expand(v);
      return;
    }
    case 'cmd': {
      config.Cmd = commandLine(ins.rest, config, false);
      delete config.ArgsEscaped;
      if (ins.rest !== '') state.cmdSet = true;
      return;
    }
    case 'entrypoint': {
      config.Entrypoint = commandLine(ins.rest, config, true);
      delete config.ArgsEscaped;
      if (!state.cmdSet) config.Cmd = null;
      return;
    }
    case 'expose': {
      const words = whitespaceWords(ins.rest);
      if (words.length === 0) throw invalid('EXPOSE requires at least one argument');
      const ports = (config.ExposedPorts ??= {});
      for (const w of words) for (const p of processWords(w, env)) for (const key of portKeys(p)) ports[key] = {};
      return;
    }
    case 'user':
    case 'workdir':
    case 'stopsignal': {
      if (ins.rest === '') throw invalid(`${upper} requires exactly one argument`);
      const value = expand(ins.rest);
      if (ins.keyword === 'user') config.User = value;
      else if (ins.keyword === 'workdir') config.WorkingDir = normaliseWorkdir(config.WorkingDir ?? '', value);
      else {
        parseSignal(value);
        config.StopSignal = value;
      }
      return;
    }
    case 'volume': {
      const list = maybeJsonList(ins.rest) ?? whitespaceWords(ins.rest);
      if (list.length === 0) throw invalid('VOLUME requires at least one argument');
      const volumes = (config.Volumes ??= {});
      for (const raw of list) {
        const v = expand(raw.trim());
        if (v.trim() === '') throw invalid('VOLUME specified can not be an empty string');
        volumes[v] = {};
      }
      return;
    }
    case 'onbuild': {
      if (ins.rest === '') throw invalid('ONBUILD requires at least one argument');
      const trigger = ins.rest.split(/\s+/, 1)[0].toUpperCase();
      if (trigger === 'ONBUILD') throw invalid('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw invalid(`${trigger} isn't allowed as an ONBUILD trigger`);
      (config.OnBuild ??= []).push(ins.original.replace(/^\s*ONBUILD\s*/i, ''));
      return;
    }
    case 'healthcheck': {
      config.Healthcheck = healthcheck(ins.rest, flags);
      return;
    }
  }
}

// ENV/LABEL: `key value` (one pair, value = rest of line) or `k=v k2="v 2"`.
function nameValues(rest: string, cmd: string): Array<[string, string]> {
  const words = dockerfileWords(rest);
  if (words.length === 0) throw invalid(`${cmd} requires at least one argument`);
  const pairs: Array<[string, string]> = [];
  if (!words[0].includes('=')) {
    const parts = rest.split(/\s+/);
    if (parts.length < 2) throw invalid(`${cmd} must have two arguments`);
    const key = parts[0];
    pairs.push([key, rest.slice(key.length).replace(/^\s+/, '')]);
  } else {
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0) {
        throw invalid(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
      }
      pairs.push([w.slice(0, eq), w.slice(eq + 1)]);
    }
  }
  for (const [k] of pairs) if (k === '') throw invalid(`${cmd} names can not be blank`);
  return pairs;
}

// The Dockerfile parser's word split: whitespace outside quotes, quotes kept for later.
function dockerfileWords(rest: string, escape = '\\'): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let blankOk = false;
  const chars = [...rest];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (!quote && /\s/.test(ch)) {
      if (blankOk || word) words.push(word);
      word = '';
      blankOk = false;
      continue;
    }
    if (ch === escape && i + 1 < chars.length && quote !== "'") {
      word += ch + chars[++i];
      continue;
    }
    if (quote && ch === quote) quote = '';
    else if (!quote && (ch === '"' || ch === "'")) {
      quote = ch;
      blankOk = true;
    }
    word += ch;
  }
  if (blankOk || word) words.push(word);
  return words;
}

const whitespaceWords = (rest: string): string[] => (rest === '' ? [] : rest.split(/\s+/));

// JSON array form: an array of strings, else null (shell form). Non-strings are an error.
function maybeJsonList(rest: string): string[] | null {
  if (!rest.startsWith('[')) return null;
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    return null;
  }
  if (!Array.isArray(v)) return null;
  if (!v.every((s) => typeof s === 'string')) {
    throw invalid('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return v as string[];
}

// CMD/ENTRYPOINT: JSON form as is; shell form wrapped in the image's shell (or sh -c).
function commandLine(rest: string, config: ContainerConfig, emptyAsNull: boolean): string[] | null {
  const json = maybeJsonList(rest);
  if (json) return emptyAsNull && json.length === 0 ? null : json;
  const shell = config.Shell && config.Shell.length ? config.Shell : DEFAULT_SHELL;
  return [...shell, rest];
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

function parseFlags(raw: string[], allowed: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of raw) {
    const body = f.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (!allowed.includes(name)) throw invalid(`Unknown flag: ${name}`);
    if (out.has(name)) throw invalid(`Duplicate flag specified: ${name}`);
    if (eq < 0) throw invalid(`Missing a value on flag: ${f}`);
    out.set(name, body.slice(eq + 1));
  }
  return out;
}

function healthcheck(rest: string, flags: Map<string, string>): HealthConfig {
  if (rest === '') throw invalid('HEALTHCHECK requires at least one argument');
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest)!;
  const type = m[1].toUpperCase();
  const args = m[2];
  if (type === 'NONE') {
    if (args !== '') throw invalid('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (type !== 'CMD') throw invalid(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const json = maybeJsonList(args);
  const test = json ? ['CMD', ...json] : args === '' ? [] : ['CMD-SHELL', args];
  if (test.length <= 1) throw invalid('Missing command after HEALTHCHECK CMD');
  const hc: HealthConfig = { Test: test };
  const interval = (name: string): number | undefined => {
    const v = flags.get(name);
    if (v === undefined || v === '') return undefined;
    const ns = parseGoDuration(v);
    if (ns < MIN_HEALTH_DURATION_NS) throw invalid(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns;
  };
  const i = interval('interval');
  const t = interval('timeout');
  const s = interval('start-period');
  if (i !== undefined) hc.Interval = i;
  if (t !== undefined) hc.Timeout = t;
  if (s !== undefined) hc.StartPeriod = s;
  const retries = flags.get('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) throw invalid(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n < 1) throw invalid(`--retries must be at least 1 (not ${n})`);
    hc.Retries = n;
  }
  return hc;
}

function cloneConfig(c: ContainerConfig): ContainerConfig {
  return JSON.parse(JSON.stringify(c)) as ContainerConfig;
}

