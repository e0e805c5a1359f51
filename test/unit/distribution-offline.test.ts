import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offlineKind, withOfflineFallback } from '../../src/distribution/offline-images.js';
import { parseNormalizedNamed } from '../../src/image/reference.js';
import type { PullImageFn } from '../../src/distribution/pull-service.js';

const unreachable: PullImageFn = async () => {
  throw new Error('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host');
};

test('only the official images berth can make itself are made offline', () => {
  assert.equal(offlineKind(parseNormalizedNamed('busybox')), 'busybox');
  assert.equal(offlineKind(parseNormalizedNamed('docker.io/library/busybox:latest')), 'busybox');
  assert.equal(offlineKind(parseNormalizedNamed('registry')), 'registry');
  assert.equal(offlineKind(parseNormalizedNamed('registry:2')), 'registry');
  for (const other of ['busybox:1.36', 'ubuntu', 'me/busybox', '127.0.0.1:5000/busybox', `busybox@sha256:${'a'.repeat(64)}`]) {
    assert.equal(offlineKind(parseNormalizedNamed(other)), undefined, other);
  }
});

test('a failed pull of busybox or registry builds it; anything else keeps its error', async () => {
  const made: string[] = [];
  const pull = withOfflineFallback(unreachable, async (kind, tag, progress) => {
    progress(`making ${kind}`);
    made.push(tag);
    return `sha256:${'b'.repeat(64)}`;
  });
  const lines: string[] = [];
  const r = await pull('registry', { tag: '2' }, (m) => lines.push(String(m.status)));
  assert.deepEqual(made, ['registry:2']);
  assert.equal(r.imageId, `sha256:${'b'.repeat(64)}`);
  assert.match(lines[0]!, /^docker\.io is unreachable \(Get .*no such host\); building registry:2 offline instead$/);
  assert.deepEqual(lines.slice(1), ['making registry', 'Status: Built registry:2 offline']);
  await assert.rejects(pull('ubuntu', {}, () => {}), /no such host/);
  await assert.rejects(pull('busybox', { platform: 'linux/arm64' }, () => {}), /no such host/);
  assert.deepEqual(made, ['registry:2']);
  // A reachable registry is used as is.
  const ok = withOfflineFallback(async (image) => ({ ref: parseNormalizedNamed(image), imageId: 'sha256:c', downloaded: false }), async () => {
    throw new Error('not called');
  });
  assert.equal((await ok('busybox', {}, () => {})).imageId, 'sha256:c');
});
