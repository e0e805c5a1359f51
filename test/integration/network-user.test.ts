import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { TestDaemon } from '../helpers/daemon.js';
import { HTTPD, assertNothingLeft, bridgePorts, inspect, ok, unusedSubnet, waitFor, waitHttp } from './network-fixtures.js';

// User-defined networks through the berth CLI: the seed's staticnet with a fixed
// address kept across restarts, the embedded DNS (names, aliases, short IDs, links),
// isolation between networks, connect/disconnect of running containers, and nothing
// of ours left once the containers and the networks are removed.
let d: TestDaemon;
let subnet = '';
let prefix = ''; // "198.18.N." or "192.168."
let bridge = '';
let gateway = '';
const ips: string[] = [];
const veths = new Set<string>();

// The seed's 192.168.0.0/16 when this host routes nothing in it; otherwise a /24 of
// the benchmarking block, so a test never shadows a real route.
async function pickSubnet(): Promise<string> {
  const routes = await readFile('/proc/net/route', 'utf8');
  const uses192168 = routes.split('\n').slice(1).some((l) => {
    const f = l.trim().split(/\s+/);
    if (f.length < 8 || f[7] === '00000000') return false;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(parseInt(f[1]!, 16) >>> 0);
    return b[0] === 192 && b[1] === 168;
  });
  return uses192168 ? unusedSubnet() : '192.168.0.0/16';
}

async function rememberVeths(): Promise<void> {
  for (const v of await bridgePorts(bridge)) veths.add(v);
}

before(async () => {
  d = await TestDaemon.start({ dns: ['127.0.0.1'] });
  await ok(d, ['image', 'bootstrap', 'busybox']);
  subnet = await pickSubnet();
  prefix = subnet.startsWith('192.168.') ? '192.168.' : subnet.replace(/0\/24$/, '');
});
after(async () => {
  await d?.cleanup();
});

