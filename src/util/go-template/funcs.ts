// The functions a docker --format template can call: Go's text/template
// builtins plus the docker CLI's FuncMap (docker/cli templates/templates.go).
// Each declares its Go parameter types so the executor can check and convert
// arguments, and report arity and type errors, the way Go's reflection does.

import { formatValue, isPrint, sprint, sprintf, sprintln } from './fmt.js';
import {
  F64,
  Iface,
  byteLength,
  bytesToString,
  compareStrings,
  elementOf,
  goStructType,
  isFloat,
  isInt,
  isMap,
  isNilGoMap,
  isStringSlice,
  isTrue,
  markStringSlice,
  numValue,
  stringBytes,
  toAny,
  toBigInt,
  typeName,
  unbox,
  type Value,
} from './values.js';

// 'value': a reflect.Value parameter (sees invalid values and interfaces as they are);
// 'any': interface{} (invalid becomes nil); 'string' and 'int' are checked.
export type ParamType = 'value' | 'any' | 'string' | 'int';

export interface GoFunc {
  params: ParamType[];
  variadic?: ParamType;
  // Go's (value, error) results: a thrown Error is the error.
  call(args: unknown[]): Value;
}

// Any function type is assignable to this; arguments arrive already checked
// against `params` by the executor.
type Impl = (...args: never[]) => Value;

const fn = (params: ParamType[], impl: Impl, variadic?: ParamType): GoFunc => ({
  params,
  variadic,
  call: (args) => impl(...(args as never[])),
});

// ------------------------------------------------------------ builtins

function indexArg(index: Value, cap: number): number {
  const i = unbox(index);
  if (i === undefined) throw new Error('cannot index slice/array with nil');
  if (!isInt(i)) throw new Error(`cannot index slice/array with type ${typeName(i)}`);
  const x = toBigInt(i);
  if (x < 0n || x > BigInt(cap)) throw new Error(`index out of range: ${x}`);
  return Number(x);
}

// docker's data is JSON; its typed map[string]string fields (Labels, Options)
// answer a missing key with "" rather than a nil interface.
function isStringMap(m: Record<string, unknown>): boolean {
  return Object.values(m).every((v) => typeof v === 'string');
}

function index(item: Value, ...indexes: Value[]): Value {
  let cur = unbox(item);
  if (cur === undefined) throw new Error('index of untyped nil');
  for (const idx of indexes) {
    if (cur instanceof Iface) {
      if (cur.v === null) throw new Error('index of nil pointer');
      cur = cur.v;
    }
    if (typeof cur === 'string') {
      const bytes = stringBytes(cur);
      const x = indexArg(idx, bytes.length);
      if (x === bytes.length) throw new Error('reflect: string index out of range');
      cur = bytes[x];
    } else if (Array.isArray(cur)) {
      const x = indexArg(idx, cur.length);
      if (x === cur.length) throw new Error('reflect: slice index out of range');
      cur = elementOf(cur, cur[x]);
    } else if (isMap(cur)) {
      const key = unbox(idx);
      if (key === undefined) throw new Error('value is nil; should be of type string');
      if (typeof key !== 'string') throw new Error(`value has type ${typeName(key)}; should be string`);
      if (Object.prototype.hasOwnProperty.call(cur, key)) cur = new Iface(cur[key]);
      else cur = isStringMap(cur) ? '' : new Iface(null);
    } else {
      throw new Error(`can't index item of type ${typeName(cur)}`);
    }
  }
  return cur;
}

function slice(item: Value, ...indexes: Value[]): Value {
  const cur = unbox(item);
  if (cur === undefined) throw new Error('slice of untyped nil');
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof cur === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string');
    len = byteLength(cur);
  } else if (Array.isArray(cur)) {
    len = cur.length;
  } else {
    throw new Error(`can't slice item of type ${typeName(cur)}`);
  }
  const idx = [0, len, len];
  indexes.forEach((x, i) => (idx[i] = indexArg(x, len)));
  if (idx[0] > idx[1]) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (indexes.length === 3 && idx[1] > idx[2]) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof cur === 'string') return bytesToString(stringBytes(cur).slice(idx[0], idx[1]));
  const out = (cur as unknown[]).slice(idx[0], idx[1]);
  return isStringSlice(cur) ? markStringSlice(out as string[]) : out;
}

