import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertsDirectory, containerAbsPath, goBase, goClean, preserveTrailingDotOrSeparator } from '../../src/container/archive-path.js';

// The cp path rules: what the daemon makes of the path a client sends (moby
// daemon/archive: PreserveTrailingDotOrSeparator(filepath.Join("/", path), path)).
test('containerAbsPath: absolute, cleaned, trailing "/" and "/." kept', () => {
  const cases: Array<[string, string]> = [
    ['/etc', '/etc'],
    ['etc', '/etc'],
    ['/etc/', '/etc/'],
    ['/etc/.', '/etc/.'],
    ['/etc//passwd', '/etc/passwd'],
    ['/', '/'],
    ['.', '/.'],
    ['./', '/./'], // as Go: both rules apply
    ['/tmp/x/../passwd', '/tmp/passwd'],
    ['../../etc/shadow', '/etc/shadow'],
    ['/..', '/'],
    ['/a/b/..', '/a'],
    ['/a/./b/.', '/a/b/.'],
  ];
  for (const [given, want] of cases) assert.equal(containerAbsPath(given), want, given);
});

test('goBase and goClean as Go filepath', () => {
  const bases: Array<[string, string]> = [['/etc/passwd', 'passwd'], ['/etc/', 'etc'], ['/etc/.', '.'], ['/', '/'], ['', '.'], ['//', '/'], ['a', 'a']];
  for (const [p, want] of bases) assert.equal(goBase(p), want, p);
  const cleans: Array<[string, string]> = [['', '.'], ['/a/b/', '/a/b'], ['a//b/./c/..', 'a/b'], ['/../x', '/x'], ['/', '/']];
  for (const [p, want] of cleans) assert.equal(goClean(p), want, p);
});

test('assertsDirectory and preserveTrailingDotOrSeparator', () => {
  assert.equal(assertsDirectory('/a/'), true);
  assert.equal(assertsDirectory('/a/.'), true);
  assert.equal(assertsDirectory('/a'), false);
  assert.equal(assertsDirectory('/a/..'), false);
  assert.equal(preserveTrailingDotOrSeparator('/a', '/a/.'), '/a/.');
  assert.equal(preserveTrailingDotOrSeparator('/', '/.'), '/.');
  assert.equal(preserveTrailingDotOrSeparator('/a', '/a/'), '/a/');
  assert.equal(preserveTrailingDotOrSeparator('/a/.', '/a/.'), '/a/.');
  assert.equal(preserveTrailingDotOrSeparator('/a', '/a'), '/a');
});
