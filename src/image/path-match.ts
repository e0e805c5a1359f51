import { invalid } from '../util/errors.js';

// Go's path.Match, which Docker uses for `images --filter reference=<pattern>`:
// `*` and `?` never cross a '/', classes are `[...]` with `^` for negation, `\` escapes.
// A malformed pattern is an error even when the name would not have matched.

export const ErrBadPattern = 'syntax error in pattern';

const cache = new Map<string, RegExp>();

export function pathMatch(pattern: string, name: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    re = compile(pattern);
    if (cache.size > 256) cache.clear();
    cache.set(pattern, re);
  }
  return re.test(name);
}

const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const escapeClass = (c: string): string => c.replace(/[\\\][^-]/g, '\\$&');

function compile(pattern: string): RegExp {
  const chars = [...pattern];
  let out = '^';
  let i = 0;
  const bad = (): never => {
    throw invalid(ErrBadPattern);
  };
  while (i < chars.length) {
    const c = chars[i];
    if (c === '*') {
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '\\') {
      if (i + 1 >= chars.length) bad();
      out += escapeRe(chars[i + 1]);
      i += 2;
    } else if (c === '[') {
      i++;
      let negate = false;
      if (chars[i] === '^') {
        negate = true;
        i++;
      }
      const ranges: string[] = [];
      // Go requires at least one range, and each end is a plain or escaped char.
      const classChar = (): string => {
        const ch = chars[i];
        if (ch === undefined || ch === '-' || ch === ']') bad();
        if (ch === '\\') {
          i++;
          if (chars[i] === undefined) bad();
        }
        return chars[i++];
      };
      do {
        const lo = classChar();
        if (chars[i] === '-') {
          i++;
          const hi = classChar();
          if (lo > hi) bad();
          ranges.push(`${escapeClass(lo)}-${escapeClass(hi)}`);
        } else {
          ranges.push(escapeClass(lo));
        }
      } while (chars[i] !== ']' && i < chars.length);
      if (chars[i] !== ']') bad();
      i++;
      out += `[${negate ? '^' : ''}${ranges.join('')}]`;
    } else {
      out += escapeRe(c);
      i++;
    }
  }
  return new RegExp(out + '$', 'u');
}
