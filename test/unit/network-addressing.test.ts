import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contains, formatIPv4, formatPrefix, overlaps, parseCidr, parseIPv4, parsePrefix, subdivide } from '../../src/network/cidr.js';
import { allocate, claim, macForAddress, poolFromConfig, poolConfig } from '../../src/network/ipam.js';
import { DOCKER_DEFAULT_POOLS, parseAddressPools, parseBip, parseFixedCidr, pickSubnet } from '../../src/network/address-pools.js';
import { parseProcRoutes } from '../../src/network/host-routes.js';
import { BerthError } from '../../src/util/errors.js';

const ip = (s: string): number => parseIPv4(s)!;
const p = (s: string) => parsePrefix(s)!;

test('IPv4 parsing: valid and invalid forms', () => {
  const cases: Array<[string, string | null]> = [
    ['0.0.0.0', '0.0.0.0'],
    ['172.17.0.1', '172.17.0.1'],
    ['255.255.255.255', '255.255.255.255'],
    ['256.1.1.1', null],
    ['1.2.3', null],
    ['01.2.3.4', null], // leading zeros are not accepted (octal elsewhere)
    ['a.b.c.d', null],
    ['', null],
    ['::1', null],
  ];
  for (const [input, want] of cases) {
    const got = parseIPv4(input);
    assert.equal(got === null ? null : formatIPv4(got), want, input);
  }
});

test('CIDR parsing, masking, containment and overlap', () => {
  assert.deepEqual(parseCidr('192.168.0.5/16'), { addr: ip('192.168.0.5'), bits: 16 });
  assert.equal(parseCidr('192.168.0.0'), null);
  assert.equal(parseCidr('192.168.0.0/33'), null);
  assert.equal(parseCidr('192.168.0.0/x'), null);
  assert.equal(formatPrefix(p('192.168.7.9/16')), '192.168.0.0/16');
  assert.equal(formatPrefix(p('10.0.0.0/0')), '0.0.0.0/0');
  assert.ok(contains(p('172.17.0.0/16'), ip('172.17.255.254')));
  assert.ok(!contains(p('172.17.0.0/16'), ip('172.18.0.1')));
  assert.ok(contains(p('0.0.0.0/0'), ip('8.8.8.8')));
  assert.ok(overlaps(p('10.0.0.0/8'), p('10.1.0.0/16')));
  assert.ok(overlaps(p('10.1.0.0/16'), p('10.0.0.0/8')));
  assert.ok(!overlaps(p('10.1.0.0/16'), p('10.2.0.0/16')));
  assert.deepEqual([...subdivide(p('192.168.0.0/16'), 18)].map(formatPrefix), ['192.168.0.0/18', '192.168.64.0/18', '192.168.128.0/18', '192.168.192.0/18']);
  assert.deepEqual([...subdivide(p('10.0.0.0/24'), 16)], []);
});