test('network create --subnet staticnet; run --net staticnet --ip keeps its address across restarts', async () => {
  const id = (await ok(d, ['network', 'create', `--subnet=${subnet}`, 'staticnet'])).trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  assert.match(await ok(d, ['network', 'ls']), new RegExp(`^${id.slice(0, 12)}\\s+staticnet\\s+bridge\\s+local$`, 'm'));
  const net = JSON.parse(await ok(d, ['network', 'inspect', 'staticnet']))[0];
  bridge = net.Options['com.docker.network.bridge.name'] ?? '';
  assert.equal(bridge, '', 'no bridge name option unless the user set one');
  bridge = (await readFile(`${d.dataRoot}/network/networks/${id}.json`, 'utf8').then((t) => JSON.parse(t).bridge)) as string;
  gateway = `${prefix}${subnet.startsWith('192.168.') ? '0.1' : '1'}`;
  assert.deepEqual(net.IPAM.Config, [{ Subnet: subnet, Gateway: gateway }]);
  const fixed = `${prefix}${subnet.startsWith('192.168.') ? '0.2' : '2'}`;
  ips.push(fixed);
  await ok(d, ['run', '-d', '--name', 'userserver', '--net', 'staticnet', '--ip', fixed, 'busybox', 'sleep', '600']);
  await rememberVeths();
  const addr = async (): Promise<string> => (await ok(d, ['inspect', '-f', '{{.NetworkSettings.Networks.staticnet.IPAddress}}', 'userserver'])).trim();
  assert.equal(await addr(), fixed);
  assert.match(await ok(d, ['exec', 'userserver', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), new RegExp(`inet ${fixed.replace(/\./g, '\\.')}/`));
  await ok(d, ['restart', '-t', '0', 'userserver']);
  await rememberVeths();
  assert.equal(await addr(), fixed);
  await ok(d, ['stop', '-t', '0', 'userserver']);
  assert.equal(await addr(), '', 'a stopped container shows no address, as Docker');
  await ok(d, ['start', 'userserver']);
  await rememberVeths();
  assert.equal(await addr(), fixed);
  assert.match(await ok(d, ['exec', 'userserver', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), new RegExp(`inet ${fixed.replace(/\./g, '\\.')}/`));
  // Taken: Docker's error; and --ip must lie in the subnet.
  const r = await d.run(['run', '--rm', '--net', 'staticnet', '--ip', fixed, 'busybox', 'true']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /Address already in use/);
  const r2 = await d.run(['run', '--rm', '--net', 'staticnet', '--ip', '10.255.255.1', 'busybox', 'true']);
  assert.equal(r2.code, 125);
  assert.match(r2.stderr, /no configured subnet contains IP address 10\.255\.255\.1/);
});

test('containers on a user network reach each other by name, alias, short ID and --link alias', async () => {
  const id = (await ok(d, ['run', '-d', '--name', 'web', '--net', 'staticnet', '--network-alias', 'site', 'busybox', ...HTTPD])).trim();
  await rememberVeths();
  const web = await inspect(d, 'web');
  const ep = web.NetworkSettings.Networks.staticnet;
  ips.push(ep.IPAddress);
  // Ready when it answers on its address (the bridge is the test's own, on this host).
  await waitHttp(ep.IPAddress, 80);
  assert.deepEqual(ep.Aliases, ['site']);
  assert.deepEqual(ep.DNSNames, ['web', 'site', id.slice(0, 12)]);
  assert.equal(web.NetworkSettings.IPAddress, '', 'the legacy top-level address is the default bridge’s only');
  const out = await ok(d, ['run', '--rm', '--net', 'staticnet', '--link', 'web:db', 'busybox', 'sh', '-c',
    `cat /etc/resolv.conf; for n in web site ${id.slice(0, 12)} db web.staticnet; do timeout 5 wget -q -O- http://$n/ || echo "FAIL $n"; done`]);
  assert.match(out, new RegExp(`^nameserver ${ep.Gateway.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(out, /^options ndots:0$/m);
  assert.ok(!out.includes('FAIL'), out);
  assert.equal(out.match(/^hello from /gm)?.length, 5, out);
  // And the other way round, by name from the first container.
  assert.match(await ok(d, ['exec', 'userserver', 'wget', '-q', '-O-', 'http://web/']), /^hello from/);
  const members = await ok(d, ['network', 'inspect', '-f', '{{range $id, $c := .Containers}}{{$c.Name}}={{$c.IPv4Address}} {{end}}', 'staticnet']);
  assert.match(members, new RegExp(`web=${ep.IPAddress.replace(/\./g, '\\.')}/\\d+`));
  assert.match(members, /userserver=/);
});

test('two user networks are isolated; connect and disconnect a running container', async () => {
  const other = await unusedSubnet();
  await ok(d, ['network', 'create', '--subnet', other, 'othernet']);
  await ok(d, ['run', '-d', '--name', 'outsider', '--net', 'othernet', 'busybox', 'sleep', '600']);
  const webIp = ips[1]!;
  // (busybox wget -T crashes in Debian's static build: `timeout` bounds the wait instead)
  // Short bound where no answer is expected, a long one where it is (a loaded machine).
  const reach = (secs = 2): Promise<{ code: number; stdout: string }> => d.run(['exec', 'outsider', 'timeout', String(secs), 'wget', '-q', '-O-', `http://${webIp}/`]);
  assert.notEqual((await reach()).code, 0, 'othernet reaches staticnet');
  const ping = await d.run(['exec', 'outsider', 'ping', '-c', '1', '-W', '1', webIp]);
  assert.notEqual(ping.code, 0);
  await ok(d, ['network', 'connect', '--alias', 'joiner', 'staticnet', 'outsider']);
  const ins = await inspect(d, 'outsider');
  assert.deepEqual(Object.keys(ins.NetworkSettings.Networks).sort(), ['othernet', 'staticnet']);
  assert.match(await ok(d, ['exec', 'outsider', 'ip', '-o', 'link']), /eth1/);
  assert.match(await ok(d, ['exec', 'outsider', 'cat', '/etc/hosts']), new RegExp(ins.NetworkSettings.Networks.staticnet.IPAddress.replace(/\./g, '\\.')));
  assert.match((await reach(20)).stdout, /^hello from/);
  // The alias given at connect resolves for the network's other members.
  // ping prints its PING line once the name resolved; the echo itself may be lost under load,
  // and under heavy load busybox's resolver can give up before the answer: asked again until
  // it resolves, to this address and no other.
  const joinerLine = new RegExp(`PING joiner \\(${ins.NetworkSettings.Networks.staticnet.IPAddress.replace(/\./g, '\\.')}\\)`);
  const pinged = await waitFor('joiner to resolve', async () => {
    const out = (await d.run(['exec', 'web', 'ping', '-c', '1', '-W', '2', 'joiner'])).stdout;
    return /^PING /m.test(out) ? out : null;
  });
  assert.match(pinged, joinerLine);
  const r = await d.run(['network', 'connect', 'staticnet', 'outsider']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /endpoint with name outsider already exists in network staticnet/);
  await ok(d, ['network', 'disconnect', 'staticnet', 'outsider']);
  assert.notEqual((await reach()).code, 0, 'still reaches staticnet after disconnect');
  assert.deepEqual(Object.keys((await inspect(d, 'outsider')).NetworkSettings.Networks), ['othernet']);
  const r2 = await d.run(['network', 'disconnect', 'staticnet', 'outsider']);
  assert.equal(r2.code, 1);
  // dockerd's wording for a running container ("the network" is for a stopped one).
  assert.match(r2.stderr, /is not connected to network staticnet/);
});

test('compose 1.29 pattern: a created container disconnected from its only network connects again with aliases', async () => {
  await ok(d, ['create', '--name', 'composed', '--net', 'othernet', 'busybox', 'sleep', '600']);
  await ok(d, ['network', 'disconnect', 'othernet', 'composed']);
  assert.deepEqual(Object.keys((await inspect(d, 'composed')).NetworkSettings.Networks), []);
  await ok(d, ['network', 'connect', '--alias', 'svc', 'othernet', 'composed']);
  await ok(d, ['start', 'composed']);
  const ip = (await inspect(d, 'composed')).NetworkSettings.Networks.othernet.IPAddress;
  assert.match((await d.run(['exec', 'outsider', 'ping', '-c', '1', '-W', '2', 'svc'])).stdout, new RegExp(`PING svc \\(${ip.replace(/\./g, '\\.')}\\)`));
  await ok(d, ['rm', '-f', 'composed']);
});

test('network errors as Docker gives them', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['network', 'create', 'staticnet'], /network with name staticnet already exists/],
    [['network', 'create', '--subnet', subnet, 'overlap'], /Pool overlaps with other one on this address space/],
    [['network', 'create', '--subnet', '10.1.0.0/16', '--gateway', '10.2.0.1', 'bad'], /no matching subnet for gateway 10\.2\.0\.1/],
    [['network', 'create', '--subnet', '10.1.0.1/16', 'bad'], /invalid subnet 10\.1\.0\.1\/16: it should be 10\.1\.0\.0\/16/],
    [['network', 'create', '-d', 'overlay', 'bad'], /plugin "overlay" not found/],
    [['network', 'create', 'host'], /host is a pre-defined network and cannot be created/],
    [['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/],
    [['network', 'rm', 'nosuchnet'], /network nosuchnet not found/],
    [['network', 'inspect', 'nosuchnet'], /network nosuchnet not found/],
    [['network', 'rm', 'staticnet'], /error while removing network: network staticnet has active endpoints \(name:"(userserver|web)" id:"[0-9a-f]{12}"/],
  ];
  for (const [args, re] of cases) {
    const r = await d.run(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
  assert.equal((await d.run(['network', 'rm', '-f', 'nosuchnet'])).code, 0);
  // A network removed under a stopped container: the start names it.
  await ok(d, ['network', 'create', 'ephemeral']);
  await ok(d, ['create', '--name', 'orphan', '--net', 'ephemeral', 'busybox', 'true']);
  await ok(d, ['network', 'rm', 'ephemeral']);
  const r = await d.run(['start', 'orphan']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /network ephemeral not found/);
  await ok(d, ['rm', 'orphan']);
});

test('prune removes unused custom networks only', async () => {
  await ok(d, ['network', 'create', '--label', 'purpose=prune', 'unused1']);
  const out = await ok(d, ['network', 'prune', '-f', '--filter', 'label=purpose=prune']);
  assert.equal(out, 'Deleted Networks:\nunused1\n\n');
  const names = (await ok(d, ['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n');
  assert.deepEqual(names, ['bridge', 'host', 'none', 'othernet', 'staticnet']);
});

test('after container removal and network rm nothing of ours is left', async () => {
  await rememberVeths();
  const otherBridge = JSON.parse(await readFile(`${d.dataRoot}/network/networks/${(await ok(d, ['network', 'inspect', '-f', '{{.Id}}', 'othernet'])).trim()}.json`, 'utf8')).bridge as string;
  for (const v of await bridgePorts(otherBridge)) veths.add(v);
  assert.ok(veths.size >= 3, [...veths].join(' '));
  await ok(d, ['rm', '-f', 'userserver', 'web', 'outsider']);
  assert.equal(await ok(d, ['network', 'rm', 'staticnet', 'othernet']), 'staticnet\nothernet\n');
  await assertNothingLeft(bridge, [...veths], ips);
  await assertNothingLeft(otherBridge, [], []);
  // The embedded DNS no longer listens on the gateway (/proc/net/udp prints "0100A8C0:0035").
  const local = `${Buffer.from(gateway.split('.').map(Number).reverse()).toString('hex').toUpperCase()}:0035`;
  await waitFor('the DNS listener to close', async () => !(await readFile('/proc/net/udp', 'utf8')).includes(local));
});
