import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuildArgs } from '../../src/build/build-args.js';
import { childImageConfig } from '../../src/build/build-commit.js';
import { goJson, errorLine, BuildStepError } from '../../src/build/build-output.js';
import { StageResults, DispatchState } from '../../src/build/build-state.js';
import { sanitizeTags } from '../../src/build/builder.js';
import { commandFor } from '../../src/build/build-steps/run-step.js';
import { containsWildcards } from '../../src/build/build-steps/copy-sources.js';
import { filenameFor } from '../../src/build/remote-download.js';
import { normalizeDest, normalizeWorkdir, prependEnvOnCmd, resolveCmdLine, setEnv, stageRunConfig, withNopComment, withNopCommentString } from '../../src/build/run-config.js';
import { refString } from '../../src/image/reference.js';

// The legacy builder's small rules (moby builder/dockerfile): build args, the run config
// carried between steps, history entries, output framing, heredoc commands.

test('build args: the request wins, then the ARG default, then the meta arg; ENV hides them', () => {
  const args = new BuildArgs(new Map([['A', 'fromopt'], ['UNUSED', 'x'], ['HTTP_PROXY', 'http://p'], ['NOVAL', null]]));
  args.addMetaArg('M', 'meta');
  const stage = args.forStage();
  assert.deepEqual([...stage.allAllowed()].sort(), [['HTTP_PROXY', 'http://p']], 'only builtins before any ARG');
  stage.addArg('A', 'dflt');
  stage.addArg('B', 'bdflt');
  stage.addArg('M', null);
  stage.addArg('NOVAL', null);
  assert.deepEqual(Object.fromEntries(stage.allAllowed()), { A: 'fromopt', B: 'bdflt', M: 'meta', HTTP_PROXY: 'http://p' });
  assert.deepEqual(stage.filterAllowed(['B=env', 'PATH=/bin']).sort(), ['A=fromopt', 'HTTP_PROXY=http://p', 'M=meta']);
  args.mergeReferenced(stage);
  assert.deepEqual(args.unusedArgs(), ['UNUSED'], 'builtins and referenced args are never reported');
});

test('build args in the RUN cache key: counted, sorted, undeclared proxies left out', () => {
  const args = new BuildArgs(new Map([['HTTP_PROXY', 'p']]));
  args.addArg('Z', '1');
  args.addArg('A', '2');
  assert.deepEqual(prependEnvOnCmd(args, ['Z=1', 'HTTP_PROXY=p', 'A=2'], ['/bin/sh', '-c', 'true']), ['|2', 'A=2', 'Z=1', '/bin/sh', '-c', 'true']);
  args.addArg('HTTP_PROXY', null);
  assert.deepEqual(prependEnvOnCmd(args, ['HTTP_PROXY=p'], ['x']), ['|1', 'HTTP_PROXY=p', 'x']);
});

test('run config: nop comments, shells, stage defaults, ENV in place', () => {
  const c = { Env: ['A=1'], Shell: ['/bin/bash', '-c'] };
  assert.deepEqual(withNopComment(c, 'ENV A=1').Cmd, ['/bin/bash', '-c', '#(nop) ', 'ENV A=1']);
  assert.deepEqual(withNopCommentString({}, 'WORKDIR /a').Cmd, ['/bin/sh', '-c', '#(nop) WORKDIR /a']);
  assert.deepEqual(resolveCmdLine({}, ['echo hi'], false), ['/bin/sh', '-c', 'echo hi']);
  assert.deepEqual(resolveCmdLine(c, ['echo', 'hi'], true), ['echo', 'hi']);
  const s = stageRunConfig({ Env: ['X=1'], OpenStdin: true, StdinOnce: true, Cmd: ['sh'] });
  assert.deepEqual(s.Env, ['X=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  assert.equal(s.OpenStdin, false);
  assert.deepEqual(stageRunConfig({ Env: ['PATH=/x'] }).Env, ['PATH=/x']);
  assert.deepEqual(setEnv(['A=1', 'B=2'], 'A', '3'), ['A=3', 'B=2']);
  assert.deepEqual(setEnv(['A=1'], 'C', 'x=y'), ['A=1', 'C=x=y']);
});

test('WORKDIR and COPY destinations', () => {
  const workdirs: Array<[string, string, string]> = [
    ['', '/app', '/app'],
    ['/app', 'sub', '/app/sub'],
    ['/app', '../x/', '/x'],
    ['', '/a//b/./c/', '/a/b/c'],
    ['/', 'rel', '/rel'],
  ];
  for (const [cur, req, want] of workdirs) assert.equal(normalizeWorkdir(cur, req), want, `${cur} + ${req}`);
  assert.throws(() => normalizeWorkdir('/', ''), /cannot normalize nothing/);
  const dests: Array<[string, string, string]> = [
    ['/app', '.', '/app'],
    ['/app', './', '/app/'],
    ['/app', 'x/', '/app/x/'],
    ['', 'file', '/file'],
    ['/app', '/abs', '/abs'],
    ['/app', '/abs/', '/abs/'],
  ];
  for (const [wd, req, want] of dests) assert.equal(normalizeDest(wd, req), want, `${wd} + ${req}`);
});

test('a step image: parent layers plus its own, history, empty layers', () => {
  const parent = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: ['sha256:a'] },
    history: [{ created: '2020-01-01T00:00:00Z', created_by: 'base' }],
  };
  const cfg = { Env: ['A=1'] };
  const probe = withNopComment(cfg, 'ENV A=1');
  const empty = childImageConfig({ parent, config: cfg, containerConfig: probe, diffId: null, author: 'me', created: 'T' });
  assert.deepEqual(empty.rootfs.diff_ids, ['sha256:a']);
  assert.deepEqual(empty.history?.[1], { created: 'T', author: 'me', created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true });
  assert.equal(empty.author, 'me');
  assert.equal(empty.container, undefined);
  const run = childImageConfig({ parent, config: cfg, containerConfig: { Cmd: ['/bin/sh', '-c', 'echo hi'] }, diffId: 'sha256:b', author: '', containerId: 'c1', created: 'T' });
  assert.deepEqual(run.rootfs.diff_ids, ['sha256:a', 'sha256:b']);
  assert.deepEqual(run.history?.[1], { created: 'T', created_by: '/bin/sh -c echo hi' });
  assert.equal(run.container, 'c1');
  assert.equal(run.config?.Env?.[0], 'A=1');
  const scratch = childImageConfig({ parent: null, config: {}, containerConfig: { Cmd: ['x'] }, diffId: 'sha256:c', author: '' });
  assert.deepEqual(scratch.rootfs.diff_ids, ['sha256:c']);
  assert.equal(scratch.os, 'linux');
  assert.ok(scratch.architecture);
});

