import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { TestDaemon } from '../helpers/daemon.js';
import {
  HTTPD, assertNothingLeft, bridgePorts, freePort, inspect, ok, udpEchoInside, udpExchange, unusedSubnet, waitFor, waitHttp,
} from './network-fixtures.js';

// The networking scenarios again, through the real docker CLI (v28) against berthd.
let d: TestDaemon;
const docker = (args: string[]): Promise<string> => ok(d, args, 'docker');

before(async () => {
  d = await TestDaemon.start({ dns: ['127.0.0.1'] });
  await ok(d, ['image', 'bootstrap', 'busybox']);
});
after(async () => {
  await d?.cleanup();
});

test('docker network ls / create / inspect / rm, and the seed’s fixed address', async () => {
  const ls = (await docker(['network', 'list'])).trim().split('\n');
  assert.match(ls[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
  assert.deepEqual(ls.slice(1).map((l) => l.split(/\s+/).slice(1).join(' ')), ['bridge bridge local', 'host host local', 'none null local']);
  const subnet = await unusedSubnet();
  const base = subnet.replace(/0\/24$/, '');
  const id = (await docker(['network', 'create', `--subnet=${subnet}`, 'staticnet'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal((await docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'staticnet'])).trim(), `${subnet} ${base}1`);
  await docker(['run', '-d', '--name', 'userserver', '--net', 'staticnet', '--ip', `${base}2`, 'busybox', 'sleep', '600']);
  const ipOf = async (): Promise<string> => (await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'userserver'])).trim();
  assert.equal(await ipOf(), `${base}2`);
  await docker(['stop', '-t', '0', 'userserver']);
  await docker(['start', 'userserver']);
  assert.equal(await ipOf(), `${base}2`);
  const r = await d.docker(['run', '--rm', '--net', 'bridge', '--ip', '172.17.0.9', 'busybox', '/bin/sh']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr.trim(), 'docker: Error response from daemon: user specified IP address is supported on user defined networks only\n\nRun \'docker run --help\' for more information'.trim());
});

test('docker run -p: httpd at 127.0.0.1, docker port, inspect | grep IPAddress as in the seed', async () => {
  const port = await freePort();
  await docker(['run', '-d', '--name', 'mysql1', '-p', `${port}:80`, 'busybox', ...HTTPD]);
  assert.match(await waitHttp('127.0.0.1', port), /^hello from/);
  assert.equal((await docker(['port', 'mysql1'])).split('\n')[0], `80/tcp -> 0.0.0.0:${port}`);
  const raw = await docker(['inspect', 'mysql1']);
  const lines = raw.split('\n').filter((l) => l.includes('IPAddress'));
  const ip = (await inspect(d, 'mysql1', 'docker')).NetworkSettings.IPAddress as string;
  assert.deepEqual(lines.map((l) => l.trim()), ['"SecondaryIPAddresses": null,', `"IPAddress": "${ip}",`, `"IPAddress": "${ip}",`]);
  assert.match(await docker(['ps', '--format', '{{.Names}}\t{{.Ports}}']), new RegExp(`^mysql1\\t0\\.0\\.0\\.0:${port}->80/tcp`, 'm'));
  // -P with --expose: a random host port that serves too.
  await docker(['run', '-d', '--name', 'pweb', '--expose', '80', '-P', 'busybox', ...HTTPD]);
  const m = /^0\.0\.0\.0:(\d+)$/m.exec(await docker(['port', 'pweb', '80/tcp']));
  assert.ok(m);
  assert.match(await waitHttp('127.0.0.1', Number(m[1])), /^hello from/);
  // UDP
  const uport = await freePort();
  await docker(['run', '-d', '--name', 'udp', '-p', `127.0.0.1:${uport}:9999/udp`, 'busybox', 'sleep', '600']);
  const echo = await udpEchoInside((await inspect(d, 'udp', 'docker')).State.Pid, 9999);
  try {
    assert.equal(await waitFor('udp echo', () => udpExchange('127.0.0.1', uport, 'hi')), 'echo:hi');
  } finally {
    echo.kill('SIGKILL');
  }
  await docker(['rm', '-f', 'pweb', 'udp']);
});

test('docker: names on a user network, --link on the default bridge, isolation, connect', async () => {
  await docker(['run', '-d', '--name', 'web', '--net', 'staticnet', '--network-alias', 'site', 'busybox', ...HTTPD]);
  const webIp = (await inspect(d, 'web', 'docker')).NetworkSettings.Networks.staticnet.IPAddress as string;
  await waitHttp(webIp, 80);
  assert.match(await docker(['run', '--rm', '--net', 'staticnet', 'busybox', 'wget', '-q', '-O-', 'http://site/']), /^hello from/);
  assert.match(await docker(['exec', 'userserver', 'wget', '-q', '-O-', 'http://web/']), /^hello from/);
  assert.match(await docker(['run', '--rm', '--link', 'mysql1:db', 'busybox', 'wget', '-q', '-O-', 'http://db/']), /^hello from/);
  const other = await unusedSubnet();
  await docker(['network', 'create', '--subnet', other, 'othernet']);
  await docker(['run', '-d', '--name', 'outsider', '--net', 'othernet', 'busybox', 'sleep', '600']);
  const cut = await d.docker(['exec', 'outsider', 'timeout', '2', 'wget', '-q', '-O-', `http://${webIp}/`]);
  assert.notEqual(cut.code, 0, 'othernet reaches staticnet');
  await docker(['network', 'connect', 'staticnet', 'outsider']);
  assert.match(await docker(['exec', 'outsider', 'wget', '-q', '-O-', 'http://web/']), /^hello from/);
  await docker(['network', 'disconnect', 'staticnet', 'outsider']);
  const r = await d.docker(['network', 'rm', 'staticnet']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /has active endpoints/);
});

test('docker: nothing of ours left after rm and network rm', async () => {
  const ids = (await docker(['network', 'ls', '-q', '--no-trunc', '--filter', 'type=custom'])).trim().split('\n');
  const bridges: string[] = [];
  const veths: string[] = [];
  for (const id of ids) {
    const br = JSON.parse(await readFile(`${d.dataRoot}/network/networks/${id}.json`, 'utf8')).bridge as string;
    bridges.push(br);
    veths.push(...(await bridgePorts(br)));
  }
  const ips = await Promise.all(['web', 'userserver', 'outsider'].map(async (n) => {
    const nets = (await inspect(d, n, 'docker')).NetworkSettings.Networks as Record<string, { IPAddress: string }>;
    return Object.values(nets).map((e) => e.IPAddress);
  }));
  await docker(['rm', '-f', 'web', 'userserver', 'outsider', 'mysql1']);
  assert.equal(await docker(['network', 'rm', 'staticnet', 'othernet']), 'staticnet\nothernet\n');
  for (const br of bridges) await assertNothingLeft(br, veths, ips.flat().filter(Boolean));
  assert.deepEqual((await docker(['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n'), ['bridge', 'host', 'none']);
});
