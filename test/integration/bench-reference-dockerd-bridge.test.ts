// scripts/reference-dockerd.sh with REFDOCKER_BRIDGE: -p works through docker-proxy and
// DNAT, and after a crash of dockerd and containerd with a published port, stop leaves no
// bridge, rule, DOCKER chain of ours, docker-proxy or file behind. (docker-proxy itself dies
// with dockerd: it runs with a parent-death signal.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchBridges, hostAddress } from '../../bench/lib/bench-network.js';
import { runCommand } from '../../bench/lib/command.js';
import { defaultDockerCli } from '../../bench/lib/docker-engine.js';
import { listProcesses } from '../../bench/lib/proc.js';
import { parseHostPort, parsePeer } from '../../bench/lib/port-bench.js';
import { httpGet, retryUntil } from '../../bench/lib/tcp-client.js';
import { removeBridgesAndRules, rulesMentioning } from '../helpers/network.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const script = join(repoRoot, 'scripts/reference-dockerd.sh');
const haveDocker = (await runCommand('sh', ['-c', 'command -v dockerd'])).code === 0;

// DOCKER* chains still there must hold some other bridge's rules (another networked dockerd).
function strayDockerChains(save: string): string[] {
  const chains = [...save.matchAll(/^:(DOCKER[A-Z0-9-]*) /gm)].map((m) => m[1]!);
  return chains.filter((c) => !save.split('\n').some((l) => l.startsWith(`-A ${c} `) && l !== `-A ${c} -j RETURN`));
}

test('reference dockerd with a bridge: -p via proxy and DNAT; crash, stop, nothing left', { skip: process.env.BERTH_TEST_BENCH !== '1' ? 'set BERTH_TEST_BENCH=1 to test the reference dockerd harness' : !haveDocker && 'dockerd is not installed' }, async (t) => {
  const dir = await mkdtemp('/tmp/refdocker-br-test-');
  const { d: bridge } = await benchBridges(dir, ['d']);
  const net = bridge!.bip.replace(/1\/24$/, '');
  const env = { ...process.env, REFDOCKER_DIR: dir, REFDOCKER_BRIDGE: bridge!.name, REFDOCKER_BIP: bridge!.bip };
  const sh = (action: string, e: NodeJS.ProcessEnv = env) => runCommand('bash', [script, action], e);
  const docker = (...args: string[]) => runCommand(defaultDockerCli(), ['-H', `unix://${join(dir, 'docker.sock')}`, ...args]);
  t.after(async () => {
    await sh('stop');
    removeBridgesAndRules([bridge!.name]);
  });

  const started = await sh('start');
  assert.equal(started.code, 0, started.stderr);
  // A second start with another network setting is refused, not silently ignored.
  const other = await sh('start', { ...process.env, REFDOCKER_DIR: dir });
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /already running with network/);

  const run = await docker('run', '-d', '-p', '80', 'busybox', 'sh', '-c',
    `mkdir -p /w/cgi-bin && printf '#!/bin/sh\\necho\\necho $REMOTE_ADDR\\n' > /w/cgi-bin/p && chmod +x /w/cgi-bin/p && exec httpd -f -p 80 -h /w`);
  assert.equal(run.code, 0, run.stderr);
  const port = parseHostPort((await docker('port', run.stdout.trim(), '80/tcp')).stdout);
  assert.ok(port);
  const peer = (h: string) => retryUntil(h, 20_000, async () => parsePeer((await httpGet(h, port, '/cgi-bin/p')).body));
  assert.equal(await peer('127.0.0.1'), bridge!.bip.replace(/\/24$/, ''), 'loopback goes through docker-proxy');
  const host = hostAddress([bridge!.name]);
  if (host) assert.equal(await peer(host), host, 'a host address is DNATed straight to the container');
  assert.ok(rulesMentioning([bridge!.name]).length > 0);

  // Crash: the rules, the bridge and the container stay behind.
  const proxies = async () => (await listProcesses()).filter((p) => p.comm === 'docker-proxy' && p.cmdline.includes(`-container-ip ${net}`));
  assert.ok((await proxies()).length > 0, 'docker-proxy serves the port');
  process.kill(Number(await readFile(join(dir, 'docker.pid'), 'utf8')), 'SIGKILL');
  process.kill(Number(await readFile(join(dir, 'docker-exec/containerd/containerd.pid'), 'utf8')), 'SIGKILL');

  const stopped = await sh('stop');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.deepEqual((await proxies()).map((p) => p.cmdline), []);
  assert.equal(existsSync(`/sys/class/net/${bridge!.name}`), false);
  assert.deepEqual(rulesMentioning([bridge!.name]), []);
  const save = (await runCommand('iptables-save', [])).stdout;
  assert.ok(!save.includes(net), `a rule still names ${net}0/24`);
  assert.deepEqual(strayDockerChains(save), []);
  assert.equal(existsSync(dir), false);
});
