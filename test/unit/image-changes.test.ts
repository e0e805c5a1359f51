import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, parseInstructions, portKeys } from '../../src/image/changes.js';
import { processWord, processWords } from '../../src/image/shell-words.js';
import type { ContainerConfig } from '../../src/image/types.js';
import { invalidMessage } from './build-errors.js';

const errorOf = invalidMessage;

const good: Array<[string, string[], ContainerConfig, ContainerConfig]> = [
  ['CMD exec form', ['CMD ["nginx", "-g", "daemon off;"]'], {}, { Cmd: ['nginx', '-g', 'daemon off;'] }],
  ['CMD shell form', ['CMD echo "hi there"'], {}, { Cmd: ['/bin/sh', '-c', 'echo "hi there"'] }],
  ['CMD shell form uses SHELL', ['cmd echo hi'], { Shell: ['/bin/bash', '-xc'] }, { Shell: ['/bin/bash', '-xc'], Cmd: ['/bin/bash', '-xc', 'echo hi'] }],
  ['ENTRYPOINT drops the image CMD', ['ENTRYPOINT ["top", "-b"]'], { Cmd: ['sh'] }, { Cmd: null, Entrypoint: ['top', '-b'] }],
  ['ENTRYPOINT keeps a CMD set before it', ['CMD ["-b"]', 'ENTRYPOINT ["top"]'], { Cmd: ['sh'] }, { Cmd: ['-b'], Entrypoint: ['top'] }],
  ['ENTRYPOINT [] clears', ['ENTRYPOINT []'], { Entrypoint: ['x'] }, { Entrypoint: null, Cmd: null }],
  // One ENV expands against the environment before it, as in a Dockerfile.
  ['ENV pairs, quotes and expansion', ['ENV A=1 B="two words" C=$A-', 'ENV D=${B:-x} E=${NOPE:-dflt} F=${A:+set} A=2'], {}, { Env: ['A=2', 'B=two words', 'C=-', 'D=two words', 'E=dflt', 'F=set'] }],
  ['ENV legacy form keeps the rest of the line', ['ENV GREETING hello  "big" world'], {}, { Env: ['GREETING=hello  big world'] }],
  ['ENV replaces an existing variable', ['ENV PATH=/opt/bin:$PATH'], { Env: ['PATH=/usr/bin', 'X=1'] }, { Env: ['PATH=/opt/bin:/usr/bin', 'X=1'] }],
  ['ENV escapes', ['ENV A=\\$HOME B=\'$literal\' C="a\\"b"'], {}, { Env: ['A=$HOME', 'B=$literal', 'C=a"b'] }],
  ['LABEL', ['LABEL "com.example.vendor"="ACME Inc" version=1.0', 'LABEL single value'], { Labels: { old: 'x' } }, { Labels: { old: 'x', 'com.example.vendor': 'ACME Inc', version: '1.0', single: 'value' } }],
  ['EXPOSE', ['EXPOSE 80 443/udp 8000-8002/TCP'], {}, { ExposedPorts: { '80/tcp': {}, '443/udp': {}, '8000/tcp': {}, '8001/tcp': {}, '8002/tcp': {} } }],
  ['EXPOSE expands variables into words', ['ENV PORTS="80 81"', 'EXPOSE $PORTS'], {}, { Env: ['PORTS=80 81'], ExposedPorts: { '80/tcp': {}, '81/tcp': {} } }],
  ['USER', ['USER nobody:nogroup'], {}, { User: 'nobody:nogroup' }],
  ['WORKDIR absolute then relative', ['WORKDIR /app', 'WORKDIR src/../lib'], {}, { WorkingDir: '/app/lib' }],
  ['WORKDIR with a variable', ['ENV D=/srv', 'WORKDIR $D/www'], {}, { Env: ['D=/srv'], WorkingDir: '/srv/www' }],
  ['VOLUME both forms', ['VOLUME ["/data", "/logs"]', 'VOLUME /a /b'], {}, { Volumes: { '/data': {}, '/logs': {}, '/a': {}, '/b': {} } }],
  ['ONBUILD keeps the trigger text', ['ONBUILD RUN echo "built on me"'], {}, { OnBuild: ['RUN echo "built on me"'] }],
  ['STOPSIGNAL', ['STOPSIGNAL SIGINT'], {}, { StopSignal: 'SIGINT' }],
  ['HEALTHCHECK shell form with flags', ['HEALTHCHECK --interval=5s --timeout=1m30s --start-period=1.5s --retries=3 CMD curl -f http://localhost/ || exit 1'], {}, { Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], Interval: 5e9, Timeout: 90e9, StartPeriod: 1.5e9, Retries: 3 } }],
  ['HEALTHCHECK exec form', ['HEALTHCHECK CMD ["true"]'], {}, { Healthcheck: { Test: ['CMD', 'true'] } }],
  ['HEALTHCHECK NONE', ['healthcheck none'], {}, { Healthcheck: { Test: ['NONE'] } }],
  ['comments, blank lines and continuations', ['# a comment', '', 'ENV A=1 \\', '  B=2'], {}, { Env: ['A=1', 'B=2'] }],
  ['no changes', [], { Cmd: ['sh'] }, { Cmd: ['sh'] }],
];

