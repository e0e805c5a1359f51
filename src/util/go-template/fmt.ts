// Go's fmt and strconv formatting for the template value model (see values.ts):
// what `{{.X}}`, print, println and printf write.

import { F64, Iface, isInt, isStringSlice, mapKeysSorted, stringBytes, toBigInt, typeName } from './values.js';

// ---------------------------------------------------------------- strconv

const printRe = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

// unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space.
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0x20 || cp === 0x7f) return false;
  return printRe.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeRune(cp: number, quote: number, asciiOnly: boolean): string {
  if (cp === quote || cp === 0x5c) return '\\' + String.fromCodePoint(cp);
  if (asciiOnly ? cp < 0x80 && isPrint(cp) : isPrint(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd'; // lone surrogate: Go sees invalid UTF-8
  if (cp < 0x10000) return '\\u' + hex(cp, 4);
  return '\\U' + hex(cp, 8);
}

// strconv.Quote (asciiOnly: QuoteToASCII).
export function quote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) out += escapeRune(ch.codePointAt(0) ?? 0, 0x22, asciiOnly);
  return out + '"';
}

// strconv.QuoteRune
export function quoteRune(cp: number, asciiOnly = false): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  return "'" + escapeRune(cp, 0x27, asciiOnly) + "'";
}

// strconv.CanBackquote
function canBackquote(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0x60 || cp === 0xfeff) return false;
    if (cp < 0x20 && cp !== 0x09) return false;
    if (cp === 0x7f) return false;
  }
  return true;
}

// A decimal expansion: value = 0.d1d2d3... × 10^dp (as Go's strconv decimal).
interface Decimal {
  d: string; // digits without trailing zeros; '' for zero
  dp: number;
}

// The exact decimal value of a finite, non-negative double.
function exactDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biasedExp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biasedExp === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biasedExp - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return trimDecimal({ d: digits, dp });
}

function trimDecimal(x: Decimal): Decimal {
  let d = x.d.replace(/0+$/, '');
  let dp = x.dp;
  const lead = d.length - d.replace(/^0+/, '').length;
  d = d.slice(lead);
  dp -= lead;
  return d === '' ? { d: '', dp: 0 } : { d, dp };
}

// Round to nd significant digits, half to even (strconv's decimal.Round).
function roundDecimal(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return x;
  const c = x.d.charCodeAt(nd) - 48;
  let up: boolean;
  if (c === 5 && nd + 1 === x.d.length) up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1;
  else up = c >= 5;
  if (!up) return trimDecimal({ d: x.d.slice(0, nd), dp: x.dp });
  const digits = x.d.slice(0, nd).split('').map(Number);
  let i = nd - 1;
  while (i >= 0 && digits[i] === 9) i--;
  if (i < 0) return { d: '1', dp: x.dp + 1 };
  digits[i]++;
  return trimDecimal({ d: digits.slice(0, i + 1).join(''), dp: x.dp });
}

// The shortest decimal that reads back as v (ECMAScript guarantees this of toExponential()).
function shortestDecimal(v: number): Decimal {
  if (v === 0) return { d: '', dp: 0 };
  const [m, e] = v.toExponential().split('e');
  return trimDecimal({ d: m.replace('.', ''), dp: Number(e) + 1 });
}

function digitAt(x: Decimal, i: number): string {
  return i >= 0 && i < x.d.length ? x.d[i] : '0';
}

function fmtE(x: Decimal, prec: number, e: string): string {
  let out = digitAt(x, 0);
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(x, i);
  }
  const exp = x.d === '' ? 0 : x.dp - 1;
  const abs = Math.abs(exp);
  return out + e + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + String(abs);
}

function fmtF(x: Decimal, prec: number): string {
  let out = '';
  if (x.dp > 0) for (let i = 0; i < x.dp; i++) out += digitAt(x, i);
  else out = '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) out += digitAt(x, x.dp + i - 1);
  }
  return out;
}

