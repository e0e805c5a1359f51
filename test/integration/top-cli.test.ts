import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TestDaemon, type RunResult } from '../helpers/daemon.js';

// `top` end to end: the host's ps, filtered to the container's cgroup.
const hasDocker = (() => {
  try {
    execFileSync('docker', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let d: TestDaemon;
let pid1 = 0;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
  const run = await d.run(['run', '-d', '--name', 'topped', 'busybox', 'sleep', '601']);
  assert.equal(run.code, 0, run.stderr + d.log);
  pid1 = Number((await d.run(['inspect', '-f', '{{.State.Pid}}', 'topped'])).stdout.trim());
  assert.ok(pid1 > 0);
});
after(async () => {
  await d?.cleanup();
});

const rows = (r: RunResult): string[][] => r.stdout.trimEnd().split('\n').map((l) => l.trim().split(/\s{2,}/));

for (const cli of hasDocker ? (['berth', 'docker'] as const) : (['berth'] as const)) {
  test(`${cli}: default ps -ef: titles, and PID 1 of the container with its command`, async () => {
    const r = await d.run(['top', 'topped'], { cli });
    assert.equal(r.code, 0, r.stderr);
    const [titles, ...procs] = rows(r);
    assert.deepEqual(titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.equal(procs.length, 1, r.stdout);
    assert.equal(procs[0]![0], 'root');
    assert.equal(procs[0]![1], String(pid1));
    assert.equal(procs[0]!.at(-1), 'sleep 601');
  });

  test(`${cli}: ps options are passed through; an exec'd process shows too`, async () => {
    const ex = await d.run(['exec', '-d', 'topped', 'sleep', '602']);
    assert.equal(ex.code, 0, ex.stderr);
    let r: RunResult = { code: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 100 && !r.stdout.includes('sleep 602'); i++) r = await d.run(['top', 'topped', '-o', 'pid,args'], { cli });
    assert.equal(r.code, 0, r.stderr);
    const [titles, ...procs] = rows(r);
    assert.deepEqual(titles, ['PID', 'COMMAND']);
    assert.deepEqual(procs.map((p) => p[1]).sort(), ['sleep 601', 'sleep 602']);
    assert.ok(procs.some((p) => p[0] === String(pid1)));
    await d.run(['exec', 'topped', 'sh', '-c', 'kill $(pidof sleep | tr " " "\\n" | grep -vx 1)']);
  });

  test(`${cli}: errors: a stopped container, bad ps options, a renamed PID column`, async () => {
    const created = await d.run(['create', 'busybox', 'true']);
    const id = created.stdout.trim();
    try {
      const stopped = await d.run(['top', id], { cli });
      assert.equal(stopped.code, 1);
      assert.equal(stopped.stderr, `Error response from daemon: container ${id} is not running\n`);
    } finally {
      await d.run(['rm', id]);
    }
    const bad = await d.run(['top', 'topped', '--bogus'], { cli });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^Error response from daemon: ps: /);
    const renamed = await d.run(['top', 'topped', '-o', 'user=PID'], { cli });
    assert.equal(renamed.code, 1);
    assert.equal(renamed.stderr, 'Error response from daemon: specifying "user=PID" is not allowed\n');
  });
}
