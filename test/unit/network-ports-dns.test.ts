import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBinding, expandPortRequests, parsePortKey, portMapFor } from '../../src/network/port-bindings.js';
import {
  buildResponse, encodeName, ipv4Data, parseQuery, reverseName, RCODE_NOERROR, TYPE_A, TYPE_AAAA, TYPE_PTR,
} from '../../src/network/dns-message.js';
import { EmbeddedDns, type DnsBackend } from '../../src/network/dns-server.js';

test('port requests: -p forms, -P, ranges and IPv6', () => {
  const r = expandPortRequests(
    { '80/tcp': {}, '443/tcp': {}, '53/udp': {} },
    { '80/tcp': [{ HostIp: '', HostPort: '4000' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }], '9000/tcp': [{ HostIp: '', HostPort: '8000-8010' }] },
    false,
    true,
  );
  assert.deepEqual(
    r.map((x) => `${x.key} ${x.hostIp} ${x.hostPortStart}-${x.hostPortEnd}`),
    ['53/udp 127.0.0.1 5353-5353', '80/tcp 0.0.0.0 4000-4000', '80/tcp :: 4000-4000', '9000/tcp 0.0.0.0 8000-8010', '9000/tcp :: 8000-8010'],
  );
  // -P: every exposed port without a binding gets a random host port
  const all = expandPortRequests({ '80/tcp': {}, '443/tcp': {} }, {}, true, false);
  assert.deepEqual(all.map((x) => `${x.key} ${x.hostIp} ${x.hostPortStart}`), ['443/tcp 0.0.0.0 0', '80/tcp 0.0.0.0 0']);
  // exposed only: nothing to bind
  assert.deepEqual(expandPortRequests({ '80/tcp': {} }, {}, false, true), []);
  assert.deepEqual(expandPortRequests({}, { '80/tcp': [{ HostIp: '[::1]', HostPort: '' }] }, false, true).map((x) => x.hostIp), ['::1']);
});

test('port requests: bad input', () => {
  const cases: Array<[Record<string, Array<{ HostIp: string; HostPort: string }>>, RegExp]> = [
    [{ '80/tcp': [{ HostIp: '', HostPort: 'abc' }] }, /invalid port specification: "abc"/],
    [{ '80/tcp': [{ HostIp: '', HostPort: '90-80' }] }, /invalid port specification/],
    [{ '80/tcp': [{ HostIp: '', HostPort: '70000' }] }, /invalid port specification/],
    [{ '80/tcp': [{ HostIp: 'not-an-ip', HostPort: '80' }] }, /invalid IP address: not-an-ip/],
    [{ '80/xyz': [{ HostIp: '', HostPort: '80' }] }, /invalid proto: xyz/],
    [{ '0/tcp': [{ HostIp: '', HostPort: '80' }] }, /invalid port specification: "0\/tcp"/],
  ];
  for (const [bindings, re] of cases) assert.throws(() => expandPortRequests({}, bindings, false, false), re, JSON.stringify(bindings));
  assert.deepEqual(parsePortKey('8080'), { port: 8080, proto: 'tcp' });
});

test('inspect Ports: exposed ports null, published ones with their host side', () => {
  const map = portMapFor({ '80/tcp': {}, '443/tcp': {} }, [
    { key: '80/tcp', hostIp: '0.0.0.0', hostPort: 4000 },
    { key: '80/tcp', hostIp: '::', hostPort: 4000 },
  ]);
  assert.deepEqual(map, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '4000' }, { HostIp: '::', HostPort: '4000' }], '443/tcp': null });
  assert.equal(describeBinding('::', 4000, '172.17.0.2', 80, 'tcp'), '[::]:4000:172.17.0.2:80/tcp');
});

function query(name: string, type: number, id = 0x1234): Buffer {
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

test('DNS wire format: questions in, answers out', () => {
  const q = parseQuery(query('Web.MyNet', TYPE_A))!;
  assert.equal(q.name, 'web.mynet');
  assert.equal(q.type, TYPE_A);
  assert.equal(q.id, 0x1234);
  const msg = query('web', TYPE_A);
  const reply = buildResponse(msg, parseQuery(msg)!, RCODE_NOERROR, [{ type: TYPE_A, ttl: 600, data: ipv4Data('10.0.0.7') }]);
  assert.equal(reply.readUInt16BE(0), 0x1234);
  assert.equal(reply.readUInt16BE(2) & 0x8000, 0x8000); // a response
  assert.equal(reply.readUInt16BE(2) & 0x0100, 0x0100); // RD copied
  assert.equal(reply.readUInt16BE(6), 1); // one answer
  assert.deepEqual([...reply.subarray(reply.length - 4)], [10, 0, 0, 7]);
  for (const bad of [Buffer.alloc(3), Buffer.concat([query('x', 1).subarray(0, 12), Buffer.from([5, 0x61])]), Buffer.from(reply)]) {
    assert.equal(parseQuery(bad), null);
  }
  assert.equal(reverseName('2.0.17.172.in-addr.arpa'), '172.17.0.2');
  assert.equal(reverseName('example.com'), null);
});

test('embedded DNS: container names answered locally, strangers refused, the rest forwarded', async () => {
  const forwarded: string[] = [];
  const backend: DnsBackend = {
    lookup: (src, name) => (src !== '10.0.0.2' ? 'stranger' : name === 'web' ? ['10.0.0.3', '10.0.0.4'] : null),
    reverse: (src, ip) => (ip === '10.0.0.3' ? 'web.mynet' : null),
    upstreams: async (src) => {
      forwarded.push(src);
      return []; // nowhere to forward: SERVFAIL, and no packet leaves the machine
    },
  };
  const dns = new EmbeddedDns(backend);
  const a = (await dns.answer(query('web', TYPE_A), '10.0.0.2'))!;
  assert.equal(a.readUInt16BE(6), 2);
  assert.equal(a.readUInt16BE(2) & 0xf, 0);
  const aaaa = (await dns.answer(query('web', TYPE_AAAA), '10.0.0.2'))!;
  assert.equal(aaaa.readUInt16BE(6), 0, 'AAAA for a container: empty answer, not forwarded');
  assert.equal(aaaa.readUInt16BE(2) & 0xf, 0);
  const ptr = (await dns.answer(query('3.0.0.10.in-addr.arpa', TYPE_PTR), '10.0.0.2'))!;
  assert.equal(ptr.readUInt16BE(6), 1);
  assert.ok(ptr.includes(encodeName('web.mynet')));
  const stranger = (await dns.answer(query('web', TYPE_A), '10.9.9.9'))!;
  assert.equal(stranger.readUInt16BE(2) & 0xf, 5);
  const other = (await dns.answer(query('example.invalid', TYPE_A), '10.0.0.2'))!;
  assert.equal(other.readUInt16BE(2) & 0xf, 2);
  assert.deepEqual(forwarded, ['10.0.0.2']);
  assert.equal(await dns.answer(Buffer.from('junk'), '10.0.0.2'), null);
});