function float64Bits(v: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const biased = (view.getUint32(0) >>> 20) & 0x7ff;
  const frac = (BigInt(view.getUint32(0) & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  return biased === 0 ? { mant: frac, exp: -1074 } : { mant: frac | (1n << 52n), exp: biased - 1075 };
}

// %b: decimal mantissa and binary exponent.
function fmtB(a: number): string {
  const { mant, exp } = float64Bits(a);
  return `${mant}p${exp >= 0 ? '+' : ''}${exp}`;
}

// %x: hexadecimal mantissa and binary exponent, 0x1.8p+01.
function fmtX(a: number, prec: number, upper: boolean): string {
  let { mant, exp } = float64Bits(a);
  if (mant === 0n) exp = 0;
  else {
    // Normalise to 1.xxx: the leading 1 at bit 60, 15 hex digits after the point.
    while (mant < 1n << 60n) {
      mant <<= 1n;
      exp--;
    }
    exp += 60;
    if (prec >= 0 && prec < 15) {
      const shift = BigInt(60 - 4 * prec);
      const extra = mant & ((1n << shift) - 1n);
      const half = 1n << (shift - 1n);
      mant >>= shift;
      if (extra > half || (extra === half && (mant & 1n) === 1n)) mant++;
      mant <<= shift;
      if (mant >> 61n) {
        mant >>= 1n;
        exp++;
      }
    }
  }
  let digits = (mant & ((1n << 60n) - 1n)).toString(16).padStart(15, '0');
  if (prec < 0) digits = digits.replace(/0+$/, '');
  else digits = digits.slice(0, prec).padEnd(prec, '0');
  const e = Math.abs(exp);
  let out = '0x' + (mant === 0n ? '0' : '1') + (digits ? '.' + digits : '') + 'p' + (exp < 0 ? '-' : '+') + (e < 10 ? '0' : '') + e;
  if (upper) out = out.toUpperCase();
  return out;
}

// strconv.FormatFloat(v, fmt, prec, 64) for fmt in b e E f F g G x X; prec -1 = shortest.
export function formatFloat(v: number, fmt: string, prec: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  if (fmt === 'b') return (neg ? '-' : '') + fmtB(a);
  if (fmt === 'x' || fmt === 'X') return (neg ? '-' : '') + fmtX(a, prec, fmt === 'X');
  const shortest = prec < 0;
  let x: Decimal;
  let body: string;
  if (shortest) {
    x = shortestDecimal(a);
  } else {
    x = exactDecimal(a);
    if (fmt === 'e' || fmt === 'E') x = roundDecimal(x, prec + 1);
    else if (fmt === 'f' || fmt === 'F') x = roundDecimal(x, x.dp + prec);
    else x = roundDecimal(x, prec === 0 ? 1 : prec);
  }
  switch (fmt) {
    case 'e':
    case 'E':
      body = fmtE(x, shortest ? Math.max(x.d.length - 1, 0) : prec, fmt);
      break;
    case 'f':
    case 'F':
      body = fmtF(x, shortest ? Math.max(x.d.length - x.dp, 0) : prec);
      break;
    default: {
      let p = shortest ? x.d.length : prec === 0 ? 1 : prec;
      let eprec = p;
      if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length;
      if (shortest) eprec = 6;
      const exp = x.dp - 1;
      if (x.d !== '' && (exp < -4 || exp >= eprec)) {
        if (p > x.d.length) p = x.d.length;
        body = fmtE(x, Math.max(p - 1, 0), fmt === 'G' ? 'E' : 'e');
      } else {
        if (p > x.dp) p = x.d.length;
        body = fmtF(x, Math.max(p - x.dp, 0));
      }
    }
  }
  return (neg ? '-' : '') + body;
}

// ------------------------------------------------------------------ fmt

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  plusV: boolean;
  sharpV: boolean;
  wid: number;
  widPresent: boolean;
  prec: number;
  precPresent: boolean;
}

function clearFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    widPresent: false,
    prec: 0,
    precPresent: false,
  };
}

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// fmt.pad: widths count runes; zero padding only on the left.
function pad(f: Flags, s: string): string {
  if (!f.widPresent || f.wid === 0) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  return (f.zero ? '0' : ' ').repeat(n) + s;
}

function truncateRunes(f: Flags, s: string): string {
  if (!f.precPresent) return s;
  let out = '';
  let n = 0;
  for (const ch of s) {
    if (n++ >= f.prec) break;
    out += ch;
  }
  return out;
}

