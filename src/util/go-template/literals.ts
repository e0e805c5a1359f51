// Go literal syntax inside actions: strconv.Unquote for string, raw string and
// character constants, and strconv.ParseInt/ParseUint/ParseFloat (base 0) for
// numbers, with the errors text/template reports for bad ones.

import { bytesToString } from './values.js';

export class SyntaxError_ extends Error {}

const ERR_SYNTAX = 'invalid syntax';

function hexVal(c: string): number {
  const n = parseInt(c, 16);
  return Number.isNaN(n) || !/^[0-9a-fA-F]$/.test(c) ? -1 : n;
}

interface Unquoted {
  value: number;
  multibyte: boolean;
  tail: string;
}

// strconv.UnquoteChar: one (possibly escaped) character from the front of s.
function unquoteChar(s: string, quoteChar: string): Unquoted {
  const c = s[0];
  if (c === quoteChar && (quoteChar === "'" || quoteChar === '"')) throw new SyntaxError_(ERR_SYNTAX);
  const cp = s.codePointAt(0) ?? 0;
  if (cp >= 0x80) {
    const w = cp > 0xffff ? 2 : 1;
    return { value: cp, multibyte: true, tail: s.slice(w) };
  }
  if (c !== '\\') return { value: cp, multibyte: false, tail: s.slice(1) };
  if (s.length <= 1) throw new SyntaxError_(ERR_SYNTAX);
  const e = s[1];
  let rest = s.slice(2);
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };
  if (e in simple) return { value: simple[e], multibyte: false, tail: rest };
  switch (e) {
    case 'x':
    case 'u':
    case 'U': {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      if (rest.length < n) throw new SyntaxError_(ERR_SYNTAX);
      let v = 0;
      for (let j = 0; j < n; j++) {
        const x = hexVal(rest[j]);
        if (x < 0) throw new SyntaxError_(ERR_SYNTAX);
        v = v * 16 + x;
      }
      rest = rest.slice(n);
      if (e === 'x') return { value: v, multibyte: false, tail: rest };
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new SyntaxError_(ERR_SYNTAX);
      return { value: v, multibyte: true, tail: rest };
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      let v = e.charCodeAt(0) - 48;
      if (rest.length < 2) throw new SyntaxError_(ERR_SYNTAX);
      for (let j = 0; j < 2; j++) {
        const x = rest.charCodeAt(j) - 48;
        if (x < 0 || x > 7) throw new SyntaxError_(ERR_SYNTAX);
        v = v * 8 + x;
      }
      if (v > 255) throw new SyntaxError_(ERR_SYNTAX);
      return { value: v, multibyte: false, tail: rest.slice(2) };
    }
    case "'":
    case '"':
      if (e !== quoteChar) throw new SyntaxError_(ERR_SYNTAX);
      return { value: e.charCodeAt(0), multibyte: false, tail: rest };
  }
  throw new SyntaxError_(ERR_SYNTAX);
}

const enc = new TextEncoder();

// strconv.Unquote for "..." and `...` literals.
export function unquote(s: string): string {
  if (s.length < 2) throw new SyntaxError_(ERR_SYNTAX);
  const q = s[0];
  if (q !== s[s.length - 1]) throw new SyntaxError_(ERR_SYNTAX);
  const body = s.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new SyntaxError_(ERR_SYNTAX);
    return body.replace(/\r/g, '');
  }
  if (q !== '"') throw new SyntaxError_(ERR_SYNTAX);
  if (body.includes('\n')) throw new SyntaxError_(ERR_SYNTAX);
  const bytes: number[] = [];
  let rest = body;
  while (rest.length > 0) {
    const u = unquoteChar(rest, q);
    rest = u.tail;
    // \x and octal escapes are raw bytes; everything else is a rune.
    if (u.value < 0x80 || !u.multibyte) bytes.push(u.value);
    else bytes.push(...enc.encode(String.fromCodePoint(u.value)));
  }
  return bytesToString(Uint8Array.from(bytes));
}

// A character constant such as 'a' or '\n', as its code point.
export function unquoteCharConstant(text: string): number {
  const u = unquoteChar(text.slice(1), text[0]);
  if (u.tail !== "'") throw new SyntaxError_('malformed character constant: ' + text);
  return u.value;
}

function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hexDigits = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1])) {
    i = 2;
    saw = '0';
    hexDigits = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hexDigits && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const MAX_UINT64 = (1n << 64n) - 1n;

// strconv.ParseUint(s, 0, 64); null on any error.
export function parseUint(s: string): bigint | null {
  if (s === '') return null;
  const s0 = s;
  let base = 10n;
  if (s[0] === '0') {
    const p = s.length >= 3 ? s[1].toLowerCase() : '';
    if (p === 'b') [base, s] = [2n, s.slice(2)];
    else if (p === 'o') [base, s] = [8n, s.slice(2)];
    else if (p === 'x') [base, s] = [16n, s.slice(2)];
    else [base, s] = [8n, s.slice(1)];
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = hexVal(c);
    if (d < 0 || BigInt(d) >= base) return null;
    n = n * base + BigInt(d);
  }
  if (underscores && !underscoreOK(s0)) return null;
  return n <= MAX_UINT64 ? n : null;
}

// strconv.ParseInt(s, 0, 64); null on any error.
export function parseInt64(s: string): bigint | null {
  if (s === '') return null;
  let neg = false;
  let body = s;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    body = s.slice(1);
  }
  if (body.includes('_') && !underscoreOK(s)) return null;
  const u = parseUint(body);
  if (u === null) return null;
  const cutoff = 1n << 63n;
  if (!neg && u >= cutoff) return null;
  if (neg && u > cutoff) return null;
  return neg ? -u : u;
}

// strconv.ParseFloat(s, 64) for the syntax the lexer lets through; null on error.
export function parseFloat64(s: string): number | null {
  if (s.includes('_') && !underscoreOK(s)) return null;
  const t = s.replace(/_/g, '');
  const dec = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  // Out of range is an error for ParseFloat (it returns ±Inf with ErrRange).
  if (dec.test(t)) return finite(Number(t));
  const hx = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(t);
  if (hx && (hx[2] !== '' || hx[3] !== '')) {
    const mant = BigInt('0x' + (hx[2] + hx[3] || '0'));
    const exp = Number(hx[4]) - 4 * hx[3].length;
    const v = Number(mant) * 2 ** exp;
    return finite(hx[1] === '-' ? -v : v);
  }
  return null;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
