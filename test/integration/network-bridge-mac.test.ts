import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ensureBridge, deleteLink } from '../../src/network/links.js';

// A bridge must keep one MAC while ports come and go: otherwise every container start or
// stop can change it, and the other containers' cached gateway MAC (their DNS server's)
// goes stale for seconds.

const sys = (name: string, f: string): string => readFileSync(`/sys/class/net/${name}/${f}`, 'utf8').trim();

test('ensureBridge gives a new bridge a fixed 02:42 MAC that survives a port joining', async (t) => {
  const name = `bm${randomBytes(4).toString('hex')}`;
  const veth = `${name}v`;
  t.after(async () => {
    await deleteLink(veth).catch(() => {});
    await deleteLink(name).catch(() => {});
  });
  await ensureBridge({ name, address: '198.51.100.1/30', mtu: 1500 });
  const mac = sys(name, 'address');
  assert.match(mac, /^02:42:([0-9a-f]{2}:){3}[0-9a-f]{2}$/);
  assert.equal(sys(name, 'addr_assign_type'), '3');
  // A port with a lower MAC would become the bridge's address if it had not been set.
  execFileSync('ip', ['link', 'add', veth, 'address', '00:00:5e:00:53:01', 'type', 'veth', 'peer', 'name', `${name}p`]);
  execFileSync('ip', ['link', 'set', veth, 'master', name, 'up']);
  assert.equal(sys(name, 'address'), mac);
});

test('ensureBridge fixes the MAC of a bridge left by an earlier run without one', async (t) => {
  const name = `bm${randomBytes(4).toString('hex')}`;
  t.after(() => deleteLink(name).catch(() => {}));
  execFileSync('ip', ['link', 'add', 'name', name, 'type', 'bridge']);
  assert.notEqual(sys(name, 'addr_assign_type'), '3');
  await ensureBridge({ name, address: '198.51.100.5/30', mtu: 1500 });
  assert.equal(sys(name, 'addr_assign_type'), '3');
  assert.match(sys(name, 'address'), /^02:42:/);
  const ips = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'dev', name], { encoding: 'utf8' });
  assert.match(ips, /198\.51\.100\.5\/30/);
});
