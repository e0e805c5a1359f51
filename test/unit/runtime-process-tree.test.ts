import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { killProcessTree } from '../../src/runtime/process-tree.js';

// A shell with children and a grandchild: all of them go, not only the shell.
test('killProcessTree kills a process and everything it forked', async (t) => {
  const sh = spawn('sh', ['-c', 'sleep 300 & (sleep 301 & wait) & echo ready; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => sh.kill('SIGKILL'));
  await new Promise<void>((r) => sh.stdout.once('data', () => r()));
  const descendants = async (pid: number): Promise<number[]> => {
    const kids = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
    return [...kids, ...(await Promise.all(kids.map(descendants))).flat()];
  };
  // The subshell forks its sleep after `echo ready` may already have run: wait for all three.
  const deadline = Date.now() + 5000;
  let tree = await descendants(sh.pid!);
  while (tree.length < 3 && Date.now() < deadline) {
    await new Promise((r) => setImmediate(r));
    tree = await descendants(sh.pid!);
  }
  assert.equal(tree.length, 3, `children: ${tree}`);
  const exited = new Promise<string | null>((r) => sh.once('exit', (_code, sig) => r(sig)));
  await killProcessTree(sh.pid!);
  assert.equal(await exited, 'SIGKILL');
  // Reaped, or zombies awaiting it: none may be left running (SIGKILL takes effect
  // asynchronously, so each gets a deadline).
  const alive = async (pid: number): Promise<boolean> => {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    return stat !== null && !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  };
  for (const pid of tree) {
    const until = Date.now() + 5000;
    while ((await alive(pid)) && Date.now() < until) await new Promise((r) => setImmediate(r));
    assert.equal(await alive(pid), false, `pid ${pid} still alive`);
  }
});

test('killProcessTree of a pid that is gone does nothing', async () => {
  await killProcessTree(2 ** 22 + 1);
});
