// A parser with spf13/pflag's grammar and error messages, which is what the
// docker CLI uses: short clusters (-itd), attached values (-p80:80, -e=X),
// --name=x and --name x, bool flags taking only the --flag=value form, "--"
// ending the flags, and optional non-interspersed parsing (run/create/exec stop at
// the first positional so the rest belongs to the container command).

export type FlagKind = 'bool' | 'string' | 'int' | 'uint16' | 'uint64' | 'list' | 'value';

export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  usage: string;
  // The word shown after the flag in help ("list", "bytes", "duration"...);
  // defaults from the kind as pflag's UnquoteUsage does.
  typeName?: string;
  // Initial value (before any flag is seen).
  default?: unknown;
  // What pflag prints as "(default X)"; omitted when the default is a zero value.
  defaultText?: string;
  hidden?: boolean;
  // pflag's MarkDeprecated: hidden, and a notice is printed when used.
  deprecated?: string;
  // pflag's MarkShorthandDeprecated (docker's "-h" for help).
  shortDeprecated?: string;
  // Another flag's name whose storage this flag shares (--net and --network).
  dest?: string;
  // Parses one occurrence; gets the previous value for accumulating flags.
  // Throwing an Error yields pflag's `invalid argument "v" for "-x, --xx" flag: <msg>`.
  parse?: (raw: string, prev: unknown) => unknown;
}

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

export interface ParseOptions {
  interspersed?: boolean;
  // Receives pflag's deprecation notices (they go to stderr).
  warn?: (line: string) => void;
}

export class ParsedFlags {
  constructor(
    private readonly values: Map<string, unknown>,
    private readonly changedSet: Set<string>,
    readonly args: string[],
    // Index in args where "--" was seen, or -1 (pflag's ArgsLenAtDash).
    readonly argsLenAtDash: number,
  ) {}

  changed(name: string): boolean {
    return this.changedSet.has(name);
  }

  get(name: string): unknown {
    return this.values.get(name);
  }

  bool(name: string): boolean {
    return this.values.get(name) === true;
  }

  string(name: string): string {
    const v = this.values.get(name);
    return typeof v === 'string' ? v : '';
  }

  number(name: string): number {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : 0;
  }

  list(name: string): string[] {
    const v = this.values.get(name);
    return Array.isArray(v) ? (v as string[]) : [];
  }
}

// --- value parsing with Go's strconv wording ---

export function parseGoBool(s: string): boolean {
  switch (s) {
    case '1': case 't': case 'T': case 'TRUE': case 'true': case 'True':
      return true;
    case '0': case 'f': case 'F': case 'FALSE': case 'false': case 'False':
      return false;
    default:
      throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
  }
}

// strconv.ParseInt(s, 0, bits): accepts 0x, 0o, 0b prefixes and underscores as Go does.
export function parseGoInt(s: string, bits = 64, fn = 'ParseInt'): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m || /__|_$|^[+-]?_/.test(s)) throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: invalid syntax`);
  const body = m[2].replace(/_/g, '');
  let n: bigint;
  if (/^0[xXoObB]/.test(body)) n = BigInt(body.toLowerCase());
  else if (body.length > 1 && body.startsWith('0')) n = BigInt(`0o${body.slice(1)}`);
  else n = BigInt(body);
  if (m[1] === '-') n = -n;
  const max = (1n << BigInt(bits - 1)) - 1n;
  if (n > max || n < -max - 1n) throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

export function parseGoUint(s: string, bits: number): number {
  if (s.startsWith('-') || s.startsWith('+')) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax`);
  const n = BigInt(parseGoInt(s, 65, 'ParseUint'));
  if (n >= 1n << BigInt(bits)) throw new Error(`strconv.ParseUint: parsing ${goQuote(s)}: value out of range`);
  return Number(n);
}

// Go's %q for the ASCII strings flags carry.
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => c);
}

function defaultParse(spec: FlagSpec): (raw: string, prev: unknown) => unknown {
  switch (spec.kind) {
    case 'bool':
      return (raw) => parseGoBool(raw);
    case 'string':
      return (raw) => raw;
    case 'int':
      return (raw) => parseGoInt(raw, 64);
    case 'uint16':
      return (raw) => parseGoUint(raw, 16);
    case 'uint64':
      return (raw) => parseGoUint(raw, 64);
    case 'list':
      return (raw, prev) => [...((prev as string[] | undefined) ?? []), raw];
    case 'value':
      return (raw) => raw;
  }
}

