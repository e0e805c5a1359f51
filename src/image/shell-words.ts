import { invalid } from '../util/errors.js';

// Dockerfile word processing (buildkit's shell lexer, frontend/dockerfile/shell) for
// instruction arguments: quotes are removed, the escape token escapes, and $VAR /
// ${VAR} / ${VAR:-x} / ${VAR-x} / ${VAR:+x} / ${VAR+x} / ${VAR:?msg} / ${VAR?msg}
// expand from the environment as it stands at that step. The `#`, `%` and `/`
// modifiers stay unsupported, as in the legacy builder of Docker 20.10.

export type EnvList = readonly string[];

export interface LexOptions {
  escape?: string; // '\\' (default) or '`' (# escape=` directive)
  rawQuotes?: boolean; // keep the quote characters in the output
  rawEscapes?: boolean; // keep the escape tokens in the output
  skipUnsetEnv?: boolean; // leave references to unset variables as written
  skipProcessQuotes?: boolean; // quotes are plain characters (heredoc bodies)
}

export interface LexResult {
  word: string; // the input as one word (ProcessWord)
  words: string[]; // split on unquoted whitespace after expansion (ProcessWords)
}

export function lookupEnv(env: EnvList, name: string): string | undefined {
  let found: string | undefined;
  for (const kv of env) {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k === name) found = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return found;
}

export function lex(input: string, env: EnvList, opts: LexOptions = {}): LexResult {
  return new Lexer(input, env, opts).run();
}

// One word in, one word out (ENV, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL).
export function processWord(word: string, env: EnvList, escape = '\\'): string {
  return lex(word, env, { escape }).word;
}

// Whitespace outside quotes splits words (EXPOSE's `$PORTS` → several ports).
export function processWords(word: string, env: EnvList, escape = '\\'): string[] {
  return lex(word, env, { escape }).words;
}

const isSpace = (ch: string): boolean => /\s/u.test(ch);
const isSpecialParam = (ch: string): boolean => '@*#?-$!0'.includes(ch);

// wordsStruct of the lexer: expansions are split on whitespace, quoted text is not.
class Words {
  private buf = '';
  private inWord = false;
  private readonly list: string[] = [];

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf !== '') {
        this.list.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
      return;
    }
    this.addRawChar(ch);
  }

  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }

  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }

  get(): string[] {
    if (this.buf !== '') {
      this.list.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.list;
  }
}

class Lexer {
  private pos = 0;
  private readonly chars: string[];
  private readonly escape: string;
  private rawEscapes: boolean;

  constructor(
    input: string,
    private readonly env: EnvList,
    private readonly opts: LexOptions,
  ) {
    this.chars = [...input];
    this.escape = opts.escape ?? '\\';
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  run(): LexResult {
    return this.until(undefined, this.rawEscapes);
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  // Reads up to `stop` (consumed) or the end of input.
  private until(stop: string | undefined, rawEscapes: boolean): LexResult {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.pos < this.chars.length) {
        const ch = this.chars[this.pos];
        if (stop !== undefined && ch === stop) {
          this.pos++;
          return { word: result, words: words.get() };
        }
        if (ch === '$') {
          const s = this.dollar();
          result += s;
          words.addString(s);
          continue;
        }
        if (ch === '<') {
          const s = this.possibleHeredoc();
          result += s;
          words.addRawString(s);
          continue;
        }
        if (!this.opts.skipProcessQuotes && (ch === "'" || ch === '"')) {
          const s = ch === "'" ? this.singleQuoted() : this.doubleQuoted();
          result += s;
          words.addRawString(s);
          continue;
        }
        this.pos++;
        if (ch === this.escape) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          // A trailing escape token is dropped.
          if (this.pos >= this.chars.length) break;
          const next = this.chars[this.pos++];
          words.addRawChar(next);
          result += next;
          continue;
        }
        words.addChar(ch);
        result += ch;
      }
      if (stop !== undefined) throw invalid(`unexpected end of statement while looking for matching ${stop}`);
      return { word: result, words: words.get() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private singleQuoted(): string {
    const raw = this.opts.rawQuotes === true;
    let out = raw ? "'" : '';
    this.pos++;
    for (;;) {
      const ch = this.chars[this.pos++];
      if (ch === undefined) throw invalid('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return raw ? out + ch : out;
      out += ch;
    }
  }

  private doubleQuoted(): string {
    const raw = this.opts.rawQuotes === true;
    let out = raw ? '"' : '';
    this.pos++;
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) throw invalid('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.pos++;
        return raw ? out + ch : out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        if (this.rawEscapes) out += ch;
        const next = this.peek();
        if (next === undefined) continue;
        // Only these can be escaped inside double quotes; other escapes stay as written.
        if (next === '"' || next === '$' || next === this.escape) {
          out += next;
          this.pos++;
          continue;
        }
      }
      out += ch;
    }
  }

  // `<<` and the blanks after it stay one word, so `<< EOF` is seen as a heredoc.
  private possibleHeredoc(): string {
    this.pos++;
    if (this.peek() !== '<') return '<';
    this.pos++;
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') out += this.chars[this.pos++];
    return out;
  }

  private name(): string {
    const first = this.peek();
    if (first === undefined) return '';
    if (/\p{Nd}/u.test(first)) {
      let digits = '';
      while (this.peek() !== undefined && /\p{Nd}/u.test(this.peek()!)) digits += this.chars[this.pos++];
      return digits;
    }
    if (isSpecialParam(first)) {
      this.pos++;
      return first;
    }
    let name = '';
    while (this.peek() !== undefined && /[\p{L}\p{Nd}_]/u.test(this.peek()!)) name += this.chars[this.pos++];
    return name;
  }

  private getEnv(name: string): string | undefined {
    return lookupEnv(this.env, name);
  }

  private dollar(): string {
    this.pos++;
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const value = this.getEnv(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.pos++;
    const first = this.peek();
    if (first === undefined) throw invalid("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw invalid('syntax error: bad substitution');
    const name = this.name();
    let ch = this.chars[this.pos++];
    if (ch === undefined) throw invalid("syntax error: missing '}'");
    const value = this.getEnv(name);
    if (ch === '}') {
      if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
      return value ?? '';
    }
    let modifier = ch;
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.chars[this.pos++] ?? '';
      modifier = `:${ch}`;
    } else if (ch !== '+' && ch !== '-' && ch !== '?') {
      throw invalid(`unsupported modifier (${ch}) in substitution`);
    }
    let word: string;
    try {
      word = this.until('}', false).word;
    } catch (err) {
      if (this.pos >= this.chars.length) throw invalid("syntax error: missing '}'");
      throw err;
    }
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${modifier}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw invalid(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unset) throw invalid(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default:
        throw invalid(`unsupported modifier (${modifier}) in substitution`);
    }
  }
}
