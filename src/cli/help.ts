import { BIN, type ArgsRule, type CommandSpec } from './command.js';
import type { FlagSpec } from './flags.js';

// Help and usage errors laid out as docker's cobra templates lay them out
// (cli/cobra.go usageTemplate, pflag's FlagUsagesWrapped, cli/required.go).

const MIN_NAME_PADDING = 11;

export interface CommandNode {
  spec: CommandSpec;
  // The command path as typed, without this command's name: "berth container".
  parentPath: string;
  // The parent's subcommands (for padding) or undefined for the root.
  siblings?: CommandSpec[];
  // Flags to show under "Options:" / "Global Options:".
  flags: FlagSpec[];
  isRoot?: boolean;
}

export function commandPath(node: CommandNode): string {
  return node.isRoot ? BIN : `${node.parentPath} ${node.spec.name}`;
}

export function useLine(node: CommandNode): string {
  return node.isRoot ? `${BIN} ${node.spec.use.replace(/^\S+\s*/, '')}` : `${node.parentPath} ${node.spec.use}`;
}

function visibleSubcommands(spec: CommandSpec): CommandSpec[] {
  return (spec.subcommands ?? []).filter((c) => !c.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function namePadding(siblings: CommandSpec[] | undefined): number {
  let max = 0;
  for (const c of siblings ?? []) max = Math.max(max, c.name.length);
  return Math.max(MIN_NAME_PADDING, max);
}

function rpad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function aliasesOf(node: CommandNode): string | undefined {
  const spec = node.spec;
  if (spec.aliasText) return spec.aliasText.replace(/\bdocker\b/g, BIN);
  if (!spec.aliases || spec.aliases.length === 0) return undefined;
  const path = commandPath(node);
  return [path, ...spec.aliases.map((a) => `${node.parentPath} ${a}`)].join(', ');
}

export function renderHelp(node: CommandNode, columns: number): string {
  const spec = node.spec;
  const subs = visibleSubcommands(spec);
  const hasSubs = subs.length > 0;
  const flags = node.flags.filter((f) => !f.hidden && !f.deprecated);
  let out = 'Usage:';
  if (!hasSubs) out += `  ${useLine(node)}`;
  else out += `  ${commandPath(node)}${flags.length > 0 ? ' [OPTIONS]' : ''} COMMAND`;
  out += `\n\n${(spec.long ?? spec.short).trim()}`;
  const aliases = aliasesOf(node);
  if (aliases) out += `\n\nAliases:\n  ${aliases}`;
  if (spec.example) out += `\n\nExamples:\n${spec.example}`;
  if (!node.isRoot && flags.length > 0) out += `\n\nOptions:\n${trimRight(flagUsages(flags, columns - 1))}`;
  if (node.isRoot) {
    const pad = namePadding(spec.subcommands) + 1;
    const top = subs.filter((c) => c.topCategory !== undefined).sort((a, b) => (a.topCategory ?? 0) - (b.topCategory ?? 0));
    if (top.length > 0) out += '\n\nCommon Commands:' + top.map((c) => `\n  ${rpad(c.name + ' ', pad)}${c.short}`).join('');
    const mgmt = subs.filter((c) => (c.subcommands?.length ?? 0) > 0);
    if (mgmt.length > 0) out += '\n\nManagement Commands:' + mgmt.map((c) => `\n  ${rpad(c.name + ' ', pad)}${c.short}`).join('');
    const ops = subs.filter((c) => c.topCategory === undefined && !(c.subcommands?.length ?? 0));
    if (ops.length > 0) out += '\n\nCommands:' + ops.map((c) => `\n  ${rpad(c.name, pad - 1)} ${c.short}`).join('');
    if (flags.length > 0) out += `\n\nGlobal Options:\n${trimRight(flagUsages(flags, columns - 1))}`;
  } else if (hasSubs) {
    const pad = namePadding(spec.subcommands);
    const ops = subs.filter((c) => !(c.subcommands?.length ?? 0));
    if (ops.length > 0) out += '\n\nCommands:' + ops.map((c) => `\n  ${rpad(c.name, pad)} ${c.short}`).join('');
  }
  if (hasSubs) out += `\n\nRun '${commandPath(node)} COMMAND --help' for more information on a command.`;
  if (node.isRoot) out += `\n\nFor more help on how to use ${BIN}, head to https://docs.docker.com/go/guides/`;
  return out + '\n';
}

function trimRight(s: string): string {
  return s.replace(/\s+$/, '');
}

// pflag's UnquoteUsage: a `backquoted` word in the usage names the value.
function unquoteUsage(spec: FlagSpec): { name: string; usage: string } {
  const m = /`([^`]*)`/.exec(spec.usage);
  if (m) return { name: m[1], usage: spec.usage.replace(m[0], m[1]) };
  if (spec.typeName !== undefined) return { name: spec.typeName, usage: spec.usage };
  switch (spec.kind) {
    case 'bool':
      return { name: '', usage: spec.usage };
    case 'list':
      return { name: 'list', usage: spec.usage };
    case 'uint64':
      return { name: 'uint', usage: spec.usage };
    case 'value':
      return { name: 'value', usage: spec.usage };
    default:
      return { name: spec.kind, usage: spec.usage };
  }
}

function defaultSuffix(spec: FlagSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText === '' ? '' : ` (default ${spec.defaultText})`;
  const d = spec.default;
  switch (spec.kind) {
    case 'bool':
      return d === true ? ' (default true)' : '';
    case 'string':
      return typeof d === 'string' && d !== '' ? ` (default ${JSON.stringify(d)})` : '';
    case 'int':
    case 'uint16':
    case 'uint64':
      return typeof d === 'number' && d !== 0 ? ` (default ${d})` : '';
    default:
      return '';
  }
}

// pflag's FlagUsagesWrapped, sorted by name as pflag sorts.
export function flagUsages(flags: readonly FlagSpec[], cols: number): string {
  const visible = flags.filter((f) => !f.hidden && !f.deprecated).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines: Array<[string, string]> = [];
  let maxlen = 0;
  for (const f of visible) {
    let line = f.short && !f.shortDeprecated ? `  -${f.short}, --${f.name}` : `      --${f.name}`;
    const { name, usage } = unquoteUsage(f);
    if (name !== '') line += ` ${name}`;
    maxlen = Math.max(maxlen, line.length);
    lines.push([line, usage + defaultSuffix(f)]);
  }
  let out = '';
  for (const [left, usage] of lines) {
    out += `${left}${' '.repeat(maxlen - left.length)}   ${wrap(maxlen + 3, cols, usage)}\n`;
  }
  return out;
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

// pflag's wrap(): indent continuation lines to column i, wrap at w.
function wrap(i: number, w: number, s: string): string {
  const indent = (n: number): string => ' '.repeat(n);
  if (w === 0) return s.replace(/\n/g, '\n' + indent(i));
  let width = w - i;
  let r = '';
  if (width < 24) {
    i = 16;
    width = w - i;
    r += '\n' + indent(i);
  }
  if (width < 24) return s.replace(/\n/g, r);
  const slop = 5;
  width -= slop;
  let [l, rest] = wrapN(width, slop, s);
  r += l.replace(/\n/g, '\n' + indent(i));
  while (rest !== '') {
    let t: string;
    [t, rest] = wrapN(width, slop, rest);
    r += '\n' + indent(i) + t.replace(/\n/g, '\n' + indent(i));
  }
  return r;
}

function pluralize(word: string, n: number): string {
  return n === 1 ? word : `${word}s`;
}

// cli/required.go's messages; undefined when the count is fine.
export function checkArgs(rule: ArgsRule, node: CommandNode, args: readonly string[]): string | undefined {
  const path = commandPath(node);
  const usage = useLine(node);
  const n = args.length;
  switch (rule.kind) {
    case 'any':
      return undefined;
    case 'none':
      if (n === 0) return undefined;
      if (visibleSubcommands(node.spec).length > 0) {
        return `${BIN}: unknown command: ${path} ${args[0]}\n\nUsage:  ${usage}\n\nRun '${path} --help' for more information`;
      }
      return `${BIN}: '${path}' accepts no arguments\n\nUsage:  ${usage}\n\nRun '${path} --help' for more information`;
    case 'min':
      if (n >= rule.n) return undefined;
      return `${BIN}: '${path}' requires at least ${rule.n} ${pluralize('argument', rule.n)}\n\nUsage:  ${usage}\n\nSee '${path} --help' for more information`;
    case 'max':
      if (n <= rule.n) return undefined;
      return `${BIN}: '${path}' requires at most ${rule.n} ${pluralize('argument', rule.n)}\n\nUsage:  ${usage}\n\nSRun '${path} --help' for more information`;
    case 'exact':
      if (n === rule.n) return undefined;
      return `${BIN}: '${path}' requires ${rule.n} ${pluralize('argument', rule.n)}\n\nUsage:  ${usage}\n\nRun '${path} --help' for more information`;
    case 'range':
      if (n >= rule.min && n <= rule.max) return undefined;
      return `${BIN}: '${path}' requires at least ${rule.min} and at most ${rule.max} ${pluralize('argument', rule.max)}\n\nUsage:  ${usage}\n\nRun '${path} --help' for more information`;
  }
}

// cli.FlagErrorFunc's layout, exit status 125.
export function flagErrorMessage(err: Error, node: CommandNode): string {
  return `${err.message}\n\nUsage:  ${useLine(node)}\n\nRun '${commandPath(node)} --help' for more information`;
}
