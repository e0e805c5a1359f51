import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { TestDaemon } from '../helpers/daemon.js';
import { rulesMentioning } from '../helpers/network.js';
import { HTTPD, daemonBridge, freePort, inspect, ok, unusedSubnet, waitHttp } from './network-fixtures.js';

// berthd dies (SIGKILL) while containers with published ports run: at the next start
// the bridges and chains are there, the ports answer again, the rules are exactly what
// they were (none lost, none doubled), and addresses in use are not handed out twice.
let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start({ dns: ['127.0.0.1'] });
  await ok(d, ['image', 'bootstrap', 'busybox']);
});
after(async () => {
  await d?.cleanup();
});

const sorted = (bridges: string[]): string[] => rulesMentioning(bridges).map((r) => `${r.table} ${r.chain} ${r.spec}`).sort();

test('a berthd restart restores ports, rules and names; releases work afterwards', async () => {
  await ok(d, ['network', 'create', '--subnet', await unusedSubnet(), 'appnet']);
  const netId = (await ok(d, ['network', 'inspect', '-f', '{{.Id}}', 'appnet'])).trim();
  const userBridge = JSON.parse(await readFile(`${d.dataRoot}/network/networks/${netId}.json`, 'utf8')).bridge as string;
  const bridges = [await daemonBridge(d), userBridge];
  const p1 = await freePort();
  const p2 = await freePort();
  await ok(d, ['run', '-d', '--name', 'onbridge', '-p', `${p1}:80`, 'busybox', ...HTTPD]);
  await ok(d, ['run', '-d', '--name', 'onuser', '--net', 'appnet', '-p', `127.0.0.1:${p2}:80`, 'busybox', ...HTTPD]);
  await waitHttp('127.0.0.1', p1);
  await waitHttp('127.0.0.1', p2);
  const before = sorted(bridges);
  assert.ok(before.some((r) => r.includes(`--dport ${p1} -j DNAT`)), before.join('\n'));

  await d.kill9();
  await d.spawn();

  assert.match(await waitHttp('127.0.0.1', p1), /^hello from/);
  assert.match(await waitHttp('127.0.0.1', p2), /^hello from/);
  assert.deepEqual(sorted(bridges), before);
  const ip = (await inspect(d, 'onuser')).NetworkSettings.Networks.appnet.IPAddress as string;
  assert.match(await ok(d, ['run', '--rm', '--net', 'appnet', 'busybox', 'wget', '-q', '-O-', 'http://onuser/']), /^hello from/);
  // The address in use is not handed out again.
  const next = (await ok(d, ['run', '--rm', '--net', 'appnet', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0'])).match(/inet (\S+)\//)?.[1];
  assert.ok(next && next !== ip, `${next} vs ${ip}`);
  // Stopping after the restart still releases the port and its rules.
  await ok(d, ['stop', '-t', '0', 'onbridge']);
  assert.ok(!sorted(bridges).some((r) => r.includes(`--dport ${p1} `)), 'DNAT rule left after stop');
  await ok(d, ['run', '-d', '--name', 'again', '-p', `${p1}:80`, 'busybox', ...HTTPD]);
  assert.match(await waitHttp('127.0.0.1', p1), /^hello from/);
  await ok(d, ['rm', '-f', 'again', 'onbridge', 'onuser']);
  await ok(d, ['network', 'rm', 'appnet']);
  assert.deepEqual(rulesMentioning([userBridge]), []);
});
