import { invalid } from '../util/errors.js';
import { lex } from '../image/shell-words.js';

// The first half of the Dockerfile parser (buildkit's frontend/dockerfile/parser): text
// → one node per instruction, with its words split the way each instruction splits
// them, quotes and $VARs left as written. Parser directives, comments, line
// continuations (comments and blank lines allowed inside them) and heredocs are
// resolved here. Errors carry buildkit's texts; the caller adds "failed to parse
// Dockerfile: " as dockerd does for this stage.

export type EscapeToken = '\\' | '`';

export interface SyntaxHeredoc {
  name: string;
  content: string; // the body as written, each line with its line ending
  expand: boolean;
  chomp: boolean;
  fd: number;
}

export interface SyntaxNode {
  keyword: string; // as written ("run", "RUN")
  flags: string[]; // leading --flags, quotes removed
  rest: string; // the text after the flags, trimmed
  args: string[]; // the words the instruction's line parser made of `rest`
  json: boolean; // exec (JSON array) form
  original: string; // the logical line, continuations joined
  startLine: number;
  endLine: number;
  heredocs: SyntaxHeredoc[];
  child?: SyntaxNode; // ONBUILD's trigger
}

export interface SyntaxResult {
  escapeToken: EscapeToken;
  nodes: SyntaxNode[];
  // dockerd prints these to the build output (empty continuation lines).
  warnings: string[];
}

const RE_WHITESPACE = /[\t\v\f\r ]+/;
const RE_DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const RE_HEREDOC = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;
const DIRECTIVES = new Set(['syntax', 'escape', 'check']);
const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);

class Directives {
  escapeToken: EscapeToken = '\\';
  private continuation = continuationRegex('\\');
  private done = false;
  private readonly seen = new Set<string>();

  constructor(escapeToken: EscapeToken) {
    this.setEscapeToken(escapeToken);
  }

  private setEscapeToken(s: string): void {
    if (s !== '`' && s !== '\\') throw invalid(`invalid escape token '${s}' does not match \` or \\`);
    this.escapeToken = s;
    this.continuation = continuationRegex(s);
  }

  // `# escape=`` and friends count only before the first instruction, blank line or
  // other comment; `syntax` and `check` are accepted and ignored.
  check(line: string): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = RE_DIRECTIVE.exec(line.slice(1).replace(/^\s+/u, ''));
    const key = m?.[1].toLowerCase();
    if (!m || !key || !DIRECTIVES.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw invalid(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'escape') this.setEscapeToken(m[2]);
  }

  // The escape token as last non-blank character continues the line, unless escaped.
  trimContinuation(line: string): [string, boolean] {
    if (!this.continuation.test(line)) return [line, true];
    return [line.replace(this.continuation, '$1'), false];
  }
}

