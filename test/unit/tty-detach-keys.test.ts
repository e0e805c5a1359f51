import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DetachScanner, parseDetachKeys } from '../../src/api/detach-keys.js';
import { EscapeDetector, detachKeysToBytes } from '../../src/cli/hijack.js';
import { loadClientConfig } from '../../src/cli/context.js';
import { buildSpec, type HostInfo } from '../../src/runtime/oci-spec.js';
import type { SpecInput } from '../../src/runtime/types.js';

// moby/term ToBytes, as the daemon (400 "Invalid detach keys") and the CLI ("Unknown
// character") apply it.
const keyCases: Array<{ spec: string; want: number[] | null }> = [
  { spec: 'ctrl-p,ctrl-q', want: [16, 17] },
  { spec: 'ctrl-a,x', want: [1, 120] },
  { spec: 'ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_', want: [0, 27, 28, 29, 30, 31] },
  { spec: 'ctrl-z', want: [26] },
  { spec: 'DEL', want: [127] },
  { spec: 'A,,', want: null }, // an empty key is no key
  { spec: 'X', want: [88] }, // single characters keep their case
  { spec: ',', want: null },
  { spec: 'ctrl-P', want: null }, // Go compares case-sensitively
  { spec: 'ctrl-1', want: null },
  { spec: 'ctrl-', want: null },
  { spec: 'ctrl-ab', want: null },
  { spec: 'ab', want: null },
  { spec: ' ctrl-p', want: null }, // no trimming
  { spec: 'del', want: null },
  { spec: 'é', want: null }, // two bytes
];

test('detach keys: the daemon parses them as moby does', () => {
  assert.deepEqual(parseDetachKeys(null), [16, 17]);
  assert.deepEqual(parseDetachKeys(''), [16, 17]);
  for (const c of keyCases) {
    if (c.want) assert.deepEqual(parseDetachKeys(c.spec), c.want, c.spec);
    else assert.throws(() => parseDetachKeys(c.spec), { message: `Invalid detach keys (${c.spec}) provided` }, c.spec);
  }
});

