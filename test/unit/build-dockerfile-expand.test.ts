import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/build/dockerfile-parser.js';
import { expandInstruction } from '../../src/build/dockerfile-expand.js';
import type { FromInstruction, Instruction } from '../../src/build/dockerfile-ast.js';
import { lex } from '../../src/image/shell-words.js';
import { invalidMessage } from './build-errors.js';

const errorOf = invalidMessage;

// From buildkit's frontend/dockerfile/shell/envVarTest (Unix rows).
const ENV = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];
const words: Array<[string, string]> = [
  ['hello', 'hello'],
  ["he'll'o", 'hello'],
  ["he'llo", 'error'],
  ["he\\'llo", "he'llo"],
  ["he\\\\'llo", 'error'],
  ['abc\\tdef', 'abctdef'],
  ['"abc\\tdef"', 'abc\\tdef'],
  ['"abc\\\\tdef"', 'abc\\tdef'],
  ["'abc\\tdef'", 'abc\\tdef'],
  ['hello\\', 'hello'],
  ['hello\\\\', 'hello\\'],
  ['"hello', 'error'],
  ['"hello\\"', 'error'],
  ["'hello\\'", 'hello\\'],
  ['"\'\'"', "''"],
  ['$.', '$.'],
  ['he$1x', 'hex'],
  ['he$PWD', 'he/home'],
  ['he\\$PWD', 'he$PWD'],
  ['he\\\\$PWD', 'he\\/home'],
  ['"he\\$PWD"', 'he$PWD'],
  ['\\${}', '${}'],
  ['${}', 'error'],
  ['he${hi}xx', 'hexx'],
  ['he${.}', 'error'],
  ['he${XXX:-000}xx', 'he000xx'],
  ['he${PWD:-000}xx', 'he/homexx'],
  ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
  ['he${XXX:YYY}', 'error'],
  ['he${XXX?}', 'error'],
  ['he${PWD?}', 'he/home'],
  ['he${NULL?}', 'he'],
  ['he${NULL:?}', 'error'],
  ['he${NULL-x}', 'he'],
  ['he${NULL:-x}', 'hex'],
  ['he${NULL+x}', 'hex'],
  ['he${NULL:+x}', 'he'],
  ['he${XXX:+000}xx', 'hexx'],
  ['he${PWD:+${SHELL}}xx', 'hebashxx'],
  ["'he${XX}'", 'he${XX}'],
  ['"he\'$PWD\'"', "he'/home'"],
  ["'\\$PWD'", '\\$PWD'],
  ['he${PWD', 'error'],
  ['he${PWD:=000}xx', 'error'],
  ['he${XXX:-\\$PWD:}xx', 'he$PWD:xx'],
  ['안\'녕\'하세요', '안녕하세요'],
  ['$KOREAN', '한국어'],
];

test('word expansion (buildkit envVarTest)', () => {
  for (const [src, want] of words) {
    let got: string;
    try {
      got = lex(src, ENV).word;
    } catch {
      got = 'error';
    }
    assert.equal(got, want, src);
  }
});

test('word splitting after expansion (buildkit wordsTest)', () => {
  const env = ['space=abc  def', 'leading=  ab c', 'trailing=ab c   '];
  const cases: Array<[string, string[]]> = [
    ['hello${space}bye', ['helloabc', 'defbye']],
    ['hello"${space}"bye', ['helloabc  defbye']],
    ['hello${leading}def', ['hello', 'ab', 'cdef']],
    ['hello${trailing}d', ['helloab', 'c', 'd']],
    ['hello" there  "', ['hello there  ']],
    ['hello\\ there', ['hello there']],
    ['hello\\" there', ['hello"', 'there']],
    ['""', []],
  ];
  for (const [src, want] of cases) assert.deepEqual(lex(src, env).words, want, src);
  assert.equal(errorOf(() => lex('${A:?must be set}', [])), 'A: must be set');
  assert.equal(errorOf(() => lex('${A:?}', ['A='])), 'A: is not allowed to be empty');
  assert.equal(errorOf(() => lex('${A?}', [])), 'A: is not allowed to be unset');
});

function parsed(text: string): Instruction[] {
  return parseDockerfile(`FROM busybox\n${text}\n`).stages[0].instructions;
}

