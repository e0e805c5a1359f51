import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, parseInstruction } from '../../src/build/dockerfile-parser.js';
import { parseHeredoc, parseSyntax, parseWords } from '../../src/build/dockerfile-syntax.js';
import type { Instruction } from '../../src/build/dockerfile-ast.js';
import { BerthError } from '../../src/util/errors.js';
import { invalidMessage } from './build-errors.js';

const errorOf = invalidMessage;

// The first instruction after `FROM busybox` on line 1.
function inst(text: string): Instruction {
  return parseDockerfile(`FROM busybox\n${text}\n`).stages[0].instructions[0];
}

const noHeredocs = { json: false, heredocs: [] };

const instructions: Array<[string, string, Instruction]> = [
  ['RUN shell form keeps the text', 'RUN  echo "$HOME"   &&  ls', { kind: 'RUN', line: 2, original: 'RUN  echo "$HOME"   &&  ls', cmd: { ...noHeredocs, args: ['echo "$HOME"   &&  ls'] } }],
  ['RUN exec form', 'run ["echo", "a b"]', { kind: 'RUN', line: 2, original: 'run ["echo", "a b"]', cmd: { json: true, args: ['echo', 'a b'], heredocs: [] } }],
  ['RUN invalid JSON is shell form', "RUN ['echo', 'x']", { kind: 'RUN', line: 2, original: "RUN ['echo', 'x']", cmd: { ...noHeredocs, args: ["['echo', 'x']"] } }],
  ['RUN unterminated JSON is shell form', 'RUN [ "a"', { kind: 'RUN', line: 2, original: 'RUN [ "a"', cmd: { ...noHeredocs, args: ['[ "a"'] } }],
  ['RUN --network', 'RUN --network=none wget x', { kind: 'RUN', line: 2, original: 'RUN --network=none wget x', network: 'none', cmd: { ...noHeredocs, args: ['wget x'] } }],
  ['RUN without arguments', 'RUN', { kind: 'RUN', line: 2, original: 'RUN', cmd: { ...noHeredocs, args: [] } }],
  ['CMD exec form', 'CMD ["nginx", "-g", "daemon off;"]', { kind: 'CMD', line: 2, original: 'CMD ["nginx", "-g", "daemon off;"]', cmd: { json: true, args: ['nginx', '-g', 'daemon off;'], heredocs: [] } }],
  ['CMD empty JSON', 'CMD []', { kind: 'CMD', line: 2, original: 'CMD []', cmd: { json: true, args: [], heredocs: [] } }],
  ['ENTRYPOINT shell form', 'Entrypoint exec top -b', { kind: 'ENTRYPOINT', line: 2, original: 'Entrypoint exec top -b', cmd: { ...noHeredocs, args: ['exec top -b'] } }],
  ['SHELL', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', { kind: 'SHELL', line: 2, original: 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', shell: ['/bin/bash', '-o', 'pipefail', '-c'] }],
  ['ENV pairs keep quotes and $ for later', 'ENV A=1 B="two words" C=$A\\ x', { kind: 'ENV', line: 2, original: 'ENV A=1 B="two words" C=$A\\ x', pairs: [{ key: 'A', value: '1' }, { key: 'B', value: '"two words"' }, { key: 'C', value: '$A\\ x' }] }],
  ['ENV legacy form: the rest of the line', 'ENV GREETING hello  "big" world', { kind: 'ENV', line: 2, original: 'ENV GREETING hello  "big" world', pairs: [{ key: 'GREETING', value: 'hello  "big" world' }] }],
  ['LABEL', 'LABEL "com.example"="ACME Inc" version=1.0', { kind: 'LABEL', line: 2, original: 'LABEL "com.example"="ACME Inc" version=1.0', pairs: [{ key: '"com.example"', value: '"ACME Inc"' }, { key: 'version', value: '1.0' }] }],
  ['ARG with and without default', 'ARG A B=2 C="x y"', { kind: 'ARG', line: 2, original: 'ARG A B=2 C="x y"', args: [{ name: 'A' }, { name: 'B', default: '2' }, { name: 'C', default: '"x y"' }] }],
  ['EXPOSE sorts', 'EXPOSE 8080 443/udp 80', { kind: 'EXPOSE', line: 2, original: 'EXPOSE 8080 443/udp 80', ports: ['443/udp', '80', '8080'] }],
  ['VOLUME JSON', 'VOLUME ["/data", "/var/log x"]', { kind: 'VOLUME', line: 2, original: 'VOLUME ["/data", "/var/log x"]', paths: ['/data', '/var/log x'] }],
  ['VOLUME words', 'VOLUME /a   /b', { kind: 'VOLUME', line: 2, original: 'VOLUME /a   /b', paths: ['/a', '/b'] }],
  ['USER', 'USER nobody:nogroup', { kind: 'USER', line: 2, original: 'USER nobody:nogroup', value: 'nobody:nogroup' }],
  ['WORKDIR keeps spaces', 'WORKDIR /my app', { kind: 'WORKDIR', line: 2, original: 'WORKDIR /my app', value: '/my app' }],
  ['STOPSIGNAL', 'STOPSIGNAL SIGINT', { kind: 'STOPSIGNAL', line: 2, original: 'STOPSIGNAL SIGINT', value: 'SIGINT' }],
  ['MAINTAINER', 'MAINTAINER Jane Doe <jane@example.com>', { kind: 'MAINTAINER', line: 2, original: 'MAINTAINER Jane Doe <jane@example.com>', name: 'Jane Doe <jane@example.com>' }],
  [
    'COPY with flags',
    'COPY --from=build --chown=1:2 --chmod=644 --link a b* /dst/',
    { kind: 'COPY', line: 2, original: 'COPY --from=build --chown=1:2 --chmod=644 --link a b* /dst/', sources: ['a', 'b*'], dest: '/dst/', from: 'build', chown: '1:2', chmod: '644', link: true, heredocs: [] },
  ],
  ['COPY JSON form', 'COPY ["a b", "/c d/"]', { kind: 'COPY', line: 2, original: 'COPY ["a b", "/c d/"]', sources: ['a b'], dest: '/c d/', heredocs: [] }],
  [
    'ADD with flags',
    'ADD --keep-git-dir=true --checksum=sha256:abc --chown="a b" x.tar /',
    { kind: 'ADD', line: 2, original: 'ADD --keep-git-dir=true --checksum=sha256:abc --chown="a b" x.tar /', sources: ['x.tar'], dest: '/', chown: 'a b', keepGitDir: true, checksum: 'sha256:abc', heredocs: [] },
  ],
  [
    'HEALTHCHECK with flags',
    'HEALTHCHECK --interval=5s --timeout=1m30s --start-period=1.5s --start-interval=2ms --retries=3 CMD curl -f http://x/ || exit 1',
    {
      kind: 'HEALTHCHECK',
      line: 2,
      original: 'HEALTHCHECK --interval=5s --timeout=1m30s --start-period=1.5s --start-interval=2ms --retries=3 CMD curl -f http://x/ || exit 1',
      none: false,
      cmd: { ...noHeredocs, args: ['curl -f http://x/ || exit 1'] },
      intervalNs: 5e9,
      timeoutNs: 90e9,
      startPeriodNs: 1.5e9,
      startIntervalNs: 2e6,
      retries: 3,
    },
  ],
  [
    'HEALTHCHECK exec form',
    'HEALTHCHECK cmd ["true"]',
    { kind: 'HEALTHCHECK', line: 2, original: 'HEALTHCHECK cmd ["true"]', none: false, cmd: { json: true, args: ['true'], heredocs: [] }, intervalNs: 0, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 0 },
  ],
  ['HEALTHCHECK NONE', 'HEALTHCHECK NONE', { kind: 'HEALTHCHECK', line: 2, original: 'HEALTHCHECK NONE', none: true, intervalNs: 0, timeoutNs: 0, startPeriodNs: 0, startIntervalNs: 0, retries: 0 }],
  [
    'ONBUILD keeps the trigger text and parses it',
    'ONBUILD RUN echo "built on me"',
    { kind: 'ONBUILD', line: 2, original: 'ONBUILD RUN echo "built on me"', expression: 'RUN echo "built on me"', trigger: { kind: 'RUN', line: 2, original: 'RUN echo "built on me"', cmd: { ...noHeredocs, args: ['echo "built on me"'] } } },
  ],
  ['flags end at --', 'RUN -- --not-a-flag', { kind: 'RUN', line: 2, original: 'RUN -- --not-a-flag', cmd: { ...noHeredocs, args: ['--not-a-flag'] } }],
];