function fmtInteger(f: Flags, v: bigint, base: number, verb: string, upper: boolean): string {
  const neg = v < 0n;
  const u = neg ? -v : v;
  let prec = 0;
  let precSet = false;
  if (f.precPresent) {
    prec = f.prec;
    precSet = true;
    if (prec === 0 && u === 0n) return pad({ ...f, zero: false }, '');
  } else if (f.zero && f.widPresent && !f.minus) {
    prec = f.wid;
    precSet = true;
    if (neg || f.plus || f.space) prec--;
  }
  let digits = u.toString(base);
  if (upper) digits = digits.toUpperCase();
  if (precSet && digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  if (f.sharp) {
    if (base === 2) digits = '0b' + digits;
    else if (base === 8 && digits[0] !== '0') digits = '0' + digits;
    else if (base === 16) digits = (upper ? '0X' : '0x') + digits;
  }
  if (verb === 'O') digits = '0o' + digits;
  if (neg) digits = '-' + digits;
  else if (f.plus) digits = '+' + digits;
  else if (f.space) digits = ' ' + digits;
  return pad({ ...f, zero: false }, digits);
}

function fmtFloatVerb(f: Flags, v: number, verb: string, prec: number): string {
  if (f.precPresent) prec = f.prec;
  let num = formatFloat(v, verb, prec);
  num = num[0] === '-' || num[0] === '+' ? num : '+' + num;
  if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1);
  if (num[1] === 'I' || num[1] === 'N') {
    if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1);
    return pad({ ...f, zero: false }, num);
  }
  if (f.sharp && verb !== 'b') num = sharpFloat(num, verb, prec);
  if (f.plus || num[0] !== '+') {
    if (f.zero && f.widPresent && f.wid > num.length) {
      return num[0] + '0'.repeat(f.wid - num.length) + num.slice(1);
    }
    return pad(f, num);
  }
  return pad(f, num.slice(1));
}

// The # flag on floats: always a decimal point, and %g/%x keep trailing zeros.
function sharpFloat(num: string, verb: string, prec: number): string {
  let digits = 0;
  if (verb === 'v' || verb === 'g' || verb === 'G' || verb === 'x') digits = prec === -1 ? 6 : prec;
  let tail = '';
  let hasPoint = false;
  let sawNonzero = false;
  for (let i = 1; i < num.length; i++) {
    const c = num[i];
    if (c === '.') {
      hasPoint = true;
    } else if (c === 'p' || c === 'P' || ((c === 'e' || c === 'E') && verb !== 'x' && verb !== 'X')) {
      tail = num.slice(i);
      num = num.slice(0, i);
    } else {
      if (c !== '0') sawNonzero = true;
      if (sawNonzero) digits--;
    }
  }
  if (!hasPoint) {
    if (num.length === 2 && num[1] === '0') digits--;
    num += '.';
  }
  if (digits > 0) num += '0'.repeat(digits);
  return num + tail;
}

function fmtSx(f: Flags, s: string, upper: boolean): string {
  let bytes = stringBytes(s);
  if (f.precPresent && f.prec < bytes.length) bytes = bytes.slice(0, f.prec);
  let out = '';
  bytes.forEach((b, i) => {
    if (f.space && i > 0) out += ' ';
    if (f.sharp && (f.space || i === 0)) out += upper ? '0X' : '0x';
    const h = hex(b, 2);
    out += upper ? h.toUpperCase() : h;
  });
  return pad(f, out);
}

function fmtQ(f: Flags, s: string): string {
  s = truncateRunes(f, s);
  if (f.sharp && canBackquote(s)) return pad(f, '`' + s + '`');
  return pad(f, quote(s, f.plus));
}

function badVerb(f: Flags, verb: string, arg: unknown): string {
  if (arg === null || arg === undefined) return '%!' + verb + '(<nil>)';
  return '%!' + verb + '(' + typeName(arg) + '=' + printArg(f, arg, 'v', 0) + ')';
}

// Go-syntax representation (%#v).
function goSyntax(arg: unknown, depth: number): string {
  if (arg === null || arg === undefined) return depth > 0 ? 'interface {}(nil)' : '<nil>';
  if (typeof arg === 'string') return quote(arg);
  if (arg instanceof F64) return formatFloat(arg.v, 'g', -1);
  if (typeof arg === 'number') return isInt(arg) ? String(arg) : formatFloat(arg, 'g', -1);
  if (typeof arg === 'bigint' || typeof arg === 'boolean') return String(arg);
  if (typeof arg === 'function') return '(' + typeName(arg) + ')(nil)';
  if (Array.isArray(arg)) return typeName(arg) + '{' + arg.map((e) => goSyntax(e, depth + 1)).join(', ') + '}';
  const m = arg as Record<string, unknown>;
  const parts = mapKeysSorted(m).map((k) => quote(k) + ':' + goSyntax(m[k], depth + 1));
  return typeName(m) + '{' + parts.join(', ') + '}';
}