export function initialValue(spec: FlagSpec): unknown {
  if (spec.default !== undefined) return Array.isArray(spec.default) ? [...spec.default] : spec.default;
  switch (spec.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
    case 'uint16':
    case 'uint64':
      return 0;
    case 'list':
      return [];
    case 'value':
      return undefined;
  }
}

export function flagDisplayName(spec: FlagSpec): string {
  return spec.short && !spec.shortDeprecated ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

export function parseFlags(specs: readonly FlagSpec[], argv: readonly string[], opts: ParseOptions = {}): ParsedFlags {
  const interspersed = opts.interspersed ?? true;
  const byName = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  const values = new Map<string, unknown>();
  for (const spec of specs) {
    byName.set(spec.name, spec);
    if (spec.short) byShort.set(spec.short, spec);
    const key = spec.dest ?? spec.name;
    if (!values.has(key)) values.set(key, initialValue(spec));
  }
  const changed = new Set<string>();
  const args: string[] = [];
  let argsLenAtDash = -1;

  const set = (spec: FlagSpec, raw: string): void => {
    const key = spec.dest ?? spec.name;
    const parse = spec.parse ?? defaultParse(spec);
    try {
      values.set(key, parse(raw, values.get(key)));
    } catch (err) {
      throw new FlagError(`invalid argument ${goQuote(raw)} for ${goQuote(flagDisplayName(spec))} flag: ${(err as Error).message}`);
    }
    if (!changed.has(spec.name) && spec.deprecated) opts.warn?.(`Flag --${spec.name} has been deprecated, ${spec.deprecated}`);
    changed.add(spec.name);
    changed.add(key);
  };

  let rest = [...argv];
  while (rest.length > 0) {
    const s = rest.shift() as string;
    if (s.length === 0 || s[0] !== '-' || s.length === 1) {
      if (!interspersed) {
        args.push(s, ...rest);
        rest = [];
        break;
      }
      args.push(s);
      continue;
    }
    if (s[1] === '-') {
      if (s.length === 2) {
        argsLenAtDash = args.length;
        args.push(...rest);
        rest = [];
        break;
      }
      rest = parseLong(s, rest);
    } else {
      rest = parseShortCluster(s, rest);
    }
  }
  return new ParsedFlags(values, changed, args, argsLenAtDash);

  function parseLong(s: string, rest: string[]): string[] {
    const body = s.slice(2);
    if (body.length === 0 || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${s}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = byName.get(name);
    if (!spec) throw new FlagError(`unknown flag: --${name}`);
    if (eq >= 0) {
      set(spec, body.slice(eq + 1));
    } else if (spec.kind === 'bool') {
      set(spec, 'true');
    } else if (rest.length > 0) {
      set(spec, rest[0]);
      return rest.slice(1);
    } else {
      throw new FlagError(`flag needs an argument: ${s}`);
    }
    return rest;
  }

  function parseShortCluster(s: string, rest: string[]): string[] {
    let shorthands = s.slice(1);
    // pflag hands every letter of a cluster the arguments that followed the cluster,
    // so "-ne x" gives x to -e (and -n must be a bool).
    let out = rest;
    while (shorthands.length > 0) {
      const c = shorthands[0];
      const spec = byShort.get(c);
      if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in -${shorthands}`);
      let value: string;
      let next = shorthands.slice(1);
      if (shorthands.length > 2 && shorthands[1] === '=') {
        value = shorthands.slice(2);
        next = '';
      } else if (spec.kind === 'bool') {
        value = 'true';
      } else if (shorthands.length > 1) {
        value = shorthands.slice(1);
        next = '';
      } else if (rest.length > 0) {
        value = rest[0];
        out = rest.slice(1);
      } else {
        throw new FlagError(`flag needs an argument: '${c}' in -${shorthands}`);
      }
      if (spec.shortDeprecated) opts.warn?.(`Flag shorthand -${c} has been deprecated, ${spec.shortDeprecated}`);
      set(spec, value);
      shorthands = next;
    }
    return out;
  }
}
