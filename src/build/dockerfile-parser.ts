import { BerthError, invalid } from '../util/errors.js';
import { quote as goQuote } from '../util/go-template/fmt.js';
import { parseGoDuration } from '../image/time.js';
import type {
  ArgInstruction,
  CommandLine,
  CopyInstruction,
  Dockerfile,
  FromInstruction,
  HealthcheckInstruction,
  Heredoc,
  Instruction,
  KeyValue,
  Stage,
} from './dockerfile-ast.js';
import { InstructionFlags } from './dockerfile-flags.js';
import { chompHeredocContent, parseHeredoc, parseSyntax, type EscapeToken, type SyntaxNode } from './dockerfile-syntax.js';

// The second half of the Dockerfile parser (buildkit's frontend/dockerfile/instructions):
// syntax nodes → typed instructions grouped in stages, with the error texts of
// Docker 20.10's legacy builder. Words stay unexpanded (see dockerfile-expand.ts).

// Parses a whole Dockerfile. `name` is the file's name in the context, for dockerd's
// "failed to parse <name>: ..." and "the Dockerfile (<name>) cannot be empty".
export function parseDockerfile(text: string, name = 'Dockerfile'): Dockerfile {
  if (text === '') throw invalid(`the Dockerfile (${name}) cannot be empty`);
  let syntax;
  try {
    syntax = parseSyntax(text);
  } catch (err) {
    if (err instanceof BerthError) throw invalid(`failed to parse ${name}: ${err.message}`);
    throw err;
  }
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const node of syntax.nodes) {
    let inst: Instruction | FromInstruction;
    try {
      inst = instructionFromNode(node);
    } catch (err) {
      if (err instanceof BerthError) throw invalid(`dockerfile parse error line ${node.startLine}: ${err.message}`);
      throw err;
    }
    if (inst.kind === 'FROM') {
      stages.push({ from: inst, instructions: [] });
    } else if (stages.length === 0) {
      if (inst.kind !== 'ARG') throw invalid('no build stage in current context');
      metaArgs.push(inst);
    } else {
      stages[stages.length - 1].instructions.push(inst);
    }
  }
  const result: Dockerfile = { escapeToken: syntax.escapeToken, metaArgs, stages };
  if (syntax.warnings.length > 0) result.warnings = syntax.warnings;
  return result;
}

// One instruction, e.g. an ONBUILD trigger stored in an image config, parsed on its own
// as dockerd does when a build starts FROM that image.
export function parseInstruction(line: string, escapeToken: EscapeToken = '\\'): Instruction {
  const { nodes } = parseSyntax(line, escapeToken);
  if (nodes.length !== 1) throw invalid('onbuild trigger should be a single expression');
  const inst = instructionFromNode(nodes[0]);
  if (inst.kind === 'FROM') throw invalid('*instructions.Stage is not a command type');
  return inst;
}