test('every instruction, in both forms where it has them', () => {
  for (const [name, text, want] of instructions) assert.deepEqual(inst(text), want, name);
});

test('stages, stage names, platforms and meta ARGs', () => {
  const df = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      'ARG BASE=busybox',
      'ARG TAG',
      'FROM --platform=linux/amd64 ${BASE}:$TAG AS Build',
      'RUN make',
      'from scratch',
      'COPY --from=build /out /',
    ].join('\n'),
  );
  assert.equal(df.escapeToken, '\\');
  assert.deepEqual(df.metaArgs, [
    { kind: 'ARG', line: 2, original: 'ARG BASE=busybox', args: [{ name: 'BASE', default: 'busybox' }] },
    { kind: 'ARG', line: 3, original: 'ARG TAG', args: [{ name: 'TAG' }] },
  ]);
  assert.equal(df.stages.length, 2);
  assert.deepEqual(df.stages[0].from, { kind: 'FROM', line: 4, original: 'FROM --platform=linux/amd64 ${BASE}:$TAG AS Build', image: '${BASE}:$TAG', stageName: 'build', platform: 'linux/amd64' });
  assert.deepEqual(df.stages[0].instructions.map((i) => i.kind), ['RUN']);
  assert.deepEqual(df.stages[1].from, { kind: 'FROM', line: 6, original: 'from scratch', image: 'scratch' });
  assert.equal(df.stages[1].instructions[0].line, 7);
  assert.equal(df.warnings, undefined);
});

