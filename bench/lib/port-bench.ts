// TCP through a published port, both engines side by side: bulk transfers and short
// connections, over the userland proxy (127.0.0.1) and over DNAT (a host address).
//
// Every engine runs one busybox container publishing three ports; the same client code in
// this process talks to both, and the measurements alternate engine by engine, so a change
// in the machine's load falls on both sides of every ratio.
import { performance } from 'node:perf_hooks';
import type { Client, Engine } from './engine.js';
import { engineCpuSeconds } from './proc.js';
import { summarize, type Summary } from './stats.js';
import { callClient, eachLive, mustCall, startAll, stopAll, type RunStatus, type Subject } from './subjects.js';
import { download, httpGet, retryUntil, upload, type Timed } from './tcp-client.js';

export type PathName = 'proxy' | 'dnat';
export type FigureName = 'upload' | 'download' | 'connect';
/** What the engine's own processes (daemon, proxies, monitors) spent meanwhile. */
export type CpuFigureName = `cpu-${FigureName}`;

export interface PortBenchConfig {
  /** MiB per bulk transfer. */
  mib: number;
  rounds: number;
  /** Sequential short HTTP requests per round and path. */
  requests: number;
  /** Where the DNAT path connects (a non-loopback address of this host); null skips it. */
  dnatAddress: string | null;
  progress: (line: string) => void;
  signal: AbortSignal;
}

export interface FigureResult {
  /**
   * Per round: MB/s (10^6 bytes) for transfers, connections per second for 'connect';
   * engine CPU seconds per GB for 'cpu-upload'/'cpu-download', CPU ms per connection for 'cpu-connect'.
   */
  samples: number[];
  summary: Summary;
}

export interface PathInfo {
  host: string;
  /** The client address the container saw (REMOTE_ADDR of a CGI): tells proxy from DNAT. */
  peer: string;
}

export interface PortEngineResult extends RunStatus {
  hostPorts: { http: number; sink: number; source: number } | null;
  gateway: string | null;
  paths: Partial<Record<PathName, PathInfo>>;
  figures: Partial<Record<`${FigureName | CpuFigureName}-${PathName}`, FigureResult>>;
  /** Every short request's whole time, connect to close, per path. */
  requestMs: Partial<Record<PathName, Summary>>;
}

interface PortSubject extends Subject<PortEngineResult> {
  container: { client: Client; id: string } | null;
  ports: { http: number; sink: number; source: number } | null;
  samples: Map<string, number[]>;
  requestSamples: Map<PathName, number[]>;
}

const CONTAINER_PORTS = { http: 80, sink: 81, source: 82 } as const;

// 80: busybox httpd with a tiny page and a CGI that prints the client's address.
// 81: a sink: dd reads to EOF, then writes its summary back, so the client knows it all arrived.
// 82: a source: the client says how many MiB, dd sends that many from /dev/zero.
// `nc -ll -e` forks a handler per connection and keeps listening. The nc's start before
// httpd, so by the time httpd answers they are (almost always) listening too.
export const SERVER_SCRIPT = [
  'mkdir -p /www/cgi-bin',
  'echo ok > /www/index.html',
  `printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $REMOTE_ADDR\\n' > /www/cgi-bin/peer`,
  'chmod +x /www/cgi-bin/peer',
  `nc -ll -p ${CONTAINER_PORTS.sink} -e sh -c 'exec dd of=/dev/null bs=1M 2>&1' &`,
  `nc -ll -p ${CONTAINER_PORTS.source} -e sh -c 'read n; exec dd if=/dev/zero bs=1M count=$n 2>/dev/null' &`,
  `exec httpd -f -p ${CONTAINER_PORTS.http} -h /www`,
].join('\n');