function length(item: Value): Value {
  if (item instanceof Iface) {
    if (item.v === null) throw new Error('len of nil pointer');
    item = item.v;
  }
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value');
  if (typeof item === 'string') return byteLength(item);
  if (Array.isArray(item)) return item.length;
  if (isMap(item)) return Object.keys(item).length;
  throw new Error(`len of type ${typeName(item)}`);
}

// The executor passes the callee's name first, as Go's evalCall does for `call`.
function call(name: string, f: Value, ...args: Value[]): Value {
  const target = unbox(f);
  if (target === undefined) throw new Error('call of nil');
  if (typeof target !== 'function') throw new Error(`non-function ${name} of type ${typeName(target)}`);
  const plain = args.map(toAny).map((a) => (a instanceof F64 ? a.v : a));
  return (target as (...a: unknown[]) => unknown)(...plain);
}

// ------------------------------------------------------------ comparisons

type Kind = 'invalid' | 'bool' | 'int' | 'float' | 'string';

function basicKind(v: Value): Kind {
  if (typeof v === 'boolean') return 'bool';
  if (isInt(v)) return 'int';
  if (isFloat(v)) return 'float';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

const numeric = (k: Kind): boolean => k === 'int' || k === 'float';

const incompatible = (a: Value, b: Value): Error =>
  new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);

function numCompare(x: number | bigint | F64, y: number | bigint | F64): number {
  const a = numValue(x);
  const b = numValue(y);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' && Number.isInteger(b)) return numCompare(a, BigInt(b));
  if (typeof b === 'bigint' && Number.isInteger(a)) return numCompare(BigInt(a), b);
  const m = Number(a);
  const n = Number(b);
  return m < n ? -1 : m > n ? 1 : 0;
}

function eq(arg1: Value, ...arg2: Value[]): boolean {
  const a = unbox(arg1);
  if (arg2.length === 0) throw new Error('missing argument for comparison');
  const k1 = basicKind(a);
  for (const raw of arg2) {
    const b = unbox(raw);
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2) {
      // Go refuses int against float64; JSON numbers carry no such type, so
      // numbers compare by value.
      if (numeric(k1) && numeric(k2)) truth = numCompare(a as number | F64, b as number | F64) === 0;
      else if (a !== undefined && b !== undefined) throw incompatible(a, b);
    } else if (k1 === 'int' || k1 === 'float') {
      truth = numCompare(a as number | F64, b as number | F64) === 0;
    } else if (k1 !== 'invalid') {
      truth = a === b;
    } else if (a === undefined || b === undefined) {
      truth = a === b;
    } else {
      const sameKind = Array.isArray(a) === Array.isArray(b) && typeof a === typeof b;
      if (!sameKind) {
        throw new Error(`non-comparable types ${sprintf('%s', [a])}: ${typeName(a)}, ${typeName(b)}: ${formatValue(b)}`);
      }
      throw new Error(`non-comparable type ${sprintf('%s', [b])}: ${typeName(b)}`);
    }
    if (truth) return true;
  }
  return false;
}

function lt(arg1: Value, arg2: Value): boolean {
  const a = unbox(arg1);
  const k1 = basicKind(a);
  if (k1 === 'invalid') throw new Error('invalid type for comparison');
  const b = unbox(arg2);
  const k2 = basicKind(b);
  if (k2 === 'invalid') throw new Error('invalid type for comparison');
  if (k1 !== k2 && !(numeric(k1) && numeric(k2))) throw incompatible(a, b);
  if (k1 === 'bool') throw new Error('invalid type for comparison');
  if (k1 === 'string') return compareStrings(a as string, b as string) < 0;
  return numCompare(a as number | F64, b as number | F64) < 0;
}