test('comments, blank lines and continuations, with the first line numbered', () => {
  const df = parseDockerfile(
    [
      '',
      '# a comment',
      'FROM busybox',
      '',
      'RUN echo a \\',
      '  # a comment inside the continuation',
      '    b \\',
      '',
      '    c',
      '  ENV X=1 \\',
      '      Y=2',
      'RUN echo \\\\',
      'RUN echo # not a comment',
      'LABEL a=b \\',
    ].join('\r\n'),
  );
  const got = df.stages[0].instructions.map((i) => [i.line, i.original]);
  assert.deepEqual(got, [
    [5, 'RUN echo a     b     c'],
    [10, 'ENV X=1       Y=2'],
    [12, 'RUN echo \\\\'],
    [13, 'RUN echo # not a comment'],
    [14, 'LABEL a=b'],
  ]);
  assert.deepEqual(df.warnings, ['[WARNING]: Empty continuation line found in:\n    RUN echo a     b     c', '[WARNING]: Empty continuation lines will become errors in a future release.']);
});

test('parser directives: escape, syntax, only at the very top', () => {
  let df = parseDockerfile('\uFEFF# escape=`\n# syntax=x\nFROM busybox\nRUN dir c:\\ `\n  && echo hi\nCOPY a\\b c\n');
  assert.equal(df.escapeToken, '`');
  assert.deepEqual(df.stages[0].instructions.map((i) => i.original), ['RUN dir c:\\   && echo hi', 'COPY a\\b c']);
  // After any other line the directive is a plain comment.
  df = parseDockerfile('# hello\n# escape=`\nFROM busybox\nRUN a `\n');
  assert.equal(df.escapeToken, '\\');
  assert.equal(df.stages[0].instructions[0].original, 'RUN a `');
  df = parseDockerfile('\n# escape=`\nFROM busybox\n');
  assert.equal(df.escapeToken, '\\');
});