test('applyChanges applies the instructions docker import/commit -c accept', () => {
  for (const [name, changes, base, want] of good) {
    const before = JSON.stringify(base);
    assert.deepEqual(applyChanges(base, changes), want, name);
    assert.equal(JSON.stringify(base), before, `${name}: base not mutated`);
  }
});

const bad: Array<[string[], string]> = [
  [['RUN echo hi'], 'run is not a valid change command'],
  [['FROM busybox'], 'from is not a valid change command'],
  [['ENV A=1', 'COPY . /'], 'copy is not a valid change command'],
  [['MAINTAINER me'], 'maintainer is not a valid change command'],
  [['ENV'], 'ENV requires at least one argument'],
  [['ENV A'], 'ENV must have two arguments'],
  [['ENV A=1 B'], 'Syntax error - can\'t find = in "B". Must be of the form: name=value'],
  [['ENV =x'], 'ENV names can not be blank'],
  // dockerd names the word its lexer could not read.
  [['ENV A="open'], 'failed to process "\\"open": unexpected end of statement while looking for matching double-quote'],
  [['LABEL'], 'LABEL requires at least one argument'],
  [['EXPOSE'], 'EXPOSE requires at least one argument'],
  [['EXPOSE abc'], 'Invalid containerPort: abc'],
  [['EXPOSE 80/xyz'], 'Invalid proto: xyz'],
  [['EXPOSE 70000'], 'Invalid containerPort: 70000'],
  [['USER'], 'USER requires exactly one argument'],
  [['WORKDIR'], 'WORKDIR requires exactly one argument'],
  [['VOLUME'], 'VOLUME requires at least one argument'],
  [['VOLUME [""]'], 'VOLUME specified can not be an empty string'],
  [['CMD ["a", 1]'], 'when using JSON array syntax, arrays must be comprised of strings only'],
  [['ONBUILD'], 'ONBUILD requires at least one argument'],
  [['ONBUILD ONBUILD RUN x'], 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed'],
  [['ONBUILD FROM x'], 'FROM isn\'t allowed as an ONBUILD trigger'],
  [['STOPSIGNAL NOPE'], 'Invalid signal: NOPE'],
  [['HEALTHCHECK'], 'HEALTHCHECK requires at least one argument'],
  [['HEALTHCHECK CMD'], 'Missing command after HEALTHCHECK CMD'],
  [['HEALTHCHECK NONE x'], 'HEALTHCHECK NONE takes no arguments'],
  [['HEALTHCHECK RUN x'], 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
  [['HEALTHCHECK --foo=1 CMD x'], 'Unknown flag: foo'],
  [['HEALTHCHECK --interval=1us CMD x'], 'Interval "interval" cannot be less than 1ms'],
  [['HEALTHCHECK --interval=5 CMD x'], 'time: missing unit in duration "5"'],
  [['HEALTHCHECK --retries=0 CMD x'], '--retries must be at least 1 (not 0)'],
  [['ENV --foo=bar A=1'], 'Unknown flag: foo'],
];

test('applyChanges rejects with dockerd’s messages', () => {
  for (const [changes, msg] of bad) assert.equal(errorOf(() => applyChanges({}, changes)), msg, changes.join(' | '));
});

test('parseInstructions splits keyword, flags and arguments', () => {
  assert.deepEqual(parseInstructions('HEALTHCHECK --interval=5s   CMD  true\n#c\nenv A=1'), [
    { keyword: 'healthcheck', flags: ['--interval=5s'], rest: 'CMD  true', original: 'HEALTHCHECK --interval=5s   CMD  true' },
    { keyword: 'env', flags: [], rest: 'A=1', original: 'env A=1' },
  ]);
});

test('shell word processing', () => {
  const env = ['A=x', 'EMPTY='];
  const cases: Array<[string, string]> = [
    ['$A', 'x'],
    ['${A}y', 'xy'],
    ['$NOPE.', '.'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${NOPE-d}', 'd'],
    ['${A:+alt}', 'alt'],
    ['${EMPTY+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ["'$A'", '$A'],
    ['"$A"', 'x'],
    ['\\$A', '$A'],
    ['"a\\b"', 'a\\b'],
    ['$', '$'],
    ['a\\ b', 'a b'],
  ];
  for (const [word, want] of cases) assert.equal(processWord(word, env), want, word);
  assert.deepEqual(processWords('$A "b c" d', env), ['x', 'b c', 'd']);
  assert.equal(errorOf(() => processWord('${A', env)), "syntax error: missing '}'");
  assert.equal(errorOf(() => processWord('${A%x}', env)), 'unsupported modifier (%) in substitution');
  assert.equal(errorOf(() => processWord("'open", env)), 'unexpected end of statement while looking for matching single-quote');
});

test('portKeys', () => {
  assert.deepEqual(portKeys('53/udp'), ['53/udp']);
  assert.deepEqual(portKeys('127.0.0.1:8080:80'), ['80/tcp']);
  assert.deepEqual(portKeys('1-3/sctp'), ['1/sctp', '2/sctp', '3/sctp']);
});
