import { invalid } from '../util/errors.js';

// Dockerfile word processing (buildkit's shell lexer) for instruction arguments:
// quotes are removed, `\` escapes, and $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x} (and the
// colon-less forms) expand from the image's environment as it stands at that step.

export type EnvList = readonly string[];

export function lookupEnv(env: EnvList, name: string): string | undefined {
  let found: string | undefined;
  for (const kv of env) {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    if (k === name) found = eq < 0 ? '' : kv.slice(eq + 1);
  }
  return found;
}

// One word in, one word out (ENV, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL).
export function processWord(word: string, env: EnvList, escape = '\\'): string {
  return new Lexer(word, env, escape, false).run().join('');
}

// Whitespace outside quotes splits words (EXPOSE's `$PORTS` → several ports).
export function processWords(word: string, env: EnvList, escape = '\\'): string[] {
  return new Lexer(word, env, escape, true).run();
}

class Lexer {
  private pos = 0;
  private readonly chars: string[];

  constructor(
    input: string,
    private readonly env: EnvList,
    private readonly escape: string,
    private readonly split: boolean,
  ) {
    this.chars = [...input];
  }

  run(): string[] {
    const words: string[] = [];
    let word = '';
    let inWord = false;
    while (this.pos < this.chars.length) {
      const ch = this.chars[this.pos];
      if (this.split && /\s/.test(ch)) {
        this.pos++;
        if (inWord) words.push(word);
        word = '';
        inWord = false;
        continue;
      }
      if (this.split && ch === '$') {
        // An unquoted expansion is split into words too ("EXPOSE $PORTS").
        const parts = this.dollar().split(/\s+/);
        for (let i = 0; i < parts.length; i++) {
          if (i > 0) {
            if (inWord) words.push(word);
            word = '';
            inWord = false;
          }
          if (parts[i]) {
            word += parts[i];
            inWord = true;
          }
        }
        continue;
      }
      inWord = true;
      word += this.unit(() => false);
    }
    if (inWord || !this.split) words.push(word);
    return words;
  }

  // One lexical unit: a quoted string, a substitution, an escaped or plain char.
  private unit(stopAt: (ch: string) => boolean): string {
    const ch = this.chars[this.pos];
    if (stopAt(ch)) return '';
    if (ch === "'") return this.singleQuoted();
    if (ch === '"') return this.doubleQuoted();
    if (ch === '$') return this.dollar();
    this.pos++;
    if (ch === this.escape) {
      if (this.pos >= this.chars.length) return '';
      return this.chars[this.pos++];
    }
    return ch;
  }

  private singleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.chars.length) {
        throw invalid('unexpected end of statement while looking for matching single-quote');
      }
      const ch = this.chars[this.pos++];
      if (ch === "'") return out;
      out += ch;
    }
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= this.chars.length) {
        throw invalid('unexpected end of statement while looking for matching double-quote');
      }
      const ch = this.chars[this.pos];
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === this.escape) {
        const next = this.chars[this.pos];
        if (next === undefined) continue;
        if (next === '"' || next === '$' || next === this.escape) {
          out += next;
          this.pos++;
          continue;
        }
      }
      out += ch;
    }
  }

  private name(): string {
    let name = '';
    const first = this.chars[this.pos];
    // Positional and special parameters are one character long.
    if (first !== undefined && /[0-9*#@$?!-]/.test(first)) {
      this.pos++;
      return first;
    }
    while (this.pos < this.chars.length && /[A-Za-z0-9_]/.test(this.chars[this.pos])) name += this.chars[this.pos++];
    return name;
  }

  private dollar(): string {
    this.pos++;
    if (this.chars[this.pos] !== '{') {
      const name = this.name();
      if (name === '') return '$';
      return lookupEnv(this.env, name) ?? '';
    }
    this.pos++;
    const name = this.name();
    if (name === '') throw invalid('bad substitution');
    let ch = this.chars[this.pos++];
    if (ch === undefined) throw invalid("syntax error: missing '}'");
    if (ch === '}') return lookupEnv(this.env, name) ?? '';
    let colon = false;
    if (ch === ':') {
      colon = true;
      ch = this.chars[this.pos++];
    }
    if (ch !== '-' && ch !== '+' && ch !== '?') {
      throw invalid(`unsupported modifier (${ch ?? ''}) in substitution`);
    }
    let word = '';
    while (this.pos < this.chars.length && this.chars[this.pos] !== '}') word += this.unit((c) => c === '}');
    if (this.chars[this.pos] !== '}') throw invalid("syntax error: missing '}'");
    this.pos++;
    const value = lookupEnv(this.env, name);
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (ch === '-') return set ? value! : word;
    if (ch === '+') return set ? word : '';
    if (!set) throw invalid(`${name}: ${word || 'is not allowed to be unset'}`);
    return value!;
  }
}
