import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestDaemon, type RunResult } from '../helpers/daemon.js';

// The command lines of the tutorial's sections 镜像管理, 容器管理 and docker容器镜像制作,
// typed as the user would, through berth and through the real docker CLI.
let d: TestDaemon;
let tmp: string;
before(async () => {
  d = await TestDaemon.start();
  tmp = await mkdtemp('/tmp/berth-seed-');
  assert.equal((await d.run(['image', 'bootstrap', 'busybox'])).code, 0);
});
after(async () => {
  await d?.cleanup();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

for (const cli of ['berth', 'docker'] as const) {
  const x = (args: string[], input?: string): Promise<RunResult> => d.run(args, { cli, input });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await x(args, input);
    assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  test(`${cli}: container management lines of the tutorial`, async () => {
    const name = `mytest-${cli}`;
    await ok(['create', '-it', '--name', `created-${cli}`, 'busybox', '/bin/sh']);
    await ok(['run', '-it', '-d', '--name', name, 'busybox', '/bin/sh', '-c', 'while true; do echo hello world; sleep 0.2; done']);
    const logs = await ok(['logs', '--tail', '1', '-t', name]);
    assert.match(logs, /^\S+Z hello world\r?\n$|^$/); // -t: the tty turns \n into \r\n
    const short = (await ok(['ps', '-q', '-f', `name=${name}`])).trim();
    assert.match(short, /^[0-9a-f]{12}$/);
    assert.equal((await ok(['inspect', '--format', '{{.Name}}', short.slice(0, 3)])).trim(), `/${name}`);
    assert.equal(await ok(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', name]).then((s) => typeof s), 'string');
    await ok(['exec', name, 'touch', '/testfile']);
    assert.match(await ok(['diff', name]), /A \/testfile/);
    const top = await ok(['top', name]);
    assert.match(top, /PID/);
    await ok(['pause', name]);
    assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', name])).trim(), 'paused');
    await ok(['unpause', name]);
    await ok(['rename', name, `${name}-2`]);
    await ok(['restart', '-t', '1', `${name}-2`]);
    assert.equal((await ok(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', `${name}-2`])).trim(), 'true 0');
    await ok(['cp', join('/etc', 'hostname'), `${name}-2:/tmp/`]);
    await ok(['cp', `${name}-2:/testfile`, join(tmp, `testfile-${cli}`)]);
    assert.equal(await readFile(join(tmp, `testfile-${cli}`), 'utf8'), '');
    await ok(['kill', `${name}-2`]);
    assert.equal((await ok(['wait', `${name}-2`])).trim(), '137');
    await ok(['start', `created-${cli}`]);
    await ok(['stop', '-t', '1', `created-${cli}`]);
    const exited = (await ok(['ps', '-qf', 'status=exited'])).trim().split('\n');
    assert.ok(exited.length >= 2);
    await ok(['rm', ...exited]);
    assert.equal((await ok(['ps', '-a', '-q'])).trim(), '');
  });

  test(`${cli}: the tutorial's inspect templates, port and diff, verbatim`, async () => {
    const c = `ports-${cli}`;
    await ok(['run', '-d', '--name', c, '-p', '22', 'busybox', 'sleep', '300']);
    const hostPort = (await ok(['inspect', '--format={{(index (index .NetworkSettings.Ports "22/tcp") 0).HostPort}}', c])).trim();
    assert.match(hostPort, /^\d+$/);
    assert.equal(await ok(['inspect', "--format='{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}'", c]), `' 22/tcp -> ${hostPort} '\n`);
    assert.equal(await ok(['inspect', '--format={{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort}} {{end}}', c]), ` 22/tcp -> ${hostPort} \n`);
    assert.match(await ok(['port', c]), new RegExp(`^22/tcp -> 0\\.0\\.0\\.0:${hostPort}\n`));
    // The tutorial's `docker diff` after touching a file and editing /etc/passwd: the
    // directory of a changed file is listed too ("C /etc").
    await ok(['exec', c, 'sh', '-c', 'touch /a.txt; echo x >> /etc/passwd; mkdir -p /run/secrets']);
    assert.equal(await ok(['diff', c]), 'A /a.txt\nC /etc\nC /etc/passwd\nA /run\nA /run/secrets\n');
    await ok(['rm', '-f', c]);
  });

  test(`${cli}: image-making lines of the tutorial`, async () => {
    const c = `maker-${cli}`;
    await ok(['run', '--name', c, 'busybox', 'sh', '-c', 'echo made > /made.txt']);
    const exportTar = join(tmp, `export-${cli}.tar`);
    await ok(['export', '-o', exportTar, c]);
    const impId = (await ok(['import', exportTar, `imported-${cli}:v1`])).trim();
    assert.match(impId, /^sha256:[0-9a-f]{64}$/);
    const commitId = (await ok(['commit', '-m', 'my images version1', '-a', 'wing', c, `committed-${cli}:v2`])).trim();
    assert.match(commitId, /^sha256:[0-9a-f]{64}$/);
    assert.match(await ok(['history', `committed-${cli}:v2`]), /my images version1/);
    assert.equal(await ok(['run', '--rm', `committed-${cli}:v2`, 'cat', '/made.txt']), 'made\n');
    await ok(['tag', commitId.slice(7, 19), `mycentos-${cli}:7`]);
    const saved = join(tmp, `saved-${cli}.tar`);
    await ok(['save', '-o', saved, `mycentos-${cli}:7`]);
    await ok(['rmi', `mycentos-${cli}:7`, `committed-${cli}:v2`]);
    const loaded = await x(['load'], undefined);
    assert.notEqual(loaded.code, 0); // nothing on stdin
    const load = await d.run(['load', '-i', saved], { cli });
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, new RegExp(`Loaded image: mycentos-${cli}:7`));
    assert.equal(await ok(['run', '--rm', `mycentos-${cli}:7`, 'cat', '/made.txt']), 'made\n');
    assert.match(await ok(['image', 'list']), /busybox/);
    const ids = (await ok(['images', '-q'])).trim().split('\n');
    assert.ok(ids.length >= 2);
    await ok(['rm', c]);
    await ok(['rmi', `mycentos-${cli}:7`, `imported-${cli}:v1`]);
    await writeFile(join(tmp, 'unused'), '');
  });
}
