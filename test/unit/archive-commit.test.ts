import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childImageConfig, EMPTY_TAR_DIFF_ID, mergeCommitConfig, repoTagReference } from '../../src/container/commit.js';
import { refString } from '../../src/image/reference.js';
import type { ContainerRecord } from '../../src/container/types.js';
import type { ImageConfig } from '../../src/image/types.js';

// The pure parts of `docker commit` (moby daemon/commit.go merge, image.NewChildImage,
// httputils.RepoTagReference).

test('repoTagReference: none, default tag, explicit tag, digests refused, bad names', () => {
  assert.equal(repoTagReference('', 'x'), null);
  assert.equal(refString(repoTagReference('myimg', '')!), 'docker.io/library/myimg:latest');
  assert.equal(refString(repoTagReference('reg.io/a/b', 'v2')!), 'reg.io/a/b:v2');
  assert.throws(() => repoTagReference(`a@sha256:${'0'.repeat(64)}`, ''), /cannot import digest reference/);
  assert.throws(() => repoTagReference('Bad', ''), /must be lowercase/);
});

test('mergeCommitConfig: what the new config leaves empty comes from the container', () => {
  const container = {
    User: 'root',
    Env: ['PATH=/bin', 'A=0'],
    Cmd: ['sh'],
    Entrypoint: null,
    ExposedPorts: { '22/tcp': {} },
    Labels: { a: 'container', b: 'container' },
    WorkingDir: '/c',
    Volumes: { '/v': {} },
    StopSignal: 'SIGINT',
    Healthcheck: { Test: ['CMD', 'true'], Interval: 5, Retries: 3 },
  };
  const merged = mergeCommitConfig(
    { Env: ['A=1'], ExposedPorts: { '80/tcp': {} }, Labels: { a: 'new' }, Cmd: ['echo', 'hi'], Healthcheck: { Interval: 7 } },
    container,
  );
  assert.deepEqual(merged.Env, ['A=1', 'PATH=/bin']);
  assert.deepEqual(merged.ExposedPorts, { '80/tcp': {}, '22/tcp': {} });
  assert.deepEqual(merged.Labels, { a: 'new', b: 'container' });
  assert.deepEqual(merged.Cmd, ['echo', 'hi']);
  assert.equal(merged.User, 'root');
  assert.equal(merged.WorkingDir, '/c');
  assert.equal(merged.StopSignal, 'SIGINT');
  assert.deepEqual(merged.Healthcheck, { Test: ['CMD', 'true'], Interval: 7, Retries: 3 });
  // An entrypoint set by the changes keeps Cmd empty (ENTRYPOINT resets CMD).
  const ep = mergeCommitConfig({ Entrypoint: ['/bin/echo'], Cmd: null }, container);
  assert.deepEqual([ep.Entrypoint, ep.Cmd], [['/bin/echo'], null]);
  assert.deepEqual(mergeCommitConfig({}, container).Labels, container.Labels);
  assert.deepEqual(mergeCommitConfig({}, { ...container, Labels: undefined }).Labels, {});
});

const rec = { Id: 'c'.repeat(64), Config: { Cmd: ['sh', '-c', 'touch /a'], Hostname: 'cccccccccccc' } } as unknown as ContainerRecord;
const parent: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: ['sha256:' + '1'.repeat(64)] },
  history: [{ created: '2024-01-01T00:00:00Z', created_by: 'base' }],
};

test('childImageConfig: layer appended, history entry with the command, comment and author', () => {
  const layer = { chainId: 'sha256:' + '3'.repeat(64), diffId: 'sha256:' + '2'.repeat(64), parent: null, cacheId: 'x', size: 5 };
  const img = childImageConfig(parent, rec, { Cmd: ['echo', 'hi'] }, layer, { author: 'me', comment: 'msg' }, '2025-01-01T00:00:00Z');
  assert.deepEqual(img.rootfs.diff_ids, [...parent.rootfs.diff_ids!, layer.diffId]);
  assert.deepEqual(img.history!.at(-1), { created: '2025-01-01T00:00:00Z', author: 'me', created_by: 'sh -c touch /a', comment: 'msg' });
  assert.equal(img.author, 'me');
  assert.equal(img.container, rec.Id);
  assert.deepEqual(img.config!.Cmd, ['echo', 'hi']);
  assert.deepEqual(img.container_config!.Cmd, ['sh', '-c', 'touch /a']);
  assert.equal(img.architecture, 'amd64');
});

test('childImageConfig: an empty diff adds no layer and marks the history entry empty', () => {
  const layer = { chainId: 'sha256:' + '3'.repeat(64), diffId: EMPTY_TAR_DIFF_ID, parent: null, cacheId: 'x', size: 0 };
  const img = childImageConfig(parent, rec, {}, layer, { author: '', comment: '' }, '2025-01-01T00:00:00Z');
  assert.deepEqual(img.rootfs.diff_ids, parent.rootfs.diff_ids);
  assert.deepEqual(img.history!.at(-1), { created: '2025-01-01T00:00:00Z', created_by: 'sh -c touch /a', empty_layer: true });
  assert.equal('author' in img, false);
});