export function instructionFromNode(node: SyntaxNode): Instruction | FromInstruction {
  const keyword = node.keyword.toUpperCase();
  const base = { line: node.startLine, original: node.original.trim() };
  const flags = new InstructionFlags(node.flags);
  const args = node.args;
  switch (keyword) {
    case 'FROM': {
      const stageName = buildStageName(args);
      flags.string('platform').parse();
      const from: FromInstruction = { ...base, kind: 'FROM', image: args[0] };
      if (stageName !== undefined) from.stageName = stageName;
      const platform = flags.get('platform');
      if (platform !== undefined && platform !== '') from.platform = platform;
      return from;
    }
    case 'ENV':
    case 'LABEL':
      flags.parse();
      return { ...base, kind: keyword, pairs: keyValues(args, keyword) };
    case 'MAINTAINER':
      exactlyOne(args, keyword);
      flags.parse();
      return { ...base, kind: 'MAINTAINER', name: args[0] };
    case 'ADD':
    case 'COPY':
      return copyInstruction(node, keyword, flags, base);
    case 'ONBUILD':
      return onbuild(node, flags, base);
    case 'WORKDIR':
    case 'USER':
      exactlyOne(args, keyword);
      flags.parse();
      return { ...base, kind: keyword, value: args[0] };
    case 'STOPSIGNAL':
      exactlyOne(args, keyword);
      return { ...base, kind: 'STOPSIGNAL', value: args[0] };
    case 'RUN': {
      flags.string('network').parse();
      const network = flags.get('network');
      return { ...base, kind: 'RUN', cmd: commandLine(node, args), ...(network !== undefined ? { network } : {}) };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      flags.parse();
      return { ...base, kind: keyword, cmd: commandLine(node, args) };
    case 'HEALTHCHECK':
      return healthcheck(node, flags, base);
    case 'EXPOSE':
      atLeastOne(args, keyword);
      flags.parse();
      return { ...base, kind: 'EXPOSE', ports: [...args].sort() };
    case 'VOLUME': {
      atLeastOne(args, keyword);
      flags.parse();
      const paths = args.map((v) => v.trim());
      if (paths.includes('')) throw invalid('VOLUME specified can not be an empty string');
      return { ...base, kind: 'VOLUME', paths };
    }
    case 'ARG':
      atLeastOne(args, keyword);
      return { ...base, kind: 'ARG', args: args.map(argDefinition) };
    case 'SHELL': {
      flags.parse();
      const shell = jsonArgs(args, node.json);
      if (shell.length === 0) throw invalid('SHELL requires at least one argument');
      if (!node.json) throw invalid('SHELL requires the arguments to be in JSON form');
      return { ...base, kind: 'SHELL', shell };
    }
    default:
      throw invalid(`unknown instruction: ${keyword}`);
  }
}

type BaseFields = { line: number; original: string };

const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function buildStageName(args: string[]): string | undefined {
  if (args.length === 3 && args[1].toLowerCase() === 'as') {
    const name = args[2].toLowerCase();
    if (!VALID_STAGE_NAME.test(name)) {
      throw invalid(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
    }
    return name;
  }
  if (args.length !== 1) throw invalid('FROM requires either one or three arguments');
  return undefined;
}

function atLeastOne(args: string[], cmd: string): void {
  if (args.length === 0) throw invalid(`${cmd} requires at least one argument`);
}

function exactlyOne(args: string[], cmd: string): void {
  if (args.length !== 1) throw invalid(`${cmd} requires exactly one argument`);
}

function keyValues(args: string[], cmd: string): KeyValue[] {
  atLeastOne(args, cmd);
  if (args.length % 3 !== 0) throw invalid(`Bad input to ${cmd}, too many arguments`);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < args.length; i += 3) {
    if (args[i] === '') throw invalid(`${cmd} names can not be blank`);
    pairs.push({ key: args[i], value: args[i + 1] });
  }
  return pairs;
}

function argDefinition(word: string): { name: string; default?: string } {
  const eq = word.indexOf('=');
  if (eq < 0) return { name: word };
  if (eq === 0) throw invalid('ARG names can not be blank');
  return { name: word.slice(0, eq), default: word.slice(eq + 1) };
}

// Shell form is one string whatever the spacing; exec form is the array as given.
function jsonArgs(args: string[], json: boolean): string[] {
  if (args.length === 0) return [];
  return json ? [...args] : [args.join(' ')];
}

function heredocOf(h: { name: string; content: string; expand: boolean; chomp: boolean }): Heredoc {
  return { name: h.name, content: h.chomp ? chompHeredocContent(h.content) : h.content, expand: h.expand, chomp: h.chomp };
}

function commandLine(node: SyntaxNode, args: string[]): CommandLine {
  return { json: node.json, args: jsonArgs(args, node.json), heredocs: node.heredocs.map(heredocOf) };
}

function copyInstruction(node: SyntaxNode, kind: 'ADD' | 'COPY', flags: InstructionFlags, base: BaseFields): CopyInstruction {
  const args = node.args;
  if (args.length < 2) {
    throw invalid(`${kind} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  flags.string('chown').string('chmod').bool('link');
  if (kind === 'COPY') flags.string('from');
  else flags.bool('keep-git-dir').string('checksum');
  flags.parse();
  const dest = args[args.length - 1];
  if (parseHeredocQuietly(dest)) throw invalid(`${kind} cannot accept a heredoc as a destination`);
  const bodies = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const heredocs: Heredoc[] = [];
  for (const src of args.slice(0, -1)) {
    const doc = parseHeredocQuietly(src);
    if (!doc) {
      sources.push(src);
      continue;
    }
    sources.push(doc.name);
    heredocs.push(heredocOf({ ...doc, content: bodies.get(doc.name)?.content ?? '' }));
  }
  const inst: CopyInstruction = { ...base, kind, sources, dest, heredocs };
  const set = <K extends 'from' | 'chown' | 'chmod' | 'checksum'>(key: K): void => {
    const v = flags.get(key);
    if (v !== undefined && v !== '') inst[key] = v;
  };
  set('chown');
  set('chmod');
  if (kind === 'COPY') set('from');
  else set('checksum');
  if (flags.isTrue('link')) inst.link = true;
  if (flags.isTrue('keep-git-dir')) inst.keepGitDir = true;
  return inst;
}

function parseHeredocQuietly(word: string): ReturnType<typeof parseHeredoc> {
  try {
    return parseHeredoc(word);
  } catch {
    return null;
  }
}

function onbuild(node: SyntaxNode, flags: InstructionFlags, base: BaseFields): Instruction {
  atLeastOne(node.args, 'ONBUILD');
  flags.parse();
  const trigger = node.args[0].trim().toUpperCase();
  if (trigger === 'ONBUILD') throw invalid('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  if (trigger === 'MAINTAINER' || trigger === 'FROM') throw invalid(`${trigger} isn't allowed as an ONBUILD trigger`);
  // The stored expression carries its heredoc bodies so it parses again on its own.
  let expression = node.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '');
  for (const h of node.heredocs) expression += `\n${h.content}${h.name}`;
  const child = node.child!;
  const inst = instructionFromNode({ ...child, heredocs: node.heredocs, startLine: node.startLine, endLine: node.endLine });
  return { ...base, kind: 'ONBUILD', expression, trigger: inst as Instruction };
}

const MIN_HEALTH_DURATION_NS = 1_000_000; // container.MinimumDuration = 1ms

function healthcheck(node: SyntaxNode, flags: InstructionFlags, base: BaseFields): HealthcheckInstruction {
  const args = node.args;
  atLeastOne(args, 'HEALTHCHECK');
  const type = args[0].toUpperCase();
  const hc: HealthcheckInstruction = {
    ...base,
    kind: 'HEALTHCHECK',
    none: false,
    intervalNs: 0,
    timeoutNs: 0,
    startPeriodNs: 0,
    startIntervalNs: 0,
    retries: 0,
  };
  if (type === 'NONE') {
    if (args.length !== 1) throw invalid('HEALTHCHECK NONE takes no arguments');
    hc.none = true;
    return hc;
  }
  flags.string('interval').string('timeout').string('start-period').string('start-interval').string('retries').parse();
  if (type !== 'CMD') throw invalid(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
  const test = jsonArgs(args.slice(1), node.json);
  if (test.length === 0) throw invalid('Missing command after HEALTHCHECK CMD');
  hc.cmd = { json: node.json, args: test, heredocs: [] };
  const interval = (name: string): number => {
    const v = flags.get(name);
    if (v === undefined || v === '') return 0;
    const ns = parseGoDuration(v);
    if (ns < MIN_HEALTH_DURATION_NS) throw invalid(`Interval ${goQuote(name)} cannot be less than 1ms`);
    return ns;
  };
  hc.intervalNs = interval('interval');
  hc.timeoutNs = interval('timeout');
  hc.startPeriodNs = interval('start-period');
  hc.startIntervalNs = interval('start-interval');
  const retries = flags.get('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) throw invalid(`strconv.ParseInt: parsing ${goQuote(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n > 2 ** 31 - 1 || n < -(2 ** 31)) throw invalid(`strconv.ParseInt: parsing ${goQuote(retries)}: value out of range`);
    if (n < 1) throw invalid(`--retries must be at least 1 (not ${n})`);
    hc.retries = n;
  }
  return hc;
}