test('detach keys: the CLI parses them the same way', () => {
  for (const c of keyCases) {
    if (c.want) assert.deepEqual([...detachKeysToBytes(c.spec)], c.want, c.spec);
    else assert.throws(() => detachKeysToBytes(c.spec), /^Error: Unknown character: '/, c.spec);
  }
});

// One table for both scanners: chunks in, bytes forwarded and whether it detached.
const scanCases: Array<{ name: string; keys: number[]; chunks: number[][]; out: number[]; detached: boolean }> = [
  { name: 'plain bytes pass', keys: [16, 17], chunks: [[97, 98]], out: [97, 98], detached: false },
  { name: 'the sequence in one read', keys: [16, 17], chunks: [[16, 17]], out: [], detached: true },
  { name: 'the sequence split over reads', keys: [16, 17], chunks: [[16], [17]], out: [], detached: true },
  { name: 'bytes before the sequence still go out', keys: [16, 17], chunks: [[97, 16, 17, 98]], out: [97], detached: true },
  { name: 'a partial match is released on a mismatch', keys: [16, 17], chunks: [[16], [120]], out: [16, 120], detached: false },
  { name: 'a lone ctrl-p at the end is held', keys: [16, 17], chunks: [[97, 16]], out: [97], detached: false },
  { name: 'the byte that broke a match starts a new one', keys: [16, 17], chunks: [[16, 16, 17]], out: [16], detached: true },
  { name: 'a one-key sequence', keys: [24], chunks: [[1, 24]], out: [1], detached: true },
  { name: 'three keys, broken at the last', keys: [1, 2, 3], chunks: [[1, 2], [4]], out: [1, 2, 4], detached: false },
  { name: 'mismatch after a match in the middle of a read', keys: [16, 17], chunks: [[120, 16, 121, 16, 17]], out: [120, 16, 121], detached: true },
];

function runScan(scan: (b: Buffer) => { data: Buffer; detached: boolean }, chunks: number[][]): { out: number[]; detached: boolean } {
  const out: number[] = [];
  for (const c of chunks) {
    const r = scan(Buffer.from(c));
    out.push(...r.data);
    if (r.detached) return { out, detached: true };
  }
  return { out, detached: false };
}

test('detach scanning: daemon side', () => {
  for (const c of scanCases) {
    const s = new DetachScanner(c.keys);
    assert.deepEqual(runScan((b) => s.scan(b), c.chunks), { out: c.out, detached: c.detached }, c.name);
  }
});

test('detach scanning: CLI side', () => {
  for (const c of scanCases) {
    const d = new EscapeDetector(Buffer.from(c.keys));
    assert.deepEqual(runScan((b) => d.scan(b), c.chunks), { out: c.out, detached: c.detached }, c.name);
  }
  // No keys: nothing is ever held.
  assert.deepEqual(new EscapeDetector(Buffer.alloc(0)).scan(Buffer.from([16, 17])), { data: Buffer.from([16, 17]), detached: false });
});

test('client config: ~/.berth overrides ~/.docker; an explicit directory is read alone', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'berth-tty-conf-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  await mkdir(join(home, '.docker'));
  await mkdir(join(home, '.berth'));
  await mkdir(join(home, 'explicit'));
  await writeFile(join(home, '.docker', 'config.json'), JSON.stringify({ detachKeys: 'ctrl-d,d', psFormat: 'table {{.ID}}' }));
  assert.deepEqual(loadClientConfig({ hosts: [], debug: false }, { HOME: home }), { detachKeys: 'ctrl-d,d', psFormat: 'table {{.ID}}' });
  await writeFile(join(home, '.berth', 'config.json'), JSON.stringify({ detachKeys: 'ctrl-b,b' }));
  assert.deepEqual(loadClientConfig({ hosts: [], debug: false }, { HOME: home }), { detachKeys: 'ctrl-b,b', psFormat: 'table {{.ID}}' });
  await writeFile(join(home, 'explicit', 'config.json'), JSON.stringify({ detachKeys: 'ctrl-e,e' }));
  assert.deepEqual(loadClientConfig({ hosts: [], debug: false }, { HOME: home, DOCKER_CONFIG: join(home, 'explicit') }), { detachKeys: 'ctrl-e,e' });
  assert.deepEqual(loadClientConfig({ hosts: [], debug: false, configDir: join(home, 'nowhere') }, { HOME: home }), {});
  // A broken file reads as empty, as a missing one does.
  await writeFile(join(home, '.berth', 'config.json'), '{not json');
  assert.deepEqual(loadClientConfig({ hosts: [], debug: false }, { HOME: home }), { detachKeys: 'ctrl-d,d', psFormat: 'table {{.ID}}' });
});

function specInput(over: Partial<SpecInput>): SpecInput {
  return {
    id: 'c1', rootfs: '/r', args: ['sh'], env: [], cwd: '/', user: '', hostname: 'h1', domainname: '',
    tty: true, readonlyRootfs: false, privileged: false, capAdd: [], capDrop: [], mounts: [],
    cgroupsPath: '/berth/c1', netns: { mode: 'new' }, shmSize: 0, groupAdd: [], ...over,
  };
}

test('HostConfig.ConsoleSize becomes process.consoleSize, only with a TTY and a real size', () => {
  const host: HostInfo = { boundingCaps: [], nofileLimit: 1024 };
  const cases: Array<{ over: Partial<SpecInput>; want: unknown }> = [
    { over: { consoleSize: [30, 100] }, want: { height: 30, width: 100 } },
    { over: { consoleSize: [30, 100], tty: false }, want: undefined },
    { over: { consoleSize: [0, 0] }, want: undefined },
    { over: { consoleSize: [30, 0] }, want: undefined },
    { over: { consoleSize: null }, want: undefined },
    { over: {}, want: undefined },
    { over: { consoleSize: [-1, 80] }, want: undefined },
    { over: { consoleSize: [2.5, 80] }, want: undefined },
    { over: { consoleSize: [99999, 80] }, want: { height: 65535, width: 80 } },
    { over: { consoleSize: { h: 1 } as unknown as [number, number] }, want: undefined },
  ];
  for (const c of cases) {
    const spec = buildSpec(specInput(c.over), host);
    assert.deepEqual(spec.process.consoleSize, c.want, JSON.stringify(c.over));
  }
});
