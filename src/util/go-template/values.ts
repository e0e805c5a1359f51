// The value model of the template executor: how JSON-decoded data stands in for
// Go's reflect.Value.
//
// Data is treated the way Go's encoding/json decodes into interface{} (the shape
// docker's inspect falls back to): objects are map[string]interface{}, arrays are
// []interface{}, null is a nil interface. Two concessions to docker's typed
// structs, where the data really comes from: integral numbers are ints (so %d,
// `eq .State.Pid 0`, pad/truncate arguments work) and non-integral ones float64.
//
//   undefined        Go's invalid reflect.Value ("<no value>" when printed)
//   Iface            a value of interface kind, as read out of a map or slice
//                    element; Iface(null) is a nil interface
//   anything else    a concrete value (string, number, bigint, boolean, array,
//                    plain object, function)

export class Iface {
  constructor(readonly v: unknown) {}
}

// A float64 whose value is integral (only float-syntax literals such as 1e6 or
// 2.0 in the template make one): kept apart from ints so it prints as Go does.
export class F64 {
  constructor(readonly v: number) {}
}

export type Value = unknown;

// Arrays produced by functions such as `split` are []string, not []interface{}:
// their elements are concrete and their type name differs.
const stringSlices = new WeakSet<object>();

export function markStringSlice(a: string[]): string[] {
  stringSlices.add(a);
  return a;
}

export function isStringSlice(v: unknown): boolean {
  return Array.isArray(v) && stringSlices.has(v);
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Iface) && !(v instanceof F64);
}

// A map standing for one of the docker CLI's formatter structs (ContainerContext...): a
// field it lacks is Go's "can't evaluate field X in type T", not a missing map key.
const STRUCT_TYPE = Symbol('goStructType');

export function asGoStruct<T extends object>(v: T, goType: string): T {
  Object.defineProperty(v, STRUCT_TYPE, { value: goType, enumerable: false, configurable: true });
  return v;
}

export function goStructType(v: object): string | undefined {
  return (v as { [STRUCT_TYPE]?: string })[STRUCT_TYPE];
}

// A JSON object that is a Go map in docker's typed struct (Config.Labels, NetworkSettings.Ports):
// there a missing key is "<no value>" even when the template runs with missingkey=error.
const GO_MAP = Symbol('goMap');

// nil: a nil map (JSON null), empty to index, len and range, but `null` to json.
export function asGoMap<T extends object>(v: T, nil = false): T {
  Object.defineProperty(v, GO_MAP, { value: nil ? 'nil' : 'map', enumerable: false, configurable: true });
  return v;
}

export function isGoMap(v: object): boolean {
  return (v as { [GO_MAP]?: string })[GO_MAP] !== undefined;
}

export function isNilGoMap(v: object): boolean {
  return (v as { [GO_MAP]?: string })[GO_MAP] === 'nil';
}

// Integral JSON numbers within int64's range stand for Go ints.
export function isInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 63);
}

export function isFloat(v: unknown): v is number | F64 {
  return (typeof v === 'number' && !isInt(v)) || v instanceof F64;
}

// The numeric value of an int or float.
export function numValue(v: number | bigint | F64): number | bigint {
  return v instanceof F64 ? v.v : v;
}

// Normalises an integer to a number when it fits exactly, else keeps the bigint.
export function normInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function toBigInt(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(v);
}

// indirectInterface: the concrete value inside an interface; a nil interface is invalid.
export function unbox(v: Value): Value {
  if (v instanceof Iface) return v.v === null ? undefined : v.v;
  return v;
}

// What an interface{} parameter of a Go function receives: nil for invalid values.
export function toAny(v: Value): unknown {
  const u = unbox(v);
  return u === undefined ? null : u;
}

export function mapKeysSorted(m: Record<string, unknown>): string[] {
  // Go's fmtsort orders string keys by byte value, which for UTF-16 strings
  // matches code point order except around surrogates; compare code points.
  return Object.keys(m).sort(compareStrings);
}

export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

// Go's type name for a value, as it appears in error messages and %T.
export function typeName(v: Value): string {
  if (v instanceof Iface) return 'interface {}';
  if (v === undefined || v === null) return '<nil>';
  if (v instanceof F64) return 'float64';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return isInt(v) ? 'int' : 'float64';
    case 'function':
      return 'func(...interface {}) (interface {}, error)';
  }
  if (Array.isArray(v)) return isStringSlice(v) ? '[]string' : '[]interface {}';
  return 'map[string]interface {}';
}

// Elements read out of containers: []interface{} and map[string]interface{}
// elements are interfaces, []string elements are strings.
export function elementOf(container: unknown[] | Record<string, unknown>, raw: unknown): Value {
  if (Array.isArray(container) && isStringSlice(container)) return raw;
  return new Iface(raw === undefined ? null : raw);
}

// Go's isTrue; ok=false when the value has no truth (never for JSON data).
export function isTrue(v: Value): boolean {
  const u = unbox(v);
  if (u === undefined || u === null) return false;
  if (u instanceof F64) return u.v !== 0;
  switch (typeof u) {
    case 'string':
      return u.length > 0;
    case 'boolean':
      return u;
    case 'number':
      return u !== 0;
    case 'bigint':
      return u !== 0n;
    case 'function':
      return true;
  }
  if (Array.isArray(u)) return u.length > 0;
  if (typeof u === 'object') return Object.keys(u).length > 0;
  return true;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

// Go strings are bytes: len, index and slice count UTF-8 bytes.
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function stringBytes(s: string): Uint8Array {
  return utf8.encode(s);
}

export function bytesToString(b: Uint8Array): string {
  return utf8Decoder.decode(b);
}