/** `port <id> 80/tcp` prints "0.0.0.0:32768" and, with IPv6, "[::]:32768": the IPv4 one. */
export function parseHostPort(portOutput: string): number | null {
  for (const line of portOutput.split('\n')) {
    const m = /^(?:0\.0\.0\.0|\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(line.trim());
    if (m) return Number(m[1]);
  }
  return null;
}

/** busybox httpd prints an IPv4 client as "[::ffff:198.18.7.1]". */
export function parsePeer(body: string): string {
  return body.trim().replace(/^\[(?:::ffff:)?/, '').replace(/\]$/, '');
}

const mbps = (t: Timed): number => t.bytes / 1e6 / (t.ms / 1000);

async function startServer(s: PortSubject, cfg: PortBenchConfig): Promise<void> {
  const client = s.engine.clients[0]!;
  const publish = Object.values(CONTAINER_PORTS).flatMap((p) => ['-p', String(p)]);
  const r = await mustCall(client, ['run', '-d', ...publish, 'busybox', 'sh', '-c', SERVER_SCRIPT], cfg.signal);
  const id = r.stdout.trim().split('\n').pop() ?? '';
  if (!/^[0-9a-f]{12,64}$/.test(id)) throw new Error(`${client.label}: run -d printed ${JSON.stringify(r.stdout)}, not an id`);
  s.container = { client, id };
  const ports: Record<string, number> = {};
  for (const [role, port] of Object.entries(CONTAINER_PORTS)) {
    const out = await mustCall(client, ['port', id, `${port}/tcp`], cfg.signal);
    const hostPort = parseHostPort(out.stdout);
    if (hostPort === null) throw new Error(`${client.label}: port ${id} ${port}/tcp printed ${JSON.stringify(out.stdout)}`);
    ports[role] = hostPort;
  }
  s.ports = { http: ports.http!, sink: ports.sink!, source: ports.source! };
  s.result.hostPorts = s.ports;
  const gw = await mustCall(client, ['inspect', '-f', '{{.NetworkSettings.Gateway}}', id], cfg.signal);
  s.result.gateway = gw.stdout.trim() || null;
}

function pathHosts(cfg: PortBenchConfig): [PathName, string][] {
  const out: [PathName, string][] = [['proxy', '127.0.0.1']];
  if (cfg.dnatAddress) out.push(['dnat', cfg.dnatAddress]);
  return out;
}

// Waits for all three servers on every path, records who the container sees as the client,
// and warns when a path is not what it is named for.
async function checkPaths(s: PortSubject, cfg: PortBenchConfig): Promise<void> {
  const p = s.ports!;
  for (const [path, host] of pathHosts(cfg)) {
    const peer = await retryUntil(`${s.engine.name} httpd via ${host}`, 30_000, async () => {
      const a = await httpGet(host, p.http, '/cgi-bin/peer');
      if (a.status !== 200) throw new Error(`HTTP ${a.status}`);
      return parsePeer(a.body);
    }, cfg.signal);
    s.result.paths[path] = { host, peer };
    await retryUntil(`${s.engine.name} sink via ${host}`, 10_000, () => upload(host, p.sink, 1), cfg.signal);
    await retryUntil(`${s.engine.name} source via ${host}`, 10_000, () => download(host, p.source, 1), cfg.signal);
  }
  // Through a proxy the container sees the proxy's connection, from the bridge's gateway;
  // through DNAT it sees the client's own address.
  const { proxy, dnat } = s.result.paths;
  if (proxy && proxy.peer === cfg.dnatAddress) {
    s.result.notes.push(`127.0.0.1 reached the container from ${proxy.peer}: not through a userland proxy`);
  }
  if (dnat && dnat.peer !== cfg.dnatAddress) {
    s.result.notes.push(`${dnat.host} reached the container from ${dnat.peer}, not from ${dnat.host}: not DNAT (a proxy?)`);
  }
}

function record(s: PortSubject, key: string, value: number): void {
  const list = s.samples.get(key);
  if (list) list.push(value);
  else s.samples.set(key, [value]);
}

// Runs `work` and records what the engine's processes spent on it, scaled by `per`.
async function withCpu<T>(s: PortSubject, key: string, timed: boolean, work: () => Promise<T>, per: (t: T) => number): Promise<T> {
  const spec = await s.engine.processSpec();
  const before = timed ? await engineCpuSeconds(spec) : 0;
  const t = await work();
  if (timed) record(s, key, (await engineCpuSeconds(spec) - before) / per(t));
  return t;
}

async function requestBatch(s: PortSubject, path: PathName, host: string, n: number, timed: boolean): Promise<void> {
  const started = performance.now();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = await httpGet(host, s.ports!.http, '/index.html');
    if (a.status !== 200) throw new Error(`GET /index.html via ${host}: HTTP ${a.status}`);
    times.push(a.ms);
  }
  if (!timed) return;
  record(s, `connect-${path}`, n / ((performance.now() - started) / 1000));
  const all = s.requestSamples.get(path) ?? [];
  all.push(...times);
  s.requestSamples.set(path, all);
}