test('IPAM: lowest free address, skipping network, gateway, broadcast and used ones', () => {
  const pool = poolFromConfig({ Subnet: '10.9.0.0/29' });
  assert.equal(formatIPv4(pool.gateway), '10.9.0.1');
  assert.equal(formatIPv4(allocate(pool, new Set())), '10.9.0.2');
  assert.equal(formatIPv4(allocate(pool, new Set([ip('10.9.0.2'), ip('10.9.0.3')]))), '10.9.0.4');
  const full = new Set(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6'].map(ip));
  assert.throws(() => allocate(pool, full), (e: unknown) => e instanceof BerthError && e.message === 'no available addresses on this pool');
});

test('IPAM: --ip-range limits dynamic addresses, --ip is claimed anywhere in the subnet', () => {
  const pool = poolFromConfig({ Subnet: '172.28.0.0/16', IPRange: '172.28.5.0/24', Gateway: '172.28.5.254' });
  assert.equal(formatIPv4(allocate(pool, new Set())), '172.28.5.0');
  assert.equal(formatIPv4(claim(pool, '172.28.0.9', new Set())), '172.28.0.9');
  const cases: Array<[string, string]> = [
    ['172.28.5.254', 'Address already in use'],
    ['172.28.0.0', 'Address already in use'],
    ['172.29.0.1', 'no configured subnet contains IP address 172.29.0.1'],
    ['bogus', 'invalid IPv4 address: bogus'],
  ];
  for (const [addr, msg] of cases) assert.throws(() => claim(pool, addr, new Set()), { message: msg }, addr);
  assert.throws(() => claim(pool, '172.28.0.9', new Set([ip('172.28.0.9')])), { message: 'Address already in use' });
  assert.deepEqual(poolConfig(pool), { Subnet: '172.28.0.0/16', IPRange: '172.28.5.0/24', Gateway: '172.28.5.254' });
});

test('IPAM: auxiliary addresses are kept in the config and never handed out', () => {
  const cfg = { Subnet: '10.9.1.0/29', Gateway: '10.9.1.1', AuxiliaryAddresses: { router: '10.9.1.2', printer: '10.9.1.3' } };
  const pool = poolFromConfig(cfg);
  assert.equal(formatIPv4(allocate(pool, new Set())), '10.9.1.4');
  assert.throws(() => claim(pool, '10.9.1.3', new Set()), { message: 'Address already in use' });
  // What inspect shows is what the pool is rebuilt from later.
  assert.deepEqual(poolConfig(pool), cfg);
  assert.deepEqual(poolConfig(poolFromConfig(poolConfig(pool))), cfg);
  // The CLI's --aux-address arrives as AuxAddress; none at all leaves the key out.
  assert.deepEqual(poolConfig(poolFromConfig({ Subnet: '10.9.1.0/29', AuxAddress: { a: '10.9.1.5' } })).AuxiliaryAddresses, { a: '10.9.1.5' });
  assert.equal('AuxiliaryAddresses' in poolConfig(poolFromConfig({ Subnet: '10.9.1.0/29', AuxiliaryAddresses: {} })), false);
});

test('IPAM config validation has Docker’s messages', () => {
  const cases: Array<[Parameters<typeof poolFromConfig>[0], string]> = [
    [{ Subnet: '192.168.0.1/16' }, 'invalid network config:\ninvalid subnet 192.168.0.1/16: it should be 192.168.0.0/16'],
    [{ Subnet: 'nonsense' }, 'invalid network config:\ninvalid subnet nonsense'],
    [{ Subnet: '10.0.0.0/24', Gateway: '10.0.1.1' }, "invalid network config:\ninvalid gateway 10.0.1.1: parent subnet 10.0.0.0/24 doesn't contain this address"],
    [{ Subnet: '10.0.0.0/24', IPRange: '10.0.0.0/16' }, 'invalid network config:\ninvalid ip-range 10.0.0.0/16: CIDR block is bigger than its parent subnet 10.0.0.0/24'],
    [{ Subnet: '10.0.0.0/24', IPRange: '10.0.1.0/28' }, "invalid network config:\ninvalid ip-range 10.0.1.0/28: parent subnet 10.0.0.0/24 doesn't contain ip-range"],
    [{ Subnet: '10.0.0.0/24', IPRange: '10.0.0.1/28' }, 'invalid network config:\ninvalid ip-range 10.0.0.1/28: it should be 10.0.0.0/28'],
  ];
  for (const [cfg, msg] of cases) assert.throws(() => poolFromConfig(cfg), { message: msg }, JSON.stringify(cfg));
});

test('MAC addresses are derived from the IPv4 address', () => {
  assert.equal(macForAddress(ip('172.17.0.2')), '02:42:ac:11:00:02');
  assert.equal(macForAddress(ip('192.168.255.254')), '02:42:c0:a8:ff:fe');
});

test('address pools: Docker defaults, daemon.json pools, bip, fixed-cidr', () => {
  assert.equal(formatPrefix(DOCKER_DEFAULT_POOLS[0]!.base), '172.17.0.0/16');
  assert.equal(DOCKER_DEFAULT_POOLS.length, 16);
  assert.equal(formatPrefix(pickSubnet(DOCKER_DEFAULT_POOLS, [])!), '172.17.0.0/16');
  // a real dockerd's docker0 holds 172.17: the next one is taken
  assert.equal(formatPrefix(pickSubnet(DOCKER_DEFAULT_POOLS, [p('172.17.0.0/16')])!), '172.18.0.0/16');
  // a LAN route inside the pool skips the whole block it overlaps
  assert.equal(formatPrefix(pickSubnet(DOCKER_DEFAULT_POOLS, [p('172.16.0.0/12')])!), '192.168.0.0/20');
  const pools = parseAddressPools([{ base: '10.10.0.0/16', size: 24 }]);
  assert.equal(formatPrefix(pickSubnet(pools, [p('10.10.0.0/24'), p('10.10.1.0/24')])!), '10.10.2.0/24');
  assert.equal(pickSubnet(parseAddressPools([{ base: '10.10.0.0/24', size: 24 }]), [p('10.0.0.0/8')]), null);
  assert.equal(parseAddressPools(undefined), DOCKER_DEFAULT_POOLS);
  for (const bad of ['x', [{ base: 'nope', size: 24 }], [{ base: '10.0.0.0/16', size: 8 }], [{ base: '10.0.0.0/16' }]]) {
    assert.throws(() => parseAddressPools(bad), /default-address-pools/, JSON.stringify(bad));
  }
  const bip = parseBip('172.18.42.1/16')!;
  assert.equal(formatPrefix(bip.subnet), '172.18.0.0/16');
  assert.equal(formatIPv4(bip.gateway), '172.18.42.1');
  assert.equal(parseBip(undefined), null);
  assert.throws(() => parseBip('172.18.0.0/16'), /network address/);
  assert.throws(() => parseBip('172.18.42.1'), /invalid address/);
  assert.equal(formatPrefix(parseFixedCidr('172.18.5.0/24')!), '172.18.5.0/24');
  assert.throws(() => parseFixedCidr('x'), /fixed-cidr/);
});

test('host routes from /proc/net/route, default route left out', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    '',
  ].join('\n');
  const routes = parseProcRoutes(text).map((r) => `${r.iface} ${formatPrefix(r.prefix)}`);
  assert.deepEqual(routes, ['eth0 192.0.2.0/24', 'docker0 172.17.0.0/16']);
  assert.deepEqual(parseProcRoutes(''), []);
});
