import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeCreateConfig, mergeEnv, DEFAULT_PATH } from '../../src/container/create-config.js';

const id = 'a'.repeat(64);
const busybox = { Cmd: ['sh'], Env: ['PATH=/usr/bin:/bin'] };

test('image Cmd is used when none is given', () => {
  const m = mergeCreateConfig({ Image: 'busybox' }, 'busybox', busybox, id);
  assert.equal(m.Path, 'sh');
  assert.deepEqual(m.Args, []);
  assert.equal(m.Config.Hostname, id.slice(0, 12));
});

test('user Cmd replaces the image Cmd; entrypoint is kept', () => {
  const m = mergeCreateConfig({ Image: 'x', Cmd: ['echo', 'hi'] }, 'x', { Entrypoint: ['/init'], Cmd: ['run'] }, id);
  assert.equal(m.Path, '/init');
  assert.deepEqual(m.Args, ['echo', 'hi']);
});

test('a user entrypoint drops the image Cmd', () => {
  const m = mergeCreateConfig({ Image: 'x', Entrypoint: ['ls'] }, 'x', { Cmd: ['sh'] }, id);
  assert.equal(m.Path, 'ls');
  assert.deepEqual(m.Args, []);
  assert.equal(m.Config.Cmd, null);
});

test('--entrypoint "" clears the image entrypoint', () => {
  const m = mergeCreateConfig({ Image: 'x', Entrypoint: [''], Cmd: ['sh'] }, 'x', { Entrypoint: ['/init'] }, id);
  assert.equal(m.Path, 'sh');
  assert.equal(m.Config.Entrypoint, null);
});

test('no command at all is an error', () => {
  assert.throws(() => mergeCreateConfig({ Image: 'x' }, 'x', {}, id), /No command specified/);
});

test('relative working dir is refused', () => {
  assert.throws(() => mergeCreateConfig({ Image: 'x', WorkingDir: 'rel' }, 'x', busybox, id), /needs to be an absolute path/);
});

test('env merges by key and adds PATH when missing', () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['B=3', 'C']), ['A=1', 'B=3', 'C']);
  const m = mergeCreateConfig({ Image: 'x', Env: ['X=1'] }, 'x', { Cmd: ['sh'] }, id);
  assert.deepEqual(m.Config.Env, [DEFAULT_PATH, 'X=1']);
});

test('labels merge, user wins; host config gets Docker defaults', () => {
  const m = mergeCreateConfig({ Image: 'x', Labels: { a: 'u' }, HostConfig: { AutoRemove: true } }, 'x', { Cmd: ['sh'], Labels: { a: 'i', b: 'i' } }, id);
  assert.deepEqual(m.Config.Labels, { a: 'u', b: 'i' });
  assert.equal(m.HostConfig.AutoRemove, true);
  assert.deepEqual(m.HostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(m.HostConfig.ShmSize, 64 * 1024 * 1024);
});
