// Go's text/template with the docker CLI's function map: what `--format` means
// for `docker inspect`, `ps`, `images`, `volume ls` and friends.
//
// The data is JSON (plain objects, arrays, strings, numbers, booleans, null), so
// templates see it the way Go sees JSON decoded into interface{}, which is what
// docker itself falls back to for fields its typed structs lack:
//   - a missing key renders "<no value>"; so does a null one (Go unwraps the
//     nil interface); `.a.b` through a null `a` is an error ("nil pointer
//     evaluating interface {}.b"), through a missing `a` it is "<no value>";
//   - maps print as map[k:v ...] with sorted keys, arrays as [a b c], null
//     inside them as <nil>; `range` visits map keys in sorted order.
// Where docker's typed structs would behave differently, we follow docker:
//   - integral numbers are ints (plain digits, %d, `eq .State.Pid 0`), others float64;
//     ints and floats compare by value (Go would refuse to compare them);
//   - `index` of a missing key in a map of strings (Labels) yields "", as
//     for Go's map[string]string;
//   - `json` keeps object key order (struct field order in the Engine API JSON)
//     and, like docker, does not HTML-escape <, >, &.
// Known gaps: a nil pointer to a struct prints "<nil>" in docker but we only see
// a missing or null key ("<no value>"); structs print as {v1 v2} in docker, as
// maps here; complex number literals are rejected.

import { execute, type ExecContext, type MissingKey } from './go-template/exec.js';
import { FUNCS, FUNC_NAMES, HEADER_FUNCS } from './go-template/funcs.js';
import { parse } from './go-template/parser.js';

export { TemplateError, type TemplatePhase } from './go-template/errors.js';
export { asGoMap, asGoStruct } from './go-template/values.js';
export { alignTabs, displayWidth, tabwriter, type TabwriterOptions } from './go-template/tabwriter.js';

export interface TemplateOptions {
  // Go's Option("missingkey=..."): what a missing map key yields.
  missingKey?: 'default' | 'invalid' | MissingKey;
}

export class Template {
  private readonly ctx: ExecContext;

  constructor(readonly source: string, options: TemplateOptions = {}) {
    const mk = options.missingKey ?? 'default';
    this.ctx = {
      text: source,
      parseName: '',
      trees: parse(source, FUNC_NAMES),
      missingKey: mk === 'invalid' ? 'default' : mk,
      funcs: FUNCS,
    };
  }

  // Throws TemplateError (phase 'exec') like Go's Execute.
  execute(data: unknown): string {
    return execute(this.ctx, '', data);
  }

  // Renders the table header the way docker does: the same template over a map
  // of column titles, with docker's HeaderFunctions (json, split, join, title,
  // lower, upper and truncate return their first argument unchanged).
  executeHeader(titles: Record<string, string>): string {
    return execute({ ...this.ctx, funcs: HEADER_FUNCS }, '', titles);
  }

  // Names of the templates the source defines ("" is the main one).
  get names(): string[] {
    return [...this.ctx.trees.keys()];
  }
}

// Throws TemplateError (phase 'parse') with Go's message, e.g.
// `template: :1: function "foo" not defined`.
export function parseTemplate(tpl: string, options?: TemplateOptions): Template {
  return new Template(tpl, options);
}

export function renderTemplate(tpl: string, data: unknown): string {
  return parseTemplate(tpl).execute(data);
}

// ---------------------------------------------------------------- docker's Format

const TABLE = 'table';

// docker: Format.IsTable is a plain prefix test ("tablefoo" counts).
export function isTableFormat(format: string): boolean {
  return format.startsWith(TABLE);
}

// "table {{.ID}}\t{{.Names}}" -> "{{.ID}}\t{{.Names}}"; spaces (only spaces)
// around the rest are trimmed, as docker's Format.templateString does.
export function stripTableDirective(format: string): string {
  const rest = format.startsWith(TABLE) ? format.slice(TABLE.length) : format;
  return rest.replace(/^ +| +$/g, '');
}

// The docker CLI's list formatters turn a typed backslash-t / backslash-n into a
// tab / newline (so `--format "{{.ID}}\t{{.Names}}"` works from a shell);
// `inspect --format` does not.
export function unescapeFormat(format: string): string {
  return format.replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));
}

// docker's Format.templateString for list commands (ps, images, volume ls, ...):
// bare "table" has no template; "json" means {{json .}}; else the table
// directive is cut, spaces trimmed and \t \n unescaped.
export function listFormatTemplate(format: string): string {
  if (format === TABLE) return '';
  if (format === 'json') return '{{json .}}';
  return unescapeFormat(stripTableDirective(format));
}
