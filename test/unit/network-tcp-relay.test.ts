// The userland proxy's TCP relay (src/network/tcp-relay.ts): it reuses one read buffer per
// direction, so these tests push more data than any socket buffer holds through slow readers
// (writes queue, reading must stop) and many connections at once, and check every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { startProxy, type Proxy } from '../../src/network/port-proxy.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve((server.address() as { port: number }).port)));
}

// Reads everything, pausing a little after each chunk so that the sender's queue fills up.
function slowRead(s: Socket, delayMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => {
      parts.push(d);
      if (delayMs > 0) {
        s.pause();
        setTimeout(() => s.resume(), delayMs);
      }
    });
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

async function withProxy(backend: Server, body: (proxy: Proxy) => Promise<void>): Promise<void> {
  const bport = await listen(backend);
  const proxy = await startProxy('tcp', '127.0.0.1', 0, { host: '127.0.0.1', port: bport });
  try {
    await body(proxy);
  } finally {
    await proxy.close();
    await new Promise<void>((r) => backend.close(() => r()));
  }
}

test('upload: every byte reaches a slow backend, in order', async () => {
  const data = randomBytes(24 << 20);
  const backend = createServer({ allowHalfOpen: true }, (s) => {
    slowRead(s, 1).then((got) => s.end(`${got.length} ${sha(got)}`), () => s.destroy());
  });
  await withProxy(backend, async (proxy) => {
    const c = connect({ host: '127.0.0.1', port: proxy.hostPort, allowHalfOpen: true });
    const answer = slowRead(c, 0);
    c.end(data);
    assert.equal((await answer).toString(), `${data.length} ${sha(data)}`);
  });
});

test('download: every byte reaches a slow client, in order', async () => {
  const data = randomBytes(24 << 20);
  const backend = createServer((s) => s.end(data));
  await withProxy(backend, async (proxy) => {
    const got = await slowRead(connect({ host: '127.0.0.1', port: proxy.hostPort }), 1);
    assert.equal(got.length, data.length);
    assert.equal(sha(got), sha(data));
  });
});

test('many connections at once never see each other’s bytes', async () => {
  // The backend echoes; each client sends its own pattern and checks what comes back.
  const backend = createServer({ allowHalfOpen: true }, (s) => s.pipe(s));
  await withProxy(backend, async (proxy) => {
    const one = async (i: number): Promise<void> => {
      const data = Buffer.alloc((1 << 20) + i * 4099, i + 1);
      const c = connect({ host: '127.0.0.1', port: proxy.hostPort, allowHalfOpen: true });
      const back = slowRead(c, i % 3);
      c.end(data);
      const got = await back;
      assert.equal(got.length, data.length, `connection ${i}`);
      assert.ok(got.equals(data), `connection ${i} got foreign bytes`);
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => one(i)));
  });
});

test('half-close each way: the backend answers after the client’s end, and the client sees the end', async () => {
  const backend = createServer({ allowHalfOpen: true }, (s) => {
    let got = '';
    s.on('data', (d) => (got += d));
    s.on('end', () => s.end(`got ${got}`));
  });
  await withProxy(backend, async (proxy) => {
    const c = connect({ host: '127.0.0.1', port: proxy.hostPort, allowHalfOpen: true });
    const answer = slowRead(c, 0);
    c.write('one ');
    c.end('two');
    assert.equal((await answer).toString(), 'got one two');
  });
});

test('nobody listening behind the proxy: the client’s connection is closed, not left hanging', async () => {
  // A port that was free a moment ago: connections to it are refused.
  const probe = createServer();
  const dead = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));
  const proxy = await startProxy('tcp', '127.0.0.1', 0, { host: '127.0.0.1', port: dead });
  try {
    const c = connect({ host: '127.0.0.1', port: proxy.hostPort });
    c.on('error', () => {}); // a reset is fine too
    c.write('anyone?');
    await new Promise((r) => c.once('close', r));
  } finally {
    await proxy.close();
  }
});

test('close() ends open connections and frees the port', async () => {
  const backend = createServer(() => {}); // accepts, never answers
  const bport = await listen(backend);
  const proxy = await startProxy('tcp', '127.0.0.1', 0, { host: '127.0.0.1', port: bport });
  const accepted = new Promise((r) => backend.once('connection', r));
  const c = connect({ host: '127.0.0.1', port: proxy.hostPort });
  c.on('error', () => {});
  await accepted;
  const closed = new Promise((r) => c.once('close', r));
  await proxy.close();
  await closed;
  // The port can be bound again.
  const again = createServer();
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen({ host: '127.0.0.1', port: proxy.hostPort }, () => resolve());
  });
  await new Promise<void>((r) => again.close(() => r()));
  backend.close();
});
