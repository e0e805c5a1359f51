import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerignore, PatternMatcher, type MatchInfo } from '../../src/build/dockerignore.js';
import { BerthError } from '../../src/util/errors.js';

test('parseDockerignore (moby/patternmatcher ignorefile cases)', () => {
  const text = '\uFEFFtest1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n  # not a comment\n! /inverted/abs/path\n!\n! \r\n./x/../y/\n';
  assert.deepEqual(parseDockerignore(text), ['test1', 'test2', 'a/file/here', 'lastfile', '# not a comment', '!inverted/abs/path', '!', '!', 'y']);
  assert.deepEqual(parseDockerignore(''), []);
});

// Single patterns against paths (patternmatcher_test.go's TestMatches table).
const single: Array<[string, string, boolean]> = [
  ['**', 'file', true],
  ['**', 'file/', true],
  ['**/', 'file', true],
  ['**', 'dir/file', true],
  ['**/**', 'dir/file', true],
  ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/dir2/file', true],
  ['**/dir', 'dir', true],
  ['**/dir', 'dir/file', true],
  ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**file', 'file', true],
  ['**file', 'dir/file', true],
  ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file.txt', true],
  ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true],
  ['**/**/*.txt2', 'dir/dir/file.txt', false],
  ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true],
  ['a**/*.txt', 'a/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true],
  ['a/*.txt', 'a/dir/file.txt', false],
  ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true],
  ['a[b-d]e', 'ae', false],
  ['a[b-d]e', 'ace', true],
  ['a[^b-d]e', 'aze', true],
  ['.*', '.foo', true],
  ['.*', 'foo', false],
  ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true],
  ['abc?def', 'abcZdef', true],
  ['abc?def', 'abcdef', false],
  ['a\\\\', 'a\\', true],
  ['a\\*b', 'a*b', true],
  ['**/foo/bar', 'foo/bar', true],
  ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false],
  ['abc/**', 'abc/def/ghi', true],
  ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false],
  ['a(b)c/def', 'a(b)c/def', true],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['docs', 'docs/README.md', true],
  ['*.go', 'pkg/x.go', false],
  ['*/*.go', 'pkg/x.go', true],
];

const multi: Array<[string[], string, boolean]> = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['docs', '!docs/README.md'], 'docs/README.md', false],
  [['docs/', '!docs/README.md'], 'docs/README.md', false],
  [['docs/*', '!docs/README.md'], 'docs/README.md', false],
  [['*.go', '!fileutils.go'], 'fileutils.go', false],
  [['!fileutils.go', '*.go'], 'fileutils.go', true],
  [['*'], '.', false],
];

// Walks down to `text` as the archiver does, each directory handing its results on.
function viaParents(pm: PatternMatcher, text: string): boolean {
  const parts = text.replace(/\/+$/, '').split('/');
  let info: MatchInfo | undefined;
  for (let i = 1; i < parts.length; i++) [, info] = pm.matchesUsingParentResults(parts.slice(0, i).join('/'), info);
  return pm.matchesUsingParentResults(parts.join('/'), info)[0];
}

test('matchesOrParentMatches and matchesUsingParentResults agree with patternmatcher', () => {
  const cases: Array<[string[], string, boolean]> = [...single.map(([p, t, want]): [string[], string, boolean] => [[p], t, want]), ...multi];
  for (const [patterns, text, want] of cases) {
    const pm = new PatternMatcher(patterns);
    const name = `${JSON.stringify(patterns)} ${text}`;
    assert.equal(pm.matchesOrParentMatches(text), want, `orParent ${name}`);
    if (text !== '.') {
      assert.equal(viaParents(pm, text), want, `parentResults ${name}`);
      assert.equal(pm.matchesUsingParentResults(text.replace(/\/+$/, ''))[0], want, `noContext ${name}`);
    }
  }
});

test('matches (the deprecated single-parent variant dockerd and the CLI use for Dockerfile/.dockerignore)', () => {
  const cases: Array<[string[], string, boolean]> = [
    [['*'], 'fileutils.go', true],
    [['a*'], 'ab/c', true],
    [['a*/b'], 'a/c/b', false],
    [['Dockerfile'], 'Dockerfile', true],
    [['*', '!Dockerfile'], 'Dockerfile', false],
    [['.dockerignore'], '.dockerignore', true],
    [['sub'], 'sub/Dockerfile', true],
    [['a'], 'x/a', false],
    [['*.go'], '.', false],
    [[], '/any/path/there', false],
  ];
  for (const [patterns, text, want] of cases) assert.equal(new PatternMatcher(patterns).matches(text), want, `${JSON.stringify(patterns)} ${text}`);
});

test('bad patterns', () => {
  for (const p of ['[', '[^', 'a[', '[]a]', '[x-]', '\\']) assert.throws(() => new PatternMatcher([p]), (e: unknown) => e instanceof BerthError && e.message === 'syntax error in pattern', p);
  assert.throws(() => new PatternMatcher(['!']), (e: unknown) => e instanceof BerthError && e.message === 'illegal exclusion pattern: "!"');
  const pm = new PatternMatcher(['  docs ', '', ' !docs/README.md ']);
  assert.equal(pm.exclusions, true);
  assert.deepEqual(pm.exclusionPatterns(), ['docs/README.md']);
});
