import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readdir } from 'node:fs/promises';
import { TestDaemon } from '../helpers/daemon.js';
import { HTTPD, daemonBridge, freePort, httpGet, inspect, ok, udpEchoInside, udpExchange, waitFor, waitHttp } from './network-fixtures.js';

// The default bridge and port publishing, through the berth CLI: busybox httpd behind
// -p on loopback and on the bridge's own address (the DNAT path), -P with EXPOSEd
// ports, UDP, busy ports, and the host / none / container:<id> modes.
let d: TestDaemon;
let gateway = '';

before(async () => {
  // "dns": upstreams on loopback only, so nothing is ever forwarded off this machine.
  d = await TestDaemon.start({ dns: ['127.0.0.1'] });
  await ok(d, ['image', 'bootstrap', 'busybox']);
  const bridge = JSON.parse(await ok(d, ['network', 'inspect', 'bridge']))[0];
  gateway = bridge.IPAM.Config[0].Gateway;
});
after(async () => {
  await d?.cleanup();
});

test('network ls shows bridge, host and none', async () => {
  const out = await ok(d, ['network', 'ls']);
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
  const rows = lines.slice(1).map((l) => l.split(/\s+/));
  assert.deepEqual(rows.map((r) => [r[1], r[2], r[3]]), [['bridge', 'bridge', 'local'], ['host', 'host', 'local'], ['none', 'null', 'local']]);
  for (const r of rows) assert.match(r[0]!, /^[0-9a-f]{12}$/);
});

test('busybox httpd answers on -p HOST:80 at 127.0.0.1 and through DNAT; port and ps show it', async () => {
  const port = await freePort();
  const id = (await ok(d, ['run', '-d', '--name', 'web', '-p', `${port}:80`, 'busybox', ...HTTPD])).trim();
  assert.match(await waitHttp('127.0.0.1', port), /^hello from [0-9a-f]{12}\n$/);
  // The bridge's address is the host's: served by the DNAT rule, not the proxy.
  assert.match(await httpGet(gateway, port), /^hello from/);
  const portOut = (await ok(d, ['port', 'web'])).trim().split('\n');
  assert.equal(portOut[0], `80/tcp -> 0.0.0.0:${port}`);
  assert.ok(portOut.length <= 2 && (portOut.length === 1 || portOut[1] === `80/tcp -> [::]:${port}`), portOut.join('|'));
  assert.equal((await ok(d, ['port', 'web', '80'])).split('\n')[0], `0.0.0.0:${port}`);
  const ins = await inspect(d, 'web');
  assert.deepEqual(ins.NetworkSettings.Ports['80/tcp'][0], { HostIp: '0.0.0.0', HostPort: String(port) });
  assert.match(ins.NetworkSettings.IPAddress, /^198\.18\.\d+\.\d+$/);
  assert.equal(ins.NetworkSettings.Gateway, gateway);
  assert.equal(ins.NetworkSettings.IPPrefixLen, 24);
  assert.equal(ins.NetworkSettings.Networks.bridge.IPAddress, ins.NetworkSettings.IPAddress);
  assert.match(ins.NetworkSettings.MacAddress, /^02:42(:[0-9a-f]{2}){4}$/);
  assert.equal(ins.HostConfig.NetworkMode, 'bridge');
  // The container's own address, straight over the bridge.
  assert.match(await httpGet(ins.NetworkSettings.IPAddress, 80), /^hello from/);
  const ps = await ok(d, ['ps', '--format', '{{.Names}} {{.Ports}} {{.Networks}}']);
  assert.match(ps, new RegExp(`^web 0\\.0\\.0\\.0:${port}->80/tcp.* bridge$`, 'm'));
  assert.equal((await ok(d, ['ps', '-q', '--filter', 'publish=80'])).trim(), id.slice(0, 12));
  assert.equal((await ok(d, ['ps', '-q', '--filter', 'network=bridge'])).trim(), id.slice(0, 12));
  const hosts = await ok(d, ['exec', 'web', 'cat', '/etc/hosts']);
  assert.match(hosts, new RegExp(`^${ins.NetworkSettings.IPAddress.replace(/\./g, '\\.')}\\t${id.slice(0, 12)}$`, 'm'));
});

test('a busy host port: Docker’s error, the container does not start; ports free again on stop', async () => {
  const port = Number((await ok(d, ['port', 'web', '80'])).split('\n')[0]!.split(':')[1]);
  const r = await d.run(['run', '-d', '--name', 'clash', '-p', `${port}:80`, 'busybox', 'sleep', '60']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint clash .*Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
  assert.equal((await ok(d, ['inspect', '-f', '{{.State.Status}}', 'clash'])).trim(), 'created');
  // Held by some other program: the bind error itself.
  const other = createServer();
  await new Promise<void>((res) => other.listen({ port: 0, host: '0.0.0.0' }, () => res()));
  const taken = (other.address() as { port: number }).port;
  try {
    const r2 = await d.run(['run', '--rm', '-p', `${taken}:80`, 'busybox', 'true']);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, new RegExp(`failed to bind host port for 0\\.0\\.0\\.0:${taken}:[0-9.]+:80/tcp: address already in use`));
  } finally {
    other.close();
  }
  await ok(d, ['stop', '-t', '1', 'web']);
  assert.deepEqual((await inspect(d, 'web')).NetworkSettings.Ports, {});
  assert.equal((await ok(d, ['port', 'web'])).trim(), '');
  // Released: the clashing container starts now and serves the port.
  await ok(d, ['rm', 'clash']);
  await ok(d, ['run', '-d', '--name', 'web2', '-p', `${port}:80`, 'busybox', ...HTTPD]);
  assert.match(await waitHttp('127.0.0.1', port), /^hello from/);
  await ok(d, ['rm', '-f', 'web2']);
  await waitFor('the port to be free', () => new Promise<boolean>((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host: '0.0.0.0' }, () => s.close(() => res(true)));
  }));
});

