import { alignTabs, asGoStruct, parseTemplate, type Template } from '../util/go-template.js';

// docker's formatter.Context: a --format string is "table [TEMPLATE]", "json",
// or a Go template; rows are objects whose keys are the formatter's method names
// (.ID, .Image, .RunningFor...), so templates see what docker's templates see.

export class FormatError extends Error {}

export type Compiled = Template;

export function compile(template: string): Compiled {
  try {
    return parseTemplate(template);
  } catch (err) {
    throw new FormatError(`template parsing error: ${(err as Error).message}`);
  }
}

// For templates over the daemon's raw JSON, where docker executes with
// missingkey=error (its fallback from the typed struct).
export function compileStrict(template: string): Compiled {
  try {
    return parseTemplate(template, { missingKey: 'error' });
  } catch (err) {
    throw new FormatError(`template parsing error: ${(err as Error).message}`);
  }
}

export function run(tpl: Compiled, data: unknown): string {
  try {
    return tpl.execute(data);
  } catch (err) {
    throw new FormatError(`template parsing error: ${(err as Error).message}`);
  }
}

export const isTable = (format: string): boolean => format.startsWith('table');

// preFormat(): drop the "table" directive, expand "json", trim, and turn the
// two-character escapes \t and \n into real ones.
export function finalFormat(format: string): string {
  let f = format;
  if (isTable(f)) f = f.slice('table'.length);
  else if (f === 'json') f = '{{json .}}';
  return f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export type Row = Record<string, unknown>;

export interface ListSpec {
  // The --format value, or the command's default ("table {{.ID}}\t...").
  format: string;
  // Field name → column title, docker's SubHeaderContext.
  header: Record<string, string>;
  rows: Row[];
  // Each row's labels, for the formatter's `.Label "key"` method.
  labels?: Array<Record<string, string> | null | undefined>;
  // The docker CLI's Go type behind a row (per row, when they differ), named in its error
  // for a field the row lacks: "can't evaluate field X in type *formatter.imageContext".
  goType?: string | readonly string[];
}

// Go templates call methods with arguments; our data rows are maps, so each
// `.Label "key"` is rewritten to a per-format field filled in for every row.
const LABEL_CALL = /\.Label\s+("(?:[^"\\]|\\.)*"|`[^`]*`)/g;

function rewriteLabels(tpl: string): { tpl: string; keys: string[] } {
  const keys: string[] = [];
  const out = tpl.replace(LABEL_CALL, (_m, lit: string) => {
    const key = lit.startsWith('`') ? lit.slice(1, -1) : (JSON.parse(lit) as string);
    keys.push(key);
    return `.__Label${keys.length - 1}`;
  });
  return { tpl: out, keys };
}

// SubHeaderContext.Label: last dotted segment, '-' and '_' as spaces.
export function headerLabel(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1].replace(/[-_]/g, ' ');
}

export function renderList(spec: ListSpec): string {
  const { tpl: text, keys } = rewriteLabels(finalFormat(spec.format));
  const tpl = compile(text);
  let body = '';
  spec.rows.forEach((row, i) => {
    const data: Row = keys.length > 0 ? { ...row } : row;
    keys.forEach((k, j) => {
      data[`__Label${j}`] = spec.labels?.[i]?.[k] ?? '';
    });
    const goType = typeof spec.goType === 'string' ? spec.goType : spec.goType?.[i];
    body += run(tpl, goType ? asGoStruct(data, goType) : data) + '\n';
  });
  if (!isTable(spec.format)) return body;
  const header: Row = { ...spec.header };
  keys.forEach((k, j) => {
    header[`__Label${j}`] = headerLabel(k);
  });
  let headerText = '';
  try {
    headerText = tpl.executeHeader(header as Record<string, string>);
  } catch {
    // docker ignores errors rendering the header row.
  }
  // docker's table writer: minwidth 10, padding 3.
  return alignTabs(`${headerText}\n${body}`, { minwidth: 10, padding: 3 });
}

// docker ps runs its --format once over an empty ContainerContext before listing (to learn
// whether it shows .Size), so a bad template fails even when nothing is listed, in its own
// words. Every field of that context is a string, empty there.
export function preflightFormat(format: string, fields: readonly string[], goType: string): void {
  const { tpl: text, keys } = rewriteLabels(format);
  let tpl: Template;
  try {
    tpl = parseTemplate(text);
  } catch (err) {
    throw new FormatError(`failed to parse template: ${(err as Error).message}`);
  }
  const zero: Row = {};
  for (const f of fields) zero[f] = '';
  keys.forEach((_k, j) => {
    zero[`__Label${j}`] = '';
  });
  try {
    tpl.execute(asGoStruct(zero, goType));
  } catch (err) {
    throw new FormatError(`failed to execute template: ${(err as Error).message}`);
  }
}

// `inspect -f`: the template runs on the daemon's JSON; unknown keys are errors
// there (docker's raw fallback uses missingkey=error).
export function renderEach(format: string, elements: unknown[]): string {
  const tpl = compile(format);
  return elements.map((e) => run(tpl, e) + '\n').join('');
}

// json.Indent(raw, "", "    ") on the daemon's own bytes, so numbers and
// escapes come out exactly as sent.
export function indentJson(raw: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let needIndent = false;
  const newline = (): string => '\n' + indent.repeat(depth);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      out += c;
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (needIndent && c !== ']' && c !== '}') {
      out += newline();
      needIndent = false;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        depth++;
        needIndent = true;
        break;
      case '}':
      case ']':
        depth--;
        if (needIndent) needIndent = false; // empty object/array: "{}"
        else out += newline();
        out += c;
        break;
      case ',':
        out += c + newline();
        break;
      case ':':
        out += ': ';
        break;
      case '"':
        inString = true;
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}