test('heredocs (buildkit parser_heredoc_test cases)', () => {
  const { nodes } = parseSyntax(
    [
      'FROM alpine:3.6',
      'RUN <<EMPTY',
      'EMPTY',
      'RUN 3<<EMPTY2',
      'EMPTY2',
      'RUN "<<NOHEREDOC"',
      'RUN <<INDENT',
      '\tfoo',
      '\tbar',
      'INDENT',
      'RUN <<-UNINDENT2',
      '\tbaz',
      '\tquux',
      '\tUNINDENT2',
      "RUN <<-'NOEXPAND'",
      "\tdon't expand $NAME",
      'NOEXPAND',
      'COPY <<FILE1 <<FILE2 /dest',
      'content 1',
      'FILE1',
      'content 2',
      'FILE2',
      'COPY <<X <<Y /dest',
      'Y',
      'X',
      'X',
      'Y',
      "RUN <<eo'f'",
      'echo foo',
      'eof',
      "RUN <<eo\\'f",
      'echo foo',
      "eo'f",
      "RUN <<'one two'",
      'echo bar',
      'one two',
      'RUN <<$EOF',
      '$EOF',
      'RUN <<  EOF  > foo',
      'EOF',
      'RUN ["<<EOF"]',
      'USER <<INVALID',
    ].join('\n'),
  );
  const docs = nodes.map((n) => n.heredocs.map((h) => [h.name, h.content, h.expand, h.chomp, h.fd]));
  assert.deepEqual(docs, [
    [],
    [['EMPTY', '', true, false, 0]],
    [['EMPTY2', '', true, false, 3]],
    [],
    [['INDENT', '\tfoo\n\tbar\n', true, false, 0]],
    [['UNINDENT2', '\tbaz\n\tquux\n', true, true, 0]],
    [['NOEXPAND', "\tdon't expand $NAME\n", false, true, 0]],
    [
      ['FILE1', 'content 1\n', true, false, 0],
      ['FILE2', 'content 2\n', true, false, 0],
    ],
    [
      ['X', 'Y\n', true, false, 0],
      ['Y', 'X\n', true, false, 0],
    ],
    [['eof', 'echo foo\n', false, false, 0]],
    [["eo'f", 'echo foo\n', true, false, 0]],
    [['one two', 'echo bar\n', false, false, 0]],
    [['$EOF', '', true, false, 0]],
    [['EOF', '', true, false, 0]],
    [],
    [],
  ]);
  assert.equal(nodes[nodes.length - 1].endLine, 42);
});

test('heredocs in typed instructions: RUN bodies, COPY sources, chomped tabs', () => {
  const df = parseDockerfile('FROM busybox\nRUN <<-EOF\n\techo $HOME\n\tEOF\nCOPY --chmod=755 <<"A" b <<C /dst/\n#!/bin/sh\nA\nc\nC\nRUN true\n');
  const [run, copy, last] = df.stages[0].instructions;
  assert.deepEqual(run, { kind: 'RUN', line: 2, original: 'RUN <<-EOF', cmd: { json: false, args: ['<<-EOF'], heredocs: [{ name: 'EOF', content: 'echo $HOME\n', expand: true, chomp: true }] } });
  assert.deepEqual(copy, {
    kind: 'COPY',
    line: 5,
    original: 'COPY --chmod=755 <<"A" b <<C /dst/',
    sources: ['A', 'b', 'C'],
    dest: '/dst/',
    chmod: '755',
    heredocs: [
      { name: 'A', content: '#!/bin/sh\n', expand: false, chomp: false },
      { name: 'C', content: 'c\n', expand: true, chomp: false },
    ],
  });
  assert.equal(last.line, 10);
  // ONBUILD stores the bodies with the expression so the trigger parses on its own.
  const onbuild = inst('ONBUILD RUN <<EOF\necho hi\nEOF');
  assert.equal(onbuild.kind, 'ONBUILD');
  if (onbuild.kind !== 'ONBUILD') return;
  assert.equal(onbuild.expression, 'RUN <<EOF\necho hi\nEOF');
  assert.deepEqual(parseInstruction(onbuild.expression), { ...onbuild.trigger, line: 1 });
});