function printArg(f: Flags, arg: unknown, verb: string, depth: number): string {
  if (arg instanceof Iface) arg = arg.v;
  if (arg === undefined) arg = null;
  if (arg === null) {
    if (depth > 0) return pad(f, '<nil>');
    return verb === 'v' || verb === 'T' ? pad(f, '<nil>') : badVerb(f, verb, arg);
  }
  if (verb === 'T') return pad(f, typeName(arg));
  if (verb === 'p') return badVerb(f, verb, arg);
  if (f.sharpV && verb === 'v') return pad(f, goSyntax(arg, depth));
  if (typeof arg === 'boolean') {
    return verb === 't' || verb === 'v' ? pad(f, String(arg)) : badVerb(f, verb, arg);
  }
  if (isInt(arg)) {
    const b = toBigInt(arg);
    switch (verb) {
      case 'v':
      case 'd':
        return fmtInteger(f, b, 10, verb, false);
      case 'b':
        return fmtInteger(f, b, 2, verb, false);
      case 'o':
      case 'O':
        return fmtInteger(f, b, 8, verb, false);
      case 'x':
        return fmtInteger(f, b, 16, verb, false);
      case 'X':
        return fmtInteger(f, b, 16, verb, true);
      case 'c':
        return pad(f, String.fromCodePoint(validRune(b)));
      case 'q':
        return pad(f, quoteRune(validRune(b), f.plus));
      case 'U': {
        const cp = Number(b);
        let s = 'U+' + BigInt.asUintN(64, b).toString(16).toUpperCase().padStart(4, '0');
        if (f.sharp && cp >= 0 && cp <= 0x10ffff && isPrint(cp)) s += " '" + String.fromCodePoint(cp) + "'";
        return pad(f, s);
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        return badVerb(f, verb, arg);
      default:
        return badVerb(f, verb, arg);
    }
  }
  if (typeof arg === 'number' || arg instanceof F64) {
    const x = typeof arg === 'number' ? arg : arg.v;
    switch (verb) {
      case 'v':
        return fmtFloatVerb(f, x, 'g', -1);
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        return fmtFloatVerb(f, x, verb, -1);
      case 'e':
      case 'E':
      case 'f':
      case 'F':
        return fmtFloatVerb(f, x, verb === 'F' ? 'f' : verb, 6);
      default:
        return badVerb(f, verb, arg);
    }
  }
  if (typeof arg === 'string') {
    switch (verb) {
      case 'v':
      case 's':
        return pad(f, truncateRunes(f, arg));
      case 'x':
        return fmtSx(f, arg, false);
      case 'X':
        return fmtSx(f, arg, true);
      case 'q':
        return fmtQ(f, arg);
      default:
        return badVerb(f, verb, arg);
    }
  }
  if (typeof arg === 'function') return badVerb(f, verb, arg);
  if (Array.isArray(arg)) {
    const parts = arg.map((e) => printArg(f, isStringSlice(arg) ? e : new Iface(e), verb, depth + 1));
    return '[' + parts.join(' ') + ']';
  }
  const m = arg as Record<string, unknown>;
  const parts = mapKeysSorted(m).map((k) => printArg(f, k, verb, depth + 1) + ':' + printArg(f, new Iface(m[k]), verb, depth + 1));
  return 'map[' + parts.join(' ') + ']';
}

function validRune(b: bigint): number {
  const n = Number(b);
  return b >= 0n && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? n : 0xfffd;
}

// fmt.Sprint(v) of a single value: what an action prints.
export function formatValue(v: unknown): string {
  return printArg(clearFlags(), v, 'v', 0);
}

// fmt.Sprint: a space between operands when neither is a string.
export function sprint(args: unknown[]): string {
  let out = '';
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += printArg(clearFlags(), arg, 'v', 0);
    prevString = isString;
  });
  return out;
}

// fmt.Sprintln: always a space between operands, and a newline.
export function sprintln(args: unknown[]): string {
  return args.map((a) => printArg(clearFlags(), a, 'v', 0)).join(' ') + '\n';
}

const tooLarge = (n: number): boolean => n > 1e6 || n < -1e6;