test('-P publishes the image’s EXPOSEd ports on random host ports; port lists them', async () => {
  await ok(d, ['create', '--name', 'exposer', 'busybox', 'true']);
  await ok(d, ['commit', '-c', 'EXPOSE 80', '-c', 'EXPOSE 8125/udp', 'exposer', 'exposed:1']);
  await ok(d, ['run', '-d', '--name', 'pweb', '-P', 'exposed:1', ...HTTPD]);
  const lines = (await ok(d, ['port', 'pweb'])).trim().split('\n').filter((l) => l.includes('0.0.0.0'));
  assert.equal(lines.length, 2, lines.join('|'));
  const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(lines.join('\n'));
  assert.ok(m, lines.join('|'));
  assert.match(lines.join('\n'), /^8125\/udp -> 0\.0\.0\.0:\d+$/m);
  assert.ok(Number(m[1]) >= 1024);
  assert.match(await waitHttp('127.0.0.1', Number(m[1])), /^hello from/);
  // --expose alone publishes nothing, but the port shows as exposed.
  await ok(d, ['run', '-d', '--name', 'xonly', '--expose', '7000', 'busybox', 'sleep', '60']);
  assert.deepEqual((await inspect(d, 'xonly')).NetworkSettings.Ports, { '7000/tcp': null });
  assert.match(await ok(d, ['ps', '--filter', 'name=xonly', '--format', '{{.Ports}}']), /^7000\/tcp$/m);
  await ok(d, ['rm', '-f', 'pweb', 'xonly', 'exposer']);
});

test('UDP publishing', async (t) => {
  const port = await freePort();
  await ok(d, ['run', '-d', '--name', 'udp', '-p', `127.0.0.1:${port}:9999/udp`, 'busybox', 'sleep', '600']);
  const pid = (await inspect(d, 'udp')).State.Pid as number;
  const echo = await udpEchoInside(pid, 9999);
  t.after(() => echo.kill('SIGKILL'));
  assert.equal((await ok(d, ['port', 'udp'])).trim(), `9999/udp -> 127.0.0.1:${port}`);
  assert.equal(await waitFor('udp echo', () => udpExchange('127.0.0.1', port, 'ping-1')), 'echo:ping-1');
  assert.equal(await udpExchange('127.0.0.1', port, 'ping-2'), 'echo:ping-2');
  echo.kill('SIGKILL');
  await ok(d, ['rm', '-f', 'udp']);
});

test('--net host sees the host’s interfaces, --net none only lo, --net container:X shares X’s address', async () => {
  // Other tests add and remove veths meanwhile: the interfaces there before and after must show.
  const before = await readdir('/sys/class/net');
  const inHost = (await ok(d, ['run', '--rm', '--net', 'host', 'busybox', 'ls', '/sys/class/net'])).trim().split(/\s+/);
  const after = await readdir('/sys/class/net');
  const stable = before.filter((i) => after.includes(i));
  assert.deepEqual(stable.filter((i) => !inHost.includes(i)), [], inHost.join(' '));
  assert.ok(inHost.includes(await daemonBridge(d)) && inHost.includes('lo'), inHost.join(' '));
  const none = (await ok(d, ['run', '--rm', '--net', 'none', 'busybox', 'ls', '/sys/class/net'])).trim().split(/\s+/);
  assert.deepEqual(none, ['lo']);
  assert.deepEqual(Object.keys((await inspect(d, 'web')).NetworkSettings.Networks), ['bridge']);
  await ok(d, ['start', 'web']);
  const ip = (await inspect(d, 'web')).NetworkSettings.IPAddress as string;
  assert.match(ip, /^198\.18\./);
  const shared = await ok(d, ['run', '--rm', '--net', 'container:web', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  assert.match(shared, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/24`));
  const r = await d.run(['run', '--rm', '--net', 'container:web', '-p', '80:80', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /conflicting options: port publishing and the container type network mode/);
  await ok(d, ['stop', '-t', '0', 'web']);
  const r2 = await d.run(['run', '--rm', '--net', 'container:web', 'busybox', 'true']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /cannot join network namespace of a non running container: container web is exited/);
});

test('default bridge: gateway route, --link aliases in /etc/hosts, --ip refused', async () => {
  await ok(d, ['start', 'web']);
  const web = await inspect(d, 'web');
  const route = await ok(d, ['run', '--rm', 'busybox', 'ip', 'route']);
  assert.match(route, new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`, 'm'));
  const out = await ok(d, ['run', '--rm', '--link', 'web:webalias', 'busybox', 'sh', '-c', 'cat /etc/hosts; wget -q -O- http://webalias/']);
  assert.match(out, new RegExp(`^${web.NetworkSettings.IPAddress.replace(/\./g, '\\.')}\\twebalias ${web.Config.Hostname} web$`, 'm'));
  assert.match(out, /^hello from/m);
  const r = await d.run(['run', '--rm', '--ip', '198.18.0.9', 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Error response from daemon: user specified IP address is supported on user defined networks only/);
  const r2 = await d.run(['run', '--rm', '--link', 'nosuch:x', 'busybox', 'true']);
  assert.equal(r2.code, 125);
  assert.match(r2.stderr, /could not get container for nosuch/);
  await ok(d, ['rm', '-f', 'web']);
});
