// The pure parts of bench/port-throughput.ts: parsing what the engines print, the CPU
// counter, the bench's subnets, the client against a local server, and the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { freeSubnets } from '../../bench/lib/bench-network.js';
import { UsageError, parseEngineNames, positiveInt } from '../../bench/lib/harness.js';
import { parseHostPort, parsePeer, type PortEngineResult } from '../../bench/lib/port-bench.js';
import { renderPortReport } from '../../bench/lib/port-report.js';
import { parseCpuTicks } from '../../bench/lib/proc.js';
import { summarize } from '../../bench/lib/stats.js';
import { download, httpGet, upload } from '../../bench/lib/tcp-client.js';
import { contains, overlaps, parsePrefix } from '../../src/network/cidr.js';
import { hostRoutes } from '../../src/network/host-routes.js';

test('parseHostPort takes the IPv4 binding of `port <id> 80/tcp`', () => {
  const cases: [string, number | null][] = [
    ['0.0.0.0:32768\n[::]:32768\n', 32768],
    ['[::]:32769\n0.0.0.0:32769\n', 32769],
    ['127.0.0.1:8080\n', 8080],
    ['[::]:32768\n', null],
    ['', null],
    ['Error: No public port', null],
  ];
  for (const [text, want] of cases) assert.equal(parseHostPort(text), want, JSON.stringify(text));
});

test('parsePeer unwraps busybox httpd’s REMOTE_ADDR', () => {
  assert.equal(parsePeer('[::ffff:198.18.7.1]\n'), '198.18.7.1');
  assert.equal(parsePeer('192.0.2.2\n'), '192.0.2.2');
  assert.equal(parsePeer('[::1]'), '::1');
  assert.equal(parsePeer(''), '');
});

test('parseCpuTicks adds utime and stime, whatever comm holds', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  assert.equal(parseCpuTicks('42 (docker-proxy) S 1 42 42 0 -1 4194560 10 0 0 0 250 125 0 0 20 0'), 375);
  assert.equal(parseCpuTicks('7 (a b) c)) R 3 7 7 0 -1 0 0 0 0 0 1 2 0 0'), 3);
  for (const bad of ['', '7 (x) S 1', 'garbage']) assert.throws(() => parseCpuTicks(bad), bad);
});

test('option parsing: positive integers and engine lists', () => {
  assert.equal(positiveInt('mib', '256', 1), 256);
  for (const bad of ['0', '-1', '1.5', 'x', '']) assert.throws(() => positiveInt('mib', bad, 1), UsageError, bad);
  assert.deepEqual(parseEngineNames('docker, berth'), ['docker', 'berth']);
  assert.deepEqual(parseEngineNames('berth'), ['berth']);
  for (const bad of ['', ',', 'podman', 'docker,podman']) assert.throws(() => parseEngineNames(bad), UsageError, bad);
});

test('freeSubnets: distinct /24s of 198.18.0.0/15 that no route of this host covers', async () => {
  const block = parsePrefix('198.18.0.0/15')!;
  const routes = (await hostRoutes()).map((r) => r.prefix);
  const got = await freeSubnets(3);
  assert.equal(got.length, 3);
  for (const [i, p] of got.entries()) {
    assert.equal(p.bits, 24);
    assert.ok(contains(block, p.base));
    assert.ok(!routes.some((r) => overlaps(r, p)), `${p.base} is routed`);
    assert.ok(!got.some((q, j) => j !== i && overlaps(p, q)));
  }
});

// A local stand-in for the bench container's three servers.
async function fakeServers(t: { after: (fn: () => Promise<void>) => void }): Promise<{ http: number; sink: number; source: number }> {
  const servers: Server[] = [
    createServer((s) => {
      s.once('data', () => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\n\n[::ffff:10.0.0.1]\n'));
    }),
    createServer({ allowHalfOpen: true }, (s) => {
      s.resume();
      s.on('end', () => s.end('4+2976 records in\n4+2976 records out\n'));
    }),
    createServer((s) => {
      s.once('data', (d) => {
        const mib = Number(d.toString().trim());
        s.end(Buffer.alloc(mib * 1024 * 1024));
      });
    }),
  ];
  t.after(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
  });
  const ports = await Promise.all(
    servers.map((s) => new Promise<number>((r) => s.listen({ host: '127.0.0.1', port: 0 }, () => r((s.address() as { port: number }).port)))),
  );
  return { http: ports[0]!, sink: ports[1]!, source: ports[2]! };
}

test('the client: upload waits for the sink’s answer, download counts bytes, GET splits a CGI body', async (t) => {
  const p = await fakeServers(t);
  const up = await upload('127.0.0.1', p.sink, 3);
  assert.equal(up.bytes, 3 * 1024 * 1024);
  assert.ok(up.ms > 0);
  const down = await download('127.0.0.1', p.source, 2);
  assert.equal(down.bytes, 2 * 1024 * 1024);
  const get = await httpGet('127.0.0.1', p.http, '/cgi-bin/peer');
  assert.equal(get.status, 200);
  assert.equal(parsePeer(get.body), '10.0.0.1');
  // A server that closes without answering is an error, not a fast transfer.
  const mute = createServer((s) => s.destroy());
  const port = await new Promise<number>((r) => mute.listen({ host: '127.0.0.1', port: 0 }, () => r((mute.address() as { port: number }).port)));
  t.after(() => new Promise<void>((r) => mute.close(() => r())));
  await assert.rejects(upload('127.0.0.1', port, 1));
  await assert.rejects(download('127.0.0.1', port, 1));
  await assert.rejects(httpGet('127.0.0.1', port, '/'));
});

test('the table: medians side by side with berth/docker, and the notes', () => {
  const result = (engine: string, up: number[], cpu: number[]): PortEngineResult => ({
    engine, status: 'ok', notes: engine === 'berth' ? ['a note'] : [],
    hostPorts: { http: 1, sink: 2, source: 3 }, gateway: '198.18.7.1',
    paths: { proxy: { host: '127.0.0.1', peer: '198.18.7.1' } },
    figures: {
      'upload-proxy': { samples: up, summary: summarize(up) },
      'cpu-upload-proxy': { samples: cpu, summary: summarize(cpu) },
    },
    requestMs: { proxy: summarize([2, 4, 6]) },
  });
  const text = renderPortReport([result('docker', [400, 500, 600], [1, 1, 1]), result('berth', [200, 250, 300], [2, 2, 2])]);
  assert.match(text, /upload via 127\.0\.0\.1 \(proxy\)\s+500 MB\/s\s+400–600\s+250 MB\/s\s+200–300\s+0\.50 ×\s+higher is better/);
  assert.match(text, /engine CPU, upload\s+1\.00 s\/GB\s+1\.00–1\.00\s+2\.00 s\/GB\s+2\.00–2\.00\s+2\.00 ×\s+lower is better/);
  assert.match(text, /one request, median\s+4\.00 ms\s+4\.00 ms\s+1\.00 ×/);
  assert.match(text, /download via 127\.0\.0\.1 \(proxy\)\s+–\s+–\s+–/);
  assert.doesNotMatch(text, /DNAT/); // no DNAT figures: no DNAT rows
  assert.match(text, /berth: measured\n {2}ports 1\/2\/3 .*proxy 127\.0\.0\.1 seen as 198\.18\.7\.1\n {2}note: a note/);
});
