import { invalid } from '../util/errors.js';
import { goClean } from '../util/archive-path.js';
import { pathMatch } from '../image/path-match.js';

// .dockerignore: reading the file (moby/patternmatcher/ignorefile) and matching paths
// against its patterns (moby/patternmatcher) the way the docker CLI and dockerd do:
// `*` and `?` stay inside one path element, `**` crosses them, `[...]` are classes,
// `\` escapes, `!pat` re-includes, the last matching pattern wins, and a pattern that
// matches a directory matches everything under it.

export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern !== '') {
      pattern = goClean(pattern);
      // "/foo" and "foo" both mean foo at the root of the context.
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

class Pattern {
  readonly dirs: number; // path elements, to test a parent directory of the same depth
  private type: MatchType = 'exact';
  private re: RegExp | undefined;

  constructor(
    readonly cleaned: string,
    readonly exclusion: boolean,
  ) {
    this.dirs = cleaned.split('/').length;
    this.compile();
  }

  match(path: string): boolean {
    switch (this.type) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        // "**/foo" matches "foo" too.
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      case 'regexp':
        return this.re!.test(path);
    }
  }

  // The pattern as a regexp, unless a plain comparison does (exact, "dir/**", "**/name").
  private compile(): void {
    const chars = [...this.cleaned];
    let re = '^';
    let type: MatchType = 'exact';
    for (let i = 0, step = 0; i < chars.length; i++, step++) {
      const ch = chars[i];
      if (ch === '*') {
        if (chars[i + 1] === '*') {
          i++;
          if (chars[i + 1] === '/') i++; // "**/" is "**"
          if (i + 1 >= chars.length) {
            // A trailing "**" takes everything, as in .gitignore.
            if (type === 'exact') type = 'prefix';
            else {
              re += '.*';
              type = 'regexp';
            }
          } else {
            re += '(.*/)?';
            type = 'regexp';
          }
          // Leading "**": a suffix comparison, unless later wildcards make it a regexp.
          if (step === 0) type = 'suffix';
        } else {
          re += '[^/]*';
          type = 'regexp';
        }
      } else if (ch === '?') {
        re += '[^/]';
        type = 'regexp';
      } else if ('.+()|{}$'.includes(ch)) {
        re += `\\${ch}`;
      } else if (ch === '\\') {
        if (i + 1 < chars.length) {
          re += escapeLiteral(chars[++i]);
          type = 'regexp';
        } else {
          re += '\\\\';
        }
      } else if (ch === '[' || ch === ']') {
        re += ch;
        type = 'regexp';
      } else {
        re += ch;
      }
    }
    if (type === 'regexp') this.re = compileRegExp(`${re}$`);
    this.type = type;
  }
}

const escapeLiteral = (ch: string): string => (/[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch);

// Go's RE2 takes what the unicode mode of JS refuses (a lone "]", "\-" outside a
// class); such a pattern falls back to the legacy mode, which reads them as Go does.
function compileRegExp(source: string): RegExp {
  for (const flags of ['su', 's']) {
    try {
      return new RegExp(source, flags);
    } catch {
      // try the next mode
    }
  }
  throw invalid('syntax error in pattern');
}

// Per-pattern results for a directory, handed to its children (MatchInfo).
export type MatchInfo = readonly boolean[];

export class PatternMatcher {
  private readonly patterns: Pattern[] = [];
  readonly exclusions: boolean;

  constructor(patterns: readonly string[]) {
    let exclusions = false;
    for (const raw of patterns) {
      let p = raw.trim();
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw invalid('illegal exclusion pattern: "!"');
        exclusion = true;
        exclusions = true;
        p = p.slice(1);
      }
      pathMatch(p, '.'); // filepath.Match's syntax check: "syntax error in pattern"
      this.patterns.push(new Pattern(p, exclusion));
    }
    this.exclusions = exclusions;
  }

  // Exclusion patterns as written (without "!"), to tell whether an excluded directory
  // may still hold re-included files.
  exclusionPatterns(): string[] {
    return this.patterns.filter((p) => p.exclusion).map((p) => p.cleaned);
  }

  // patternmatcher.Matches (dockerd removing .dockerignore and the Dockerfile from the
  // context, the CLI keeping them): only the parent directory of the same depth as
  // each pattern is tested.
  matches(file: string): boolean {
    file = goClean(file);
    if (file === '.') return false;
    const parentDirs = parentPath(file)?.split('/');
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let match = p.match(file);
      if (!match && parentDirs && p.dirs <= parentDirs.length) match = p.match(parentDirs.slice(0, p.dirs).join('/'));
      if (match) matched = !p.exclusion;
    }
    return matched;
  }

  // MatchesOrParentMatches: a match on any parent directory counts.
  matchesOrParentMatches(file: string): boolean {
    file = goClean(file);
    if (file === '.') return false;
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      if (p.match(file) || this.parentMatches(p, file)) matched = !p.exclusion;
    }
    return matched;
  }

  // MatchesUsingParentResults, for a walk that visits a directory before its content.
  matchesUsingParentResults(file: string, parent?: MatchInfo): [boolean, MatchInfo] {
    let matched = false;
    const info: boolean[] = [];
    this.patterns.forEach((p, i) => {
      let match = parent?.[i] ?? false;
      if (!match) {
        if (p.exclusion !== matched) {
          info[i] = false;
          return;
        }
        match = p.match(file) || (parent === undefined && this.parentMatches(p, file));
      }
      info[i] = match;
      if (match) matched = !p.exclusion;
    });
    return [matched, info];
  }

  private parentMatches(p: Pattern, file: string): boolean {
    const parent = parentPath(file);
    if (parent === undefined) return false;
    const dirs = parent.split('/');
    for (let i = 1; i <= dirs.length; i++) if (p.match(dirs.slice(0, i).join('/'))) return true;
    return false;
  }
}

function parentPath(file: string): string | undefined {
  const slash = file.lastIndexOf('/');
  return slash <= 0 ? undefined : file.slice(0, slash);
}
