import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { TestDaemon } from '../helpers/daemon.js';
import { rulesMentioning } from '../helpers/network.js';

// Shared by the network integration tests. They only ever talk to loopback, to the
// addresses of bridges their own daemon made, and to containers on those bridges.

export const HTTPD = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];

// A port nothing listens on right now (the kernel's pick), for -p HOST:CTR.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port: 0, host: '0.0.0.0' }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// Poll until `fn` gives a value or the deadline passes (a real condition, no fixed sleeps).
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// One HTTP GET over a plain socket (busybox httpd speaks HTTP/1.0 and closes).
export function httpGet(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let data = '';
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')));
    sock.on('connect', () => sock.write(`GET / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('error', reject);
    sock.on('close', () => {
      const i = data.indexOf('\r\n\r\n');
      if (!data.startsWith('HTTP/1') || i < 0) reject(new Error(`bad reply: ${JSON.stringify(data.slice(0, 80))}`));
      else resolve(data.slice(i + 4));
    });
  });
}

export function waitHttp(host: string, port: number): Promise<string> {
  return waitFor(`http://${host}:${port}/`, () => httpGet(host, port, 2000));
}

export function udpExchange(host: string, port: number, payload: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('udp timeout'));
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m.toString());
    });
    s.send(payload, port, host);
  });
}

// A UDP echo server inside a container's network namespace (busybox has no UDP server):
// the host's node, entered into the netns only, answering "echo:<payload>".
export async function udpEchoInside(pid: number, port: number): Promise<ChildProcess> {
  const code = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('echo:'+m,r.port,r.address));s.bind(${port},'0.0.0.0',()=>console.log('ready'));`;
  const child = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`udp echo exited ${c}`)));
  });
  return child;
}

export async function inspect(d: TestDaemon, ref: string, cli: 'berth' | 'docker' = 'berth'): Promise<Record<string, any>> {
  const r = await d.run(['inspect', ref], { cli });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout)[0];
}

export async function ok(d: TestDaemon, args: string[], cli: 'berth' | 'docker' = 'berth'): Promise<string> {
  const r = await d.run(args, { cli });
  assert.equal(r.code, 0, `${cli} ${args.join(' ')}: ${r.stderr}\n${d.log.slice(-2000)}`);
  return r.stdout;
}

export async function daemonBridge(d: TestDaemon): Promise<string> {
  const cfg = JSON.parse(await readFile(`${d.dir}/daemon.json`, 'utf8')) as { bridge: string };
  return cfg.bridge;
}

// The veths enslaved to a bridge right now.
export async function bridgePorts(bridge: string): Promise<string[]> {
  return readdir(`/sys/class/net/${bridge}/brif`).catch(() => []);
}

// After containers and the network are gone: no bridge, no veth, no rule of ours.
export async function assertNothingLeft(bridge: string, veths: readonly string[], containerIps: readonly string[]): Promise<void> {
  await waitFor('veths to go', async () => veths.every((v) => !existsSync(`/sys/class/net/${v}`)));
  assert.ok(!existsSync(`/sys/class/net/${bridge}`), `bridge ${bridge} is still there`);
  assert.deepEqual(rulesMentioning([bridge]), [], 'iptables rules naming the bridge');
  const { execFileSync } = await import('node:child_process');
  const saved = execFileSync('iptables-save', [], { encoding: 'utf8' });
  for (const ip of containerIps) assert.ok(!saved.includes(`${ip}:`) && !saved.includes(`${ip}/32`), `a rule still names ${ip}`);
}

// A /24 in 198.18.0.0/15 (the benchmarking block) that nothing routes, for --subnet.
export async function unusedSubnet(): Promise<string> {
  const routes = await readFile('/proc/net/route', 'utf8');
  for (;;) {
    const n = randomInt(256);
    const hex = `${n.toString(16).padStart(2, '0')}12C6`.toUpperCase(); // 198.18.n.0 as /proc/net/route prints it
    if (!routes.toUpperCase().includes(`00${hex}`)) return `198.18.${n}.0/24`;
  }
}
