import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { PortPublisher } from '../../src/network/port-publisher.js';
import type { Iptables } from '../../src/network/iptables.js';
import type { Rule } from '../../src/network/iptables-rules.js';
import { expandPortRequests } from '../../src/network/port-bindings.js';

// The publisher against loopback only: real sockets, a fake iptables that records rules.
function fakeIptables(): { ipt: Iptables; added: Rule[]; deleted: Rule[] } {
  const added: Rule[] = [];
  const deleted: Rule[] = [];
  const ipt = { enabled: true, add: async (r: Rule[]) => void added.push(...r), delete: async (r: Rule[]) => void deleted.push(...r) } as unknown as Iptables;
  return { ipt, added, deleted };
}

const input = (id: string, bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>, containerIp = '127.0.0.1') => ({
  containerId: id, endpointName: id, endpointId: `${id}-ep`, bridge: 'brtest', containerIp,
  requests: expandPortRequests({}, bindings, false, false),
});

test('a host port is held by one container; a clash gets Docker’s messages; unpublish frees it', async () => {
  const { ipt, added, deleted } = fakeIptables();
  const pub = new PortPublisher(ipt);
  const [p] = await pub.publish(input('a', { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }));
  assert.ok(p && p.hostPort > 0 && p.hostIp === '127.0.0.1');
  assert.deepEqual(added, [], 'no DNAT for loopback: the proxy serves it');
  await assert.rejects(
    pub.publish(input('b', { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(p.hostPort) }] })),
    { message: `failed to set up container networking: driver failed programming external connectivity on endpoint b (b-ep): Bind for 127.0.0.1:${p.hostPort} failed: port is already allocated` },
  );
  // a wildcard binding clashes with a specific one on the same port
  await assert.rejects(pub.publish(input('c', { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(p.hostPort) }] })), /port is already allocated/);
  const foreign = createServer();
  await new Promise<void>((r) => foreign.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  const taken = (foreign.address() as { port: number }).port;
  try {
    await assert.rejects(
      pub.publish(input('d', { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(taken) }] })),
      { message: new RegExp(`failed to bind host port for 127\\.0\\.0\\.1:${taken}:127\\.0\\.0\\.1:80/tcp: address already in use$`) },
    );
    // a range skips the taken port
    const [r] = await pub.publish(input('e', { '81/tcp': [{ HostIp: '127.0.0.1', HostPort: `${taken}-${taken + 5}` }] }));
    assert.ok(r!.hostPort > taken && r!.hostPort <= taken + 5);
    await pub.unpublish('e');
  } finally {
    foreign.close();
  }
  await pub.unpublish('a');
  const again = await pub.publish(input('b', { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(p.hostPort) }] }));
  assert.equal(again[0]!.hostPort, p.hostPort);
  await pub.unpublish('b');
  await pub.unpublish('nobody');
  assert.equal(deleted.length, 0);
});

test('the proxy relays TCP to the container address, half-close included', async () => {
  const { ipt } = fakeIptables();
  const pub = new PortPublisher(ipt);
  const backend = createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => s.end(`echo:${got}`));
  });
  await new Promise<void>((r) => backend.listen({ port: 0, host: '127.0.0.1' }, () => r()));
  const bport = (backend.address() as { port: number }).port;
  try {
    const ports = await pub.publish({ ...input('t', {}), requests: [{ key: `${bport}/tcp`, proto: 'tcp', containerPort: bport, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 }] });
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port: ports[0]!.hostPort, allowHalfOpen: true });
      let out = '';
      c.on('data', (d) => (out += d));
      c.on('end', () => resolve(out));
      c.on('error', reject);
      c.end('hello');
    });
    assert.equal(reply, 'echo:hello');
  } finally {
    await pub.unpublish('t');
    backend.close();
  }
});

test('DNAT rules for non-loopback bindings, removed on unpublish', async () => {
  const { ipt, added, deleted } = fakeIptables();
  const pub = new PortPublisher(ipt);
  // 0.0.0.0 with a random port: the rules name the port the kernel picked
  const [p] = await pub.publish(input('w', { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] }, '10.88.0.2'));
  assert.equal(added.length, 3);
  assert.match(added[0]!.spec, new RegExp(`--dport ${p!.hostPort} -j DNAT --to-destination 10\\.88\\.0\\.2:8080$`));
  assert.deepEqual(pub.rules(), added);
  await pub.unpublish('w');
  assert.deepEqual(deleted, added);
  assert.deepEqual(pub.rules(), []);
});

test('one container port bound twice on the same address gets two host ports', async () => {
  const { ipt } = fakeIptables();
  const pub = new PortPublisher(ipt);
  const any = { HostIp: '127.0.0.1', HostPort: '' };
  try {
    const ports = await pub.publish(input('twice', { '83/tcp': [any, any] }));
    assert.equal(ports.length, 2);
    assert.notEqual(ports[0]!.hostPort, ports[1]!.hostPort);
  } finally {
    await pub.unpublish('twice');
  }
});