test('output: Go JSON escaping, errors with and without a code', () => {
  assert.equal(goJson({ stream: ' ---> a & <b>\n' }), '{"stream":" ---\\u003e a \\u0026 \\u003cb\\u003e\\n"}');
  assert.equal(errorLine(new BuildStepError('The command \'x\' returned a non-zero code: 3', 3)), '{"errorDetail":{"code":3,"message":"The command \'x\' returned a non-zero code: 3"},"error":"The command \'x\' returned a non-zero code: 3"}\r\n');
  assert.equal(errorLine(new Error('boom')), '{"errorDetail":{"message":"boom"},"error":"boom"}\r\n');
});

test('stages by name (any case) and by index', () => {
  const r = new StageResults();
  r.commit('build', { Image: 'sha256:1' });
  r.commit('', { Image: 'sha256:2' });
  assert.equal(r.get('BUILD')?.Image, 'sha256:1');
  assert.equal(r.get('1')?.Image, 'sha256:2');
  assert.equal(r.get('busybox'), undefined);
  assert.throws(() => r.get('2'), /refers to current build stage/);
  assert.throws(() => r.get('7'), /index out of bounds/);
  assert.throws(() => r.get('-1'), /index out of bounds/);
  assert.throws(() => r.checkNameAvailable('Build'), /Build stage name already used/);
  const s = new DispatchState(new BuildArgs(new Map()));
  s.beginStage('x', null);
  assert.ok(s.hasFromImage(), 'scratch counts as a FROM');
});

test('tags: normalised, deduplicated, digests refused', () => {
  assert.deepEqual(sanitizeTags(['a', 'a:latest', '', 'b:1', 'localhost:5000/c']).map(refString), [
    'docker.io/library/a:latest',
    'docker.io/library/b:1',
    'localhost:5000/c:latest',
  ]);
  assert.throws(() => sanitizeTags(['a@sha256:' + '0'.repeat(64)]), /build tag cannot contain a digest/);
  assert.throws(() => sanitizeTags(['UPPER']), /must be lowercase/);
});

test('RUN heredocs: a lone body runs through the shell, #! as a script, others go back on the line', () => {
  const doc = (name: string, content: string) => ({ name, content, expand: true, chomp: false });
  assert.deepEqual(commandFor({}, { json: false, args: ['<<EOF'], heredocs: [doc('EOF', 'echo a\necho b\n')] }), { cmd: ['/bin/sh', '-c', 'echo a\necho b\n'] });
  assert.deepEqual(commandFor({}, { json: false, args: ["<<'EOF'"], heredocs: [doc('EOF', '#!/bin/sh\necho x\n')] }), {
    cmd: ['/dev/pipes/EOF'],
    script: { name: 'EOF', content: '#!/bin/sh\necho x\n' },
  });
  assert.deepEqual(commandFor({}, { json: false, args: ['<<EOF python3'], heredocs: [doc('EOF', 'print(1)\n')] }), { cmd: ['/bin/sh', '-c', '<<EOF python3\nprint(1)\nEOF'] });
  assert.deepEqual(commandFor({}, { json: true, args: ['echo', 'x'], heredocs: [] }), { cmd: ['echo', 'x'] });
});

test('wildcards and download names', () => {
  for (const [p, want] of [['*.txt', true], ['a?c', true], ['[ab]', true], ['plain/file', false], ['esc\\*aped', false]] as const) {
    assert.equal(containsWildcards(p), want, p);
  }
  assert.equal(filenameFor('/files/app.tar.gz', undefined), 'app.tar.gz');
  assert.equal(filenameFor('/dir/', 'attachment; filename="x.bin"'), 'x.bin');
  assert.equal(filenameFor('/', undefined), '');
  assert.equal(filenameFor('/a%20b', undefined), 'a b');
});