function continuationRegex(token: string): RegExp {
  const t = token === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${t}])${t}[ \\t]*$|^${t}[ \\t]*$`);
}

const trimNewline = (s: string): string => s.replace(/[\r\n]+$/, '');
const trimLeftSpace = (s: string): string => s.replace(/^\s+/u, '');
const isComment = (s: string): boolean => trimLeftSpace(s).startsWith('#');

// Lines with their endings, as buildkit's scanLines keeps them for heredoc bodies.
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function parseSyntax(text: string, escapeToken: EscapeToken = '\\'): SyntaxResult {
  const d = new Directives(escapeToken);
  const lines = splitLines(text);
  const nodes: SyntaxNode[] = [];
  const warnings: string[] = [];
  let next = 0;
  let currentLine = 0;

  const processLine = (raw: string, stripLeft: boolean): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    d.check(token);
    return isComment(token) ? '' : token;
  };

  while (next < lines.length) {
    let raw = lines[next++];
    if (currentLine === 0) raw = raw.replace(/^\uFEFF/, '');
    const first = processLine(raw, true);
    currentLine++;
    const startLine = currentLine;
    let [line, isEnd] = d.trimContinuation(first);
    if (isEnd && line === '') continue;

    let emptyContinuation = false;
    while (!isEnd && next < lines.length) {
      const rawCont = lines[next++];
      const cont = processLine(rawCont, false);
      currentLine++;
      if (isComment(rawCont)) continue;
      if (trimLeftSpace(cont) === '') {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, isEnd] = d.trimContinuation(cont);
      line += part;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);

    const node = nodeFromLine(line, d);
    if (canContainHeredoc(node) && line.includes('<<')) {
      for (const heredoc of heredocsFromLine(line)) {
        let terminated = false;
        let content = '';
        while (next < lines.length) {
          const body = lines[next++];
          currentLine++;
          let end = trimNewline(body);
          if (heredoc.chomp) end = end.replace(/^\t+/, '');
          if (end === heredoc.name) {
            terminated = true;
            break;
          }
          content += body;
        }
        if (!terminated) throw invalid('unterminated heredoc');
        node.heredocs.push({ ...heredoc, content });
      }
    }
    node.startLine = startLine;
    node.endLine = currentLine;
    nodes.push(node);
  }
  if (warnings.length > 0) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  if (nodes.length === 0) throw invalid('file with no instructions');
  return { escapeToken: d.escapeToken, nodes, warnings };
}

function nodeFromLine(line: string, d: Directives): SyntaxNode {
  const trimmed = line.trim();
  const m = RE_WHITESPACE.exec(trimmed);
  const keyword = m ? trimmed.slice(0, m.index) : trimmed;
  let flags: string[] = [];
  let rest = '';
  if (m) [rest, flags] = extractBuilderFlags(trimmed.slice(m.index + m[0].length), d.escapeToken);
  rest = rest.trim();
  const node: SyntaxNode = { keyword, flags, rest, args: [], json: false, original: line, startLine: 0, endLine: 0, heredocs: [] };
  switch (keyword.toLowerCase()) {
    case 'add':
    case 'copy':
    case 'volume':
      Object.assign(node, maybeJsonToList(rest));
      break;
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell':
      Object.assign(node, maybeJson(rest));
      break;
    case 'arg':
      node.args = parseWords(rest, d.escapeToken);
      break;
    case 'env':
      node.args = nameValues(rest, 'ENV', d.escapeToken);
      break;
    case 'label':
      node.args = nameValues(rest, 'LABEL', d.escapeToken);
      break;
    case 'expose':
    case 'from':
      node.args = whitespaceWords(rest);
      break;
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      node.args = rest === '' ? [] : [rest];
      break;
    case 'healthcheck':
      Object.assign(node, healthConfig(rest));
      break;
    case 'onbuild':
      if (rest !== '') {
        node.child = nodeFromLine(rest, d);
        node.args = [node.child.keyword, ...node.child.args];
      }
      break;
  }
  return node;
}

const whitespaceWords = (rest: string): string[] => (rest === '' ? [] : rest.split(RE_WHITESPACE));

class NotJsonArray extends Error {}

function parseJson(rest: string): string[] {
  const s = trimLeftSpace(rest);
  if (!s.startsWith('[')) throw new NotJsonArray();
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    throw new NotJsonArray();
  }
  if (!Array.isArray(v)) throw new NotJsonArray();
  if (!v.every((x) => typeof x === 'string')) {
    throw invalid('when using JSON array syntax, arrays must be comprised of strings only');
  }
  return v as string[];
}

// RUN/CMD/ENTRYPOINT/SHELL: a JSON array, else the whole text as one shell-form word.
// Text that only looks like JSON (unbalanced, single quotes) is shell form, as in Docker.
function maybeJson(rest: string): Pick<SyntaxNode, 'args' | 'json'> {
  if (rest === '') return { args: [], json: false };
  try {
    return { args: parseJson(rest), json: true };
  } catch (err) {
    if (!(err instanceof NotJsonArray)) throw err;
    return { args: [rest], json: false };
  }
}

// ADD/COPY/VOLUME: a JSON array, else whitespace-separated words.
function maybeJsonToList(rest: string): Pick<SyntaxNode, 'args' | 'json'> {
  try {
    return { args: parseJson(rest), json: true };
  } catch (err) {
    if (!(err instanceof NotJsonArray)) throw err;
    return { args: whitespaceWords(rest), json: false };
  }
}

// HEALTHCHECK: the type word (CMD/NONE), then CMD's argument in either form.
function healthConfig(rest: string): Pick<SyntaxNode, 'args' | 'json'> {
  const m = /\s/u.exec(rest);
  const sep = m ? m.index : rest.length;
  if (sep === 0) return { args: [], json: false };
  const cmd = maybeJson(trimLeftSpace(rest.slice(sep)));
  return { args: [rest.slice(0, sep), ...cmd.args], json: cmd.json };
}

// ENV/LABEL: `key value...` (legacy, one pair: the rest of the line) or `k=v k2="v 2"`.
// The result is buildkit's flat list of (key, value, "=" or "") triples.
function nameValues(rest: string, cmd: string, escape: EscapeToken): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const m = RE_WHITESPACE.exec(rest);
    if (!m) throw invalid(`${cmd} must have two arguments`);
    return [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''];
  }
  const out: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) throw invalid(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    out.push(word.slice(0, eq), word.slice(eq + 1), '=');
  }
  return out;
}

// Words separated by blanks outside quotes; quotes and escapes are kept for the
// expansion step (buildkit's parseWords).
export function parseWords(rest: string, escape: EscapeToken): string[] {
  const chars = [...rest];
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  let blankOk = false;
  const flush = (): void => {
    if (blankOk || word !== '') words.push(word);
    word = '';
    blankOk = false;
  };
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i];
    if (!inWord && !quote) {
      if (/\s/u.test(ch)) continue;
      inWord = true;
    }
    if (!quote) {
      if (/\s/u.test(ch)) {
        inWord = false;
        flush();
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      } else if (ch === escape) {
        if (i + 1 === chars.length) continue; // a trailing escape token is dropped
        word += ch;
        ch = chars[++i];
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      quote = '';
    } else if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      word += ch;
      ch = chars[++i];
    }
    word += ch;
  }
  if (inWord || quote) flush();
  return words;
}

// Leading `--name=value` words; quotes inside them are removed. A bare `--` ends them.
function extractBuilderFlags(line: string, escape: EscapeToken): [string, string[]] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let inWord = false;
  let blankOk = false;
  for (let pos = 0; pos < line.length; pos++) {
    let ch = line[pos];
    if (!inWord) {
      if (/\s/u.test(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') return [line.slice(pos), words];
      inWord = true;
    }
    if (!quote) {
      if (/\s/u.test(ch)) {
        inWord = false;
        if (word === '--') return [line.slice(pos), words];
        if (blankOk || word !== '') words.push(word);
        word = '';
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === line.length) continue;
        ch = line[++pos];
      }
      word += ch;
      continue;
    }
    if (ch === quote) {
      quote = '';
      continue;
    }
    if (ch === escape) {
      if (pos + 1 === line.length) {
        quote = '';
        continue;
      }
      ch = line[++pos];
    }
    word += ch;
  }
  if (inWord && word !== '--' && (blankOk || word !== '')) words.push(word);
  return ['', words];
}

function canContainHeredoc(node: SyntaxNode): boolean {
  const n = node.keyword.toLowerCase() === 'onbuild' && node.child ? node.child : node;
  return HEREDOC_KEYWORDS.has(n.keyword.toLowerCase()) && !n.json;
}

function heredocsFromLine(line: string): Array<Omit<SyntaxHeredoc, 'content'>> {
  let words: string[];
  try {
    words = lex(line, [], { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return []; // buildkit ignores a line its lexer cannot read here
  }
  const docs: Array<Omit<SyntaxHeredoc, 'content'>> = [];
  for (const word of words) {
    const doc = parseHeredoc(word);
    if (doc) docs.push(doc);
  }
  return docs;
}

// A `<<EOF`, `<<-EOF`, `<<"EOF"`, `2<<EOF` word, or null. A quoted delimiter (any part
// of it) turns expansion of the body off, as in sh.
export function parseHeredoc(word: string): Omit<SyntaxHeredoc, 'content'> | null {
  const m = RE_HEREDOC.exec(word);
  if (!m || m[3] === '') return null;
  const words = lex(m[3], [], { skipUnsetEnv: true }).words;
  if (words.length !== 1) return null;
  const raw = lex(m[3], [], { skipUnsetEnv: true, rawQuotes: true }).words;
  if (raw.length !== words.length) throw invalid(`internal lexing of heredoc produced inconsistent results: ${m[3]}`);
  const quotes = (s: string): number => s.replace(/[^'"]/g, '').length;
  return { name: words[0], expand: quotes(words[0]) === quotes(raw[0]), chomp: m[2] === '-', fd: Number(m[1] || '0') };
}

export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