test('parseHeredoc words', () => {
  for (const w of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) assert.equal(parseHeredoc(w)?.name, 'EOF', w);
  for (const w of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredoc(w), null, w);
  for (const w of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredoc(w), BerthError, w);
});

test('parseWords keeps quotes and escapes', () => {
  const cases: Array<[string, string[]]> = [
    ['foo', ['foo']],
    ['foo bar', ['foo', 'bar']],
    ['foo\\ bar', ['foo\\ bar']],
    ["foo bar 'abc xyz'", ['foo', 'bar', "'abc xyz'"]],
    ['föo bàr "âbc xÿz"', ['föo', 'bàr', '"âbc xÿz"']],
    ['a="" b', ['a=""', 'b']],
  ];
  for (const [input, want] of cases) assert.deepEqual(parseWords(input, '\\'), want, input);
});

test('parseInstruction parses one trigger', () => {
  assert.deepEqual(parseInstruction('COPY . /app'), { kind: 'COPY', line: 1, original: 'COPY . /app', sources: ['.'], dest: '/app', heredocs: [] });
  assert.equal(errorOf(() => parseInstruction('RUN a\nRUN b')), 'onbuild trigger should be a single expression');
  assert.equal(errorOf(() => parseInstruction('FROM x')), '*instructions.Stage is not a command type');
});

