import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir } from 'node:fs/promises';
import { TestDaemon } from '../helpers/daemon.js';

// `commit` end to end, with the berth CLI and the docker CLI 28 against a real berthd.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

async function ok(cli: 'berth' | 'docker', args: string[]): Promise<string> {
  const r = await d.run(args, { cli });
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    out.push(`${prefix}${e.name}`);
    if (e.isDirectory()) out.push(...(await listTree(`${dir}/${e.name}`, `${prefix}${e.name}/`)));
  }
  return out;
}

const changes = ['CMD ["echo","hi"]', 'ENV A=1', 'EXPOSE 80', 'LABEL x=y', 'WORKDIR /w', 'USER nobody'];

test('commit with -m -a -c: the config, the history, a runnable image without the container\'s /etc files', async () => {
  for (const cli of ['berth', 'docker'] as const) {
    const name = `src-${cli}`;
    const image = `committed-${cli}:v1`;
    // Writes to /etc/hostname and /etc/hosts go to the container's own bind-mounted files.
    await ok('docker', ['run', '--name', name, '-e', 'FOO=bar', 'busybox', 'sh', '-c', 'echo data > /data.txt; rm /etc/shadow; echo evil > /etc/hostname; echo "1.2.3.4 evil" >> /etc/hosts']);
    const ctr = JSON.parse(await ok('docker', ['inspect', name]))[0];
    const out = await ok(cli, ['commit', '-m', 'my message', '-a', 'Me <me@example.com>', ...changes.flatMap((c) => ['-c', c]), name, image]);
    assert.match(out.trim(), /^sha256:[0-9a-f]{64}$/);

    const img = JSON.parse(await ok('docker', ['image', 'inspect', image]))[0];
    assert.deepEqual(img.Config.Cmd, ['echo', 'hi']);
    assert.ok(img.Config.Env.includes('A=1') && img.Config.Env.includes('FOO=bar'), img.Config.Env.join(' '));
    assert.deepEqual(img.Config.ExposedPorts, { '80/tcp': {} });
    assert.equal(img.Config.Labels.x, 'y');
    assert.equal(img.Config.WorkingDir, '/w');
    assert.equal(img.Config.User, 'nobody');
    assert.equal(img.Author, 'Me <me@example.com>');
    assert.equal(img.Comment, 'my message');
    assert.equal(img.Container, ctr.Id);
    assert.equal(img.Parent, ctr.Image);
    const base = JSON.parse(await ok('docker', ['image', 'inspect', 'busybox']))[0];
    assert.equal(img.RootFS.Layers.length, base.RootFS.Layers.length + 1);

    const history = (await ok(cli, ['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', image])).trim().split('\n');
    assert.equal(history[0], 'sh -c echo data > /data.txt; rm /etc/shadow; echo evil > /etc/hostname; echo "1.2.3.4 evil" >> /etc/hosts|my message');

    // The new layer holds the container's changes and nothing of its init layer.
    const upper: string = img.GraphDriver.Data.UpperDir;
    const layer = await listTree(upper);
    assert.ok(layer.includes('data.txt'), layer.join(' '));
    assert.ok((await lstat(`${upper}/etc/shadow`)).isCharacterDevice(), 'the deletion is a whiteout');
    for (const f of ['etc/hostname', 'etc/hosts', 'etc/resolv.conf', '.dockerenv']) assert.ok(!layer.includes(f), `${f} in the committed layer`);

    assert.equal(await ok(cli, ['run', '--rm', image]), 'hi\n');
    const inside = (await ok('docker', ['run', '--rm', image, 'sh', '-c', 'cat /data.txt; id -u; pwd; echo $A; cat /etc/hostname; grep -c evil /etc/hosts; ls /etc/shadow 2>&1; true'])).split('\n');
    assert.equal(inside[0], 'data');
    assert.equal(inside[1], '65534');
    assert.equal(inside[2], '/w');
    assert.equal(inside[3], '1');
    assert.notEqual(inside[4], ctr.Config.Hostname, 'the new container has its own hostname');
    assert.notEqual(inside[4], 'evil');
    assert.equal(inside[5], '0');
    assert.match(inside[6]!, /No such file or directory/);
  }
});

test('commit of a running container pauses it meanwhile and leaves it running; --pause=false does not', async () => {
  await ok('docker', ['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'echo up > /up.txt; exec sleep 600']);
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = (await ok('docker', ['commit', 'busy', 'busy-snap'])).trim();
  await ok('berth', ['commit', '--pause=false', 'busy', 'busy-snap:nopause']);
  const state = JSON.parse(await ok('docker', ['inspect', 'busy']))[0].State;
  assert.equal(state.Running, true);
  assert.equal(state.Paused, false);
  const actions = (await ok('docker', ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=busy', '--format', '{{.Action}} {{.Actor.Attributes.imageID}}']))
    .trim()
    .split('\n')
    .filter((a) => /^(pause|unpause|commit) /.test(a));
  assert.deepEqual(actions.map((a) => a.split(' ')[0]), ['pause', 'unpause', 'commit', 'commit']);
  assert.ok(actions[2]!.endsWith(id), actions.join('\n'));
  assert.equal(await ok('docker', ['run', '--rm', 'busy-snap', 'cat', '/up.txt']), 'up\n');
  await ok('docker', ['rm', '-f', 'busy']);
});

test('a container without changes commits to an empty history entry; bad requests fail as docker\'s', async () => {
  await ok('docker', ['create', '--name', 'untouched', 'busybox', 'true']);
  await ok('docker', ['commit', 'untouched', 'same-layers']);
  const img = JSON.parse(await ok('docker', ['image', 'inspect', 'same-layers']))[0];
  const base = JSON.parse(await ok('docker', ['image', 'inspect', 'busybox']))[0];
  assert.deepEqual(img.RootFS.Layers, base.RootFS.Layers);
  assert.equal((await ok('docker', ['history', '--format', '{{.CreatedBy}}|{{.Size}}', 'same-layers'])).split('\n')[0], 'true|0B');
  const untagged = (await ok('berth', ['commit', 'untouched'])).trim();
  assert.match(untagged, /^sha256:/);

  const cases: Array<[string[], RegExp]> = [
    [['commit', 'nosuch'], /No such container: nosuch/],
    [['commit', '-c', 'BOGUS x', 'untouched'], /bogus is not a valid change command/],
    [['commit', '-c', 'EXPOSE', 'untouched'], /EXPOSE requires at least one argument/],
  ];
  for (const cli of ['berth', 'docker'] as const) {
    for (const [args, re] of cases) {
      const r = await d.run(args, { cli });
      assert.equal(r.code, 1, `${cli} ${args.join(' ')}`);
      assert.match(r.stderr, re);
    }
  }
});