/** One round: every measurement once per engine, engines alternating on each. */
async function round(subjects: PortSubject[], cfg: PortBenchConfig, timed: boolean): Promise<void> {
  const mib = timed ? cfg.mib : Math.min(cfg.mib, 16);
  for (const [path, host] of pathHosts(cfg)) {
    for (const figure of ['upload', 'download'] as const) {
      await eachLive(subjects, async (s) => {
        if (cfg.signal.aborted) throw new Error('interrupted');
        const transfer = () => (figure === 'upload' ? upload(host, s.ports!.sink, mib) : download(host, s.ports!.source, mib));
        const t = await withCpu(s, `cpu-${figure}-${path}`, timed, transfer, (x) => x.bytes / 1e9);
        if (timed) record(s, `${figure}-${path}`, mbps(t));
      });
    }
  }
  for (const [path, host] of pathHosts(cfg)) {
    await eachLive(subjects, async (s) => {
      if (cfg.signal.aborted) throw new Error('interrupted');
      const n = timed ? cfg.requests : Math.min(cfg.requests, 20);
      await withCpu(s, `cpu-connect-${path}`, timed, () => requestBatch(s, path, host, n, timed), () => n / 1000);
    });
  }
}

export async function measurePorts(engines: readonly Engine[], cfg: PortBenchConfig): Promise<PortEngineResult[]> {
  const subjects: PortSubject[] = engines.map((engine) => ({
    engine,
    live: true,
    container: null,
    ports: null,
    samples: new Map(),
    requestSamples: new Map(),
    result: {
      engine: engine.name, status: 'ok', notes: engine.notes,
      hostPorts: null, gateway: null, paths: {}, figures: {}, requestMs: {},
    },
  }));
  try {
    await startAll(subjects, cfg.progress);
    cfg.progress('starting the servers and checking both paths');
    await eachLive(subjects, (s) => startServer(s, cfg));
    await eachLive(subjects, (s) => checkPaths(s, cfg));
    cfg.progress('warm-up round');
    await round(subjects, cfg, false);
    for (let i = 0; i < cfg.rounds; i++) {
      cfg.progress(`round ${i + 1} of ${cfg.rounds}: ${cfg.mib} MiB up and down, ${cfg.requests} requests, per path and engine`);
      await round(subjects, cfg, true);
    }
    for (const s of subjects) {
      if (!s.live) continue;
      for (const [key, samples] of s.samples) {
        s.result.figures[key as keyof PortEngineResult['figures']] = { samples, summary: summarize(samples) };
      }
      for (const [path, samples] of s.requestSamples) s.result.requestMs[path] = summarize(samples);
    }
  } finally {
    for (const s of subjects) {
      if (!s.container) continue;
      const r = await callClient(s.container.client, ['rm', '-f', s.container.id]);
      if (r.code !== 0) s.result.notes.push(`cleanup: rm -f ${s.container.id} failed: ${r.stderr.trim()}`);
    }
    await stopAll(subjects);
  }
  return subjects.map((s) => s.result);
}