// Messages as dockerd 20.10's legacy builder sends them (checked against it).
const bad: Array<[string, string]> = [
  ['', 'the Dockerfile (Dockerfile) cannot be empty'],
  ['# only a comment\n\n', 'failed to parse Dockerfile: file with no instructions'],
  ['FROM busybox\nRUN true\n\n\nFOO bar\n', 'dockerfile parse error line 5: unknown instruction: FOO'],
  ['FROM busybox\nfoo bar\n', 'dockerfile parse error line 2: unknown instruction: FOO'],
  ['RUN true\nFROM busybox\n', 'no build stage in current context'],
  ['FROM busybox as 1x\n', 'dockerfile parse error line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols'],
  ['FROM\n', 'dockerfile parse error line 1: FROM requires either one or three arguments'],
  ['FROM busybox\nFROM a b\n', 'dockerfile parse error line 2: FROM requires either one or three arguments'],
  ['FROM busybox\nENV A\n', 'failed to parse Dockerfile: ENV must have two arguments'],
  ['FROM busybox\nENV\n', 'dockerfile parse error line 2: ENV requires at least one argument'],
  ['FROM busybox\nENV A=1 B\n', 'failed to parse Dockerfile: Syntax error - can\'t find = in "B". Must be of the form: name=value'],
  ['FROM busybox\nLABEL =x\n', 'dockerfile parse error line 2: LABEL names can not be blank'],
  ['FROM busybox\nARG =x\n', 'dockerfile parse error line 2: ARG names can not be blank'],
  ['FROM busybox\nCOPY x\n', 'dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
  ['FROM busybox\nADD x\n', 'dockerfile parse error line 2: ADD requires at least two arguments, but only one was provided. Destination could not be determined'],
  ['FROM busybox\nCOPY a <<EOF\nx\nEOF\n', 'dockerfile parse error line 2: COPY cannot accept a heredoc as a destination'],
  ['FROM busybox\nSHELL /bin/sh -c\n', 'dockerfile parse error line 2: SHELL requires the arguments to be in JSON form'],
  ['FROM busybox\nSHELL []\n', 'dockerfile parse error line 2: SHELL requires at least one argument'],
  ['FROM busybox\nCMD ["a", 1]\n', 'failed to parse Dockerfile: when using JSON array syntax, arrays must be comprised of strings only'],
  ['FROM busybox\nHEALTHCHECK --interval=1 CMD x\n', 'dockerfile parse error line 2: time: missing unit in duration "1"'],
  ['FROM busybox\nHEALTHCHECK --interval=1us CMD x\n', 'dockerfile parse error line 2: Interval "interval" cannot be less than 1ms'],
  ['FROM busybox\nHEALTHCHECK --retries=0 CMD x\n', 'dockerfile parse error line 2: --retries must be at least 1 (not 0)'],
  ['FROM busybox\nHEALTHCHECK --retries=x CMD x\n', 'dockerfile parse error line 2: strconv.ParseInt: parsing "x": invalid syntax'],
  ['FROM busybox\nHEALTHCHECK CMD\n', 'dockerfile parse error line 2: Missing command after HEALTHCHECK CMD'],
  ['FROM busybox\nHEALTHCHECK NONE x\n', 'dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments'],
  ['FROM busybox\nHEALTHCHECK RUN x\n', 'dockerfile parse error line 2: Unknown type "RUN" in HEALTHCHECK (try CMD)'],
  ['FROM busybox\nHEALTHCHECK\n', 'dockerfile parse error line 2: HEALTHCHECK requires at least one argument'],
  ['FROM busybox\nCOPY --foo=1 a b\n', 'dockerfile parse error line 2: Unknown flag: foo'],
  ['FROM busybox\nCOPY --from a b\n', 'dockerfile parse error line 2: Missing a value on flag: from'],
  ['FROM busybox\nCOPY --link=maybe a b\n', 'dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe'],
  ['FROM busybox\nCOPY --chown=a --chown=b a b\n', 'dockerfile parse error line 2: Duplicate flag specified: chown'],
  ['FROM busybox\nRUN --mount=type=cache true\n', 'dockerfile parse error line 2: Unknown flag: mount'],
  ['FROM busybox\nUSER\n', 'dockerfile parse error line 2: USER requires exactly one argument'],
  ['FROM busybox\nWORKDIR\n', 'dockerfile parse error line 2: WORKDIR requires exactly one argument'],
  ['FROM busybox\nMAINTAINER\n', 'dockerfile parse error line 2: MAINTAINER requires exactly one argument'],
  ['FROM busybox\nEXPOSE\n', 'dockerfile parse error line 2: EXPOSE requires at least one argument'],
  ['FROM busybox\nVOLUME\n', 'dockerfile parse error line 2: VOLUME requires at least one argument'],
  ['FROM busybox\nVOLUME [""]\n', 'dockerfile parse error line 2: VOLUME specified can not be an empty string'],
  ['FROM busybox\nARG\n', 'dockerfile parse error line 2: ARG requires at least one argument'],
  ['FROM busybox\nONBUILD\n', 'dockerfile parse error line 2: ONBUILD requires at least one argument'],
  ['FROM busybox\nONBUILD ONBUILD RUN x\n', 'dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
  ['FROM busybox\nONBUILD from x\n', 'dockerfile parse error line 2: FROM isn\'t allowed as an ONBUILD trigger'],
  ['FROM busybox\nRUN <<EOF\necho\n', 'failed to parse Dockerfile: unterminated heredoc'],
  ['# escape=x\nFROM busybox\n', "failed to parse Dockerfile: invalid escape token 'x' does not match ` or \\"],
  ['# escape=`\n# escape=\\\nFROM busybox\n', 'failed to parse Dockerfile: only one escape parser directive can be used'],
];

test('errors carry dockerd’s texts and line numbers', () => {
  for (const [text, msg] of bad) assert.equal(errorOf(() => parseDockerfile(text)), msg, JSON.stringify(text));
  assert.equal(errorOf(() => parseDockerfile('', 'Dockerfile.dev')), 'the Dockerfile (Dockerfile.dev) cannot be empty');
  assert.equal(errorOf(() => parseDockerfile('#x\n', '.dockerfile.0123')), 'failed to parse .dockerfile.0123: file with no instructions');
});