const le = (a: Value, b: Value): boolean => lt(a, b) || eq(a, b);

// ------------------------------------------------------------ escapers

// text/template's evalArgs: a lone string as is, anything else through fmt.Sprint.
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x80) {
      out += isPrint(c) ? ch : '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
      continue;
    }
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    out += c < 0x20 ? '\\u00' + c.toString(16).toUpperCase().padStart(2, '0') : ch;
  }
  return out;
}

// url.QueryEscape
function queryEscape(s: string): string {
  let out = '';
  for (const b of stringBytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ------------------------------------------------------------ docker's functions

// encoding/json with SetEscapeHTML(false), as docker's `json` function. Objects
// keep their key order: docker marshals typed structs in field order, and the
// Engine API JSON our data comes from already carries that order (maps sorted).
export function goJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object' && isNilGoMap(v)) return 'null';
  if (v instanceof Iface) return goJson(v.v);
  if (v instanceof F64) return goJson(v.v);
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
    case 'boolean':
      return String(v);
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`json: unsupported value: ${formatValue(v)}`);
      return Object.is(v, -0) ? '-0' : String(v);
    case 'function':
      throw new Error(`json: unsupported type: ${typeName(v)}`);
  }
  if (Array.isArray(v)) return '[' + v.map(goJson).join(',') + ']';
  const m = v as Record<string, unknown>;
  const row = goStructType(m) !== undefined;
  // A list row is a docker formatter context, whose MarshalJSON is json.Marshal of a map of
  // its fields: keys sorted, HTML escaped ("\u003cnone\u003e"; only strings hold <, >, &).
  const keys = row ? Object.keys(m).filter((k) => !k.startsWith('__')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : Object.keys(m);
  const text = '{' + keys.map((k) => goJson(k) + ':' + goJson(m[k])).join(',') + '}';
  return row ? text.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`) : text;
}

function split(s: string, sep: string): Value {
  return markStringSlice(sep === '' ? Array.from(s) : s.split(sep));
}

// docker's join: []string as strings.Join, any slice element by element through
// fmt.Sprint, map values sorted.
function join(elems: unknown, sep: string): Value {
  if (elems === null) return '';
  if (Array.isArray(elems)) return elems.map((e) => formatValue(e === undefined ? null : e)).join(sep);
  if (isMap(elems)) return Object.values(elems).map(formatValue).sort(compareStrings).join(sep);
  throw new Error(`expected slice, got ${typeName(elems)}`);
}

const letterOrDigit = /^[\p{L}\p{Nd}]$/u;
const unicodeSpace = /^[\s\u0085]$/u;

function isSeparator(ch: string): boolean {
  const r = ch.codePointAt(0) ?? 0;
  if (r <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (letterOrDigit.test(ch)) return false;
  return unicodeSpace.test(ch);
}

// unicode.ToUpper/ToLower map one rune to one rune; JS's full case mapping may
// produce several (ß → SS), which Go leaves alone.
function mapRunes(s: string, f: (ch: string) => string): string {
  let out = '';
  for (const ch of s) {
    const m = f(ch);
    out += Array.from(m).length === 1 ? m : ch;
  }
  return out;
}

// unicode.ToTitle differs from ToUpper only for the Latin digraphs (Ǆ ǅ ǆ -> ǅ).
const TITLE_DIGRAPHS: Record<string, string> = {
  '\u01C4': '\u01C5', '\u01C5': '\u01C5', '\u01C6': '\u01C5',
  '\u01C7': '\u01C8', '\u01C8': '\u01C8', '\u01C9': '\u01C8',
  '\u01CA': '\u01CB', '\u01CB': '\u01CB', '\u01CC': '\u01CB',
  '\u01F1': '\u01F2', '\u01F2': '\u01F2', '\u01F3': '\u01F2',
};

function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? (TITLE_DIGRAPHS[ch] ?? mapRunes(ch, (c) => c.toUpperCase())) : ch;
    prev = ch;
  }
  return out;
}

// İ is the one rune whose full lowercase (i + combining dot) differs from its simple one.
const lowerRune = (c: string): string => (c === '\u0130' ? 'i' : c.toLowerCase());

function repeatSpaces(n: number | bigint): string {
  if (n < 0) throw new Error('strings: negative Repeat count');
  return ' '.repeat(Number(n));
}

function pad(s: string, prefix: number | bigint, suffix: number | bigint): string {
  if (s === '') return s;
  return repeatSpaces(prefix) + s + repeatSpaces(suffix);
}

function truncate(s: string, length: number | bigint): string {
  const bytes = stringBytes(s);
  if (bytes.length < length) return s;
  if (length < 0) throw new Error(`runtime error: slice bounds out of range [:${length}]`);
  return bytesToString(bytes.slice(0, Number(length)));
}

export const FUNCS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  // Go builtins. `and` and `or` are evaluated lazily by the executor.
  ['and', fn(['value'], () => undefined, 'value')],
  ['or', fn(['value'], () => undefined, 'value')],
  ['not', fn(['value'], (v: Value) => !isTrue(v))],
  ['len', fn(['value'], length)],
  ['index', fn(['value'], index, 'value')],
  ['slice', fn(['value'], slice, 'value')],
  ['call', fn(['value'], call, 'value')],
  ['print', fn([], (...a: unknown[]) => sprint(a), 'any')],
  ['printf', fn(['string'], (f: string, ...a: unknown[]) => sprintf(f, a), 'any')],
  ['println', fn([], (...a: unknown[]) => sprintln(a), 'any')],
  ['html', fn([], (...a: unknown[]) => htmlEscape(evalArgs(a)), 'any')],
  ['js', fn([], (...a: unknown[]) => jsEscape(evalArgs(a)), 'any')],
  ['urlquery', fn([], (...a: unknown[]) => queryEscape(evalArgs(a)), 'any')],
  ['eq', fn(['value'], eq, 'value')],
  ['ne', fn(['value', 'value'], (a: Value, b: Value) => !eq(a, b))],
  ['lt', fn(['value', 'value'], lt)],
  ['le', fn(['value', 'value'], le)],
  ['gt', fn(['value', 'value'], (a: Value, b: Value) => !le(a, b))],
  ['ge', fn(['value', 'value'], (a: Value, b: Value) => !lt(a, b))],
  // docker/cli templates.basicFunctions
  ['json', fn(['any'], goJson)],
  ['split', fn(['string', 'string'], split)],
  ['join', fn(['any', 'string'], join)],
  ['title', fn(['string'], title)],
  ['lower', fn(['string'], (s: string) => mapRunes(s, lowerRune))],
  ['upper', fn(['string'], (s: string) => mapRunes(s, (c) => c.toUpperCase()))],
  ['pad', fn(['string', 'int', 'int'], pad)],
  ['truncate', fn(['string', 'int'], truncate)],
]);

export const FUNC_NAMES: ReadonlySet<string> = new Set(FUNCS.keys());

// docker's HeaderFunctions: when a table header is rendered, the same template
// runs over a map of column titles, and these replace the basic functions so the
// titles come out unchanged (pad is kept, to keep the columns aligned).
const identity = (v: string): string => v;

export const HEADER_FUNCS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ...FUNCS,
  ['json', fn(['string'], identity)],
  ['split', fn(['string', 'string'], identity)],
  ['join', fn(['string', 'string'], identity)],
  ['title', fn(['string'], identity)],
  ['lower', fn(['string'], identity)],
  ['upper', fn(['string'], identity)],
  ['truncate', fn(['string', 'int'], identity)],
]);