test('expandInstruction expands what the legacy builder expands', () => {
  const env = ['A=1', 'DIR=/srv', 'PORTS=80 443/udp', 'WHO=nobody', 'SIG=SIGTERM', 'EMPTY='];
  const cases: Array<[string, unknown]> = [
    ['ENV X=$A Y="${DIR}/x y" $A=z', { pairs: [{ key: 'X', value: '1' }, { key: 'Y', value: '/srv/x y' }, { key: '1', value: 'z' }] }],
    ["LABEL l='$A' m=\"$A\"", { pairs: [{ key: 'l', value: '$A' }, { key: 'm', value: '1' }] }],
    ['ARG X=$DIR Y', { args: [{ name: 'X', default: '/srv' }, { name: 'Y' }] }],
    ['EXPOSE $PORTS 8080', { ports: ['80', '443/udp', '8080'] }],
    ['USER $WHO:${A}', { value: 'nobody:1' }],
    ['WORKDIR ${DIR}/app', { value: '/srv/app' }],
    ['STOPSIGNAL $SIG', { value: 'SIGTERM' }],
    ['VOLUME ["$DIR/data", "/x"]', { paths: ['/srv/data', '/x'] }],
    ['COPY --chown=$WHO --chmod=$A $DIR/* "${DIR}x" /dst/$A/', { sources: ['/srv/*', '/srvx'], dest: '/dst/1/', chown: 'nobody', chmod: '1' }],
    ['ADD --chown=${WHO} a${EMPTY:-b} /', { sources: ['ab'], dest: '/', chown: 'nobody' }],
  ];
  for (const [text, want] of cases) {
    const [inst] = parsed(text);
    const out = expandInstruction(inst, env) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want as Record<string, unknown>)) assert.deepEqual(out[k], v, `${text}: ${k}`);
    assert.notEqual(out, inst, 'a copy');
  }
});

test('expandInstruction leaves RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD alone', () => {
  const env = ['A=1'];
  for (const inst of parsed('RUN echo $A\nCMD echo $A\nENTRYPOINT ["$A"]\nSHELL ["$A"]\nHEALTHCHECK CMD $A\nONBUILD ENV B=$A\nMAINTAINER $A')) {
    const out = expandInstruction(inst, env);
    assert.deepEqual(out, inst, inst.kind);
    assert.notEqual(out, inst);
  }
});

test('FROM expands with the meta ARGs; a blank result is refused', () => {
  const df = parseDockerfile('ARG IMG=busybox\nFROM --platform=$PLAT ${IMG}:${TAG:-latest} AS base\nFROM $NOPE\n');
  const [first, second] = df.stages.map((s) => s.from);
  assert.deepEqual(expandInstruction(first, ['IMG=busybox', 'PLAT=linux/amd64']), { ...first, image: 'busybox:latest', platform: 'linux/amd64' } satisfies FromInstruction);
  assert.equal(errorOf(() => expandInstruction(second, [])), 'base name ($NOPE) should not be blank');
});

test('heredoc bodies of COPY expand unless the delimiter was quoted; quotes are text there', () => {
  const [copy] = parsed('COPY <<A <<"B" /dst/\nhi $WHO "$WHO" \\$WHO\nA\nraw $WHO\nB');
  const out = expandInstruction(copy, ['WHO=me']);
  assert.equal(out.kind, 'COPY');
  if (out.kind !== 'COPY') return;
  assert.deepEqual(out.sources, ['A', 'B']);
  assert.deepEqual(
    out.heredocs.map((h) => h.content),
    ['hi me "me" $WHO\n', 'raw $WHO\n'],
  );
  const [run] = parsed('RUN <<EOF\necho $WHO\nEOF');
  assert.deepEqual(expandInstruction(run, ['WHO=me']), run);
});

test('the escape directive changes the escape token of expansion', () => {
  const df = parseDockerfile('# escape=`\nFROM busybox\nENV P=c:\\dir`$HOME Q=$HOME\n');
  const [env] = df.stages[0].instructions;
  assert.deepEqual(expandInstruction(env, ['HOME=/root'], df.escapeToken), { ...env, pairs: [{ key: 'P', value: 'c:\\dir$HOME' }, { key: 'Q', value: '/root' }] });
});

test('expansion errors name the word as dockerd does', () => {
  const [label] = parsed('LABEL a=${B:-x');
  assert.equal(errorOf(() => expandInstruction(label, [])), 'failed to process "${B:-x": syntax error: missing \'}\'');
  const [env] = parsed('ENV A="open');
  assert.equal(errorOf(() => expandInstruction(env, [])), 'failed to process "\\"open": unexpected end of statement while looking for matching double-quote');
  const [user] = parsed('USER ${U:?need a user}');
  assert.equal(errorOf(() => expandInstruction(user, [])), 'failed to process "${U:?need a user}": U: need a user');
});