function parseNum(s: string, start: number, end: number): [num: number, ok: boolean, next: number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let ok = false;
  let i = start;
  for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
    if (tooLarge(num)) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 48);
    ok = true;
  }
  return [num, ok, i];
}

// fmt.Sprintf, including flags, width, precision, `*` and explicit [n] indexes.
export function sprintf(format: string, a: unknown[]): string {
  let out = '';
  const end = format.length;
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  let afterIndex = false;

  const argNumber = (i: number): number => {
    if (i >= end || format[i] !== '[') return i;
    reordered = true;
    for (let j = 1; i + j < end; j++) {
      if (format[i + j] === ']') {
        const [w, ok, ni] = parseNum(format, i + 1, i + j);
        if (!ok || ni !== i + j) {
          goodArgNum = false;
          return i + j + 1;
        }
        const index = w - 1;
        if (index >= 0 && index < a.length) {
          argNum = index;
          afterIndex = true;
        } else goodArgNum = false;
        return i + j + 1;
      }
    }
    goodArgNum = false;
    return i + 1;
  };
  const intFromArg = (): [number, boolean] => {
    let num = 0;
    let ok = false;
    if (argNum < a.length) {
      const v = a[argNum] instanceof Iface ? (a[argNum] as Iface).v : a[argNum];
      if (isInt(v)) {
        num = Number(v);
        ok = true;
      }
      argNum++;
      if (tooLarge(num)) {
        num = 0;
        ok = false;
      }
    }
    return [num, ok];
  };

  let i = 0;
  formatLoop: while (i < end) {
    goodArgNum = true;
    const lasti = i;
    while (i < end && format[i] !== '%') i++;
    if (i > lasti) out += format.slice(lasti, i);
    if (i >= end) break;
    i++;
    const f = clearFlags();
    simple: for (; i < end; i++) {
      const c = format[i];
      switch (c) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = !f.minus;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          if (c >= 'a' && c <= 'z' && argNum < a.length) {
            if (c === 'v') {
              f.sharpV = f.sharp;
              f.sharp = false;
              f.plusV = f.plus;
              f.plus = false;
            }
            out += printArg(f, a[argNum], c, 0);
            argNum++;
            i++;
            continue formatLoop;
          }
          break simple;
      }
    }
    afterIndex = false;
    i = argNumber(i);
    if (i < end && format[i] === '*') {
      i++;
      [f.wid, f.widPresent] = intFromArg();
      if (!f.widPresent) out += '%!(BADWIDTH)';
      if (f.wid < 0) {
        f.wid = -f.wid;
        f.minus = true;
        f.zero = false;
      }
      afterIndex = false;
    } else {
      [f.wid, f.widPresent, i] = parseNum(format, i, end);
      if (afterIndex && f.widPresent) goodArgNum = false;
    }
    if (i + 1 < end && format[i] === '.') {
      i++;
      if (afterIndex) goodArgNum = false;
      afterIndex = false;
      i = argNumber(i);
      if (i < end && format[i] === '*') {
        i++;
        [f.prec, f.precPresent] = intFromArg();
        if (f.prec < 0) {
          f.prec = 0;
          f.precPresent = false;
        }
        if (!f.precPresent) out += '%!(BADPREC)';
        afterIndex = false;
      } else {
        [f.prec, f.precPresent, i] = parseNum(format, i, end);
        if (!f.precPresent) {
          f.prec = 0;
          f.precPresent = true;
        }
      }
    }
    if (!afterIndex) i = argNumber(i);
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const cp = format.codePointAt(i) ?? 0;
    const verb = String.fromCodePoint(cp);
    i += verb.length;
    if (verb === '%') {
      out += '%';
    } else if (!goodArgNum) {
      out += '%!' + verb + '(BADINDEX)';
    } else if (argNum >= a.length) {
      out += '%!' + verb + '(MISSING)';
    } else {
      if (verb === 'v') {
        f.sharpV = f.sharp;
        f.sharp = false;
        f.plusV = f.plus;
        f.plus = false;
      }
      out += printArg(f, a[argNum], verb, 0);
      argNum++;
    }
  }
  if (!reordered && argNum < a.length) {
    const extras = a.slice(argNum).map((arg) => {
      const v = arg instanceof Iface ? arg.v : arg;
      return v === null || v === undefined ? '<nil>' : typeName(v) + '=' + printArg(clearFlags(), v, 'v', 0);
    });
    out += '%!(EXTRA ' + extras.join(', ') + ')';
  }
  return out;
}
