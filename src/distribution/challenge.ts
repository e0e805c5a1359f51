// WWW-Authenticate challenges (RFC 7235) as distribution's challenge package reads them:
//   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:x:pull"
//   Basic realm="Registry Realm"
// Schemes are lower-cased; parameter names too; values may be tokens or quoted strings.

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

export function parseChallenges(headers: string | string[] | undefined): Challenge[] {
  if (headers === undefined) return [];
  const list = Array.isArray(headers) ? headers : [headers];
  const out: Challenge[] = [];
  for (const h of list) out.push(...parseHeader(h));
  return out;
}

function parseHeader(h: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < h.length && (h[i] === ' ' || h[i] === '\t')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < h.length && TOKEN_CHAR.test(h[i]!)) i++;
    return h.slice(start, i);
  };
  const quoted = (): string => {
    let s = '';
    i++; // opening quote
    while (i < h.length && h[i] !== '"') {
      if (h[i] === '\\' && i + 1 < h.length) i++;
      s += h[i];
      i++;
    }
    i++; // closing quote
    return s;
  };
  while (i < h.length) {
    skipSpace();
    while (i < h.length && h[i] === ',') {
      i++;
      skipSpace();
    }
    const scheme = token();
    if (!scheme) break;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      skipSpace();
      const save = i;
      const name = token();
      skipSpace();
      if (!name || h[i] !== '=') {
        // Not a parameter: the next challenge's scheme starts here.
        i = save;
        break;
      }
      i++;
      skipSpace();
      const value = h[i] === '"' ? quoted() : token();
      ch.params[name.toLowerCase()] = value;
      skipSpace();
      if (h[i] === ',') i++;
      else break;
    }
  }
  return out;
}
