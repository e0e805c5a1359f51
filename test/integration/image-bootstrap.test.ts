import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventBus } from '../../src/daemon/events.js';
import { ImageService } from '../../src/image/image-service.js';
import { Overlay2Store } from '../../src/storage/overlay2.js';

// Needs root (overlay mounts, chroot) and Debian's busybox-static.
const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root' : !existsSync('/bin/busybox') ? 'needs busybox-static' : false;

async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && p.startsWith(`${dir}/`));
}

async function engine(t: { after: (fn: () => Promise<void>) => void }): Promise<{ svc: ImageService; layers: Overlay2Store; root: string }> {
  // Under /var/tmp: overlayfs needs a real filesystem for its upper and work dirs.
  const root = await mkdtemp('/var/tmp/berth-image-it-');
  t.after(async () => {
    assert.deepEqual(await mountsUnder(root), [], `mounts left under ${root}`);
    await rm(root, { recursive: true, force: true });
  });
  const layers = new Overlay2Store(root);
  await layers.init();
  const svc = new ImageService({
    dataRoot: root,
    layers,
    events: new EventBus(),
    containersUsing: async () => [],
    layersInUse: async () => new Set(),
  });
  await svc.init();
  return { svc, layers, root };
}

test('busybox bootstraps to the same image ID every time, and its rootfs works', { skip }, async (t) => {
  const a = await engine(t);
  const b = await engine(t);
  const progress: string[] = [];
  const idA = await a.svc.bootstrap('busybox', {}, (l) => progress.push(l));
  const idB = await b.svc.bootstrap('busybox', {}, () => {});
  assert.equal(idA, idB, 'same busybox package, same image ID on another data root');
  assert.equal(await a.svc.bootstrap('busybox', {}, () => {}), idA, 'and again on the same one');
  assert.ok(progress.some((l) => /busybox/i.test(l)));

  const ins = await a.svc.inspect('busybox');
  assert.deepEqual(ins.RepoTags, ['busybox:latest']);
  assert.deepEqual(ins.Config?.Cmd, ['sh']);
  assert.deepEqual(ins.Config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const mtime = Math.floor((await stat('/bin/busybox')).mtimeMs / 1000);
  assert.equal(ins.Created, new Date(mtime * 1000).toISOString().replace('.000Z', 'Z'));
  assert.equal(ins.RootFS.Layers?.length, 1);
  assert.ok(ins.Size > 1_000_000, 'the busybox binary is in the layer');
  const [hist] = await a.svc.history('busybox:latest');
  assert.match(hist.CreatedBy, /^BusyBox \d+\.\d+\.\d+ .*busybox-static$/);

  const { topChainId } = await a.svc.resolveForRun('busybox');
  await a.layers.createRw('bbtest', topChainId);
  try {
    const merged = await a.layers.mountRw('bbtest');
    const sh = await stat(join(merged, 'bin/sh'));
    assert.equal(sh.ino, (await stat(join(merged, 'bin/busybox'))).ino, 'applets are hardlinks');
    assert.ok(sh.nlink > 200);
    assert.equal((await stat(join(merged, 'tmp'))).mode & 0o7777, 0o1777);
    assert.equal((await stat(join(merged, 'root'))).mode & 0o7777, 0o700);
    assert.equal((await stat(join(merged, 'home'))).uid, 65534);
    assert.equal((await stat(join(merged, 'etc/shadow'))).mode & 0o777, 0o600);
    assert.match(await readFile(join(merged, 'etc/passwd'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh\n[\s\S]*nobody:x:65534:65534:nobody:\/home:\/bin\/false\n$/);
    assert.match(await readFile(join(merged, 'etc/shadow'), 'utf8'), /^root:\*:/);
    const { stdout } = await run('chroot', [merged, '/bin/sh', '-c', 'echo ok; id -un; id -gn nobody; ls /usr/bin/env /sbin/ifconfig']);
    assert.equal(stdout, 'ok\nroot\nnobody\n/sbin/ifconfig\n/usr/bin/env\n');
  } finally {
    await a.layers.removeRw('bbtest');
  }
});

test('debian via debootstrap from this machine’s mirror (BERTH_TEST_DEBOOTSTRAP=1)', {
  skip: process.env.BERTH_TEST_DEBOOTSTRAP !== '1' ? 'set BERTH_TEST_DEBOOTSTRAP=1 (takes minutes, needs the Debian mirror)' : skip,
  timeout: 30 * 60_000,
}, async (t) => {
  const e = await engine(t);
  const lines: string[] = [];
  const id = await e.svc.bootstrap('debian', { suite: 'bookworm' }, (l) => lines.push(l));
  assert.ok(lines.some((l) => /^I: Base system installed successfully/.test(l)), lines.slice(-5).join('\n'));
  const ins = await e.svc.inspect('debian:bookworm');
  assert.equal(ins.Id, id);
  assert.deepEqual(ins.Config?.Cmd, ['bash']);
  const { topChainId } = await e.svc.resolveForRun('debian:bookworm');
  await e.layers.createRw('debtest', topChainId);
  try {
    const merged = await e.layers.mountRw('debtest');
    const script = 'cat /etc/debian_version; ls /var/lib/apt/lists | grep -c _ || true; ls /dev | wc -l';
    const { stdout } = await run('chroot', [merged, '/bin/bash', '-c', script]);
    const [version, lists] = stdout.trim().split('\n');
    assert.match(version, /^12(\.\d+)?$/);
    assert.equal(lists, '0', 'apt lists trimmed like the official image');
    // Nothing of the host in the image layer itself (the container's init layer adds its own).
    const upper = ins.GraphDriver.Data?.UpperDir;
    assert.ok(upper);
    assert.deepEqual(await readdir(join(upper, 'dev')), []);
    for (const f of ['etc/resolv.conf', 'etc/hostname']) assert.equal(existsSync(join(upper, f)), false, f);
  } finally {
    await e.layers.removeRw('debtest');
  }
  assert.deepEqual(await readdir(join(e.root, 'tmp')), [], 'the debootstrap tree is gone');
});
