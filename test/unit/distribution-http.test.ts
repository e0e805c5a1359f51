import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { readBody, request } from '../../src/distribution/http.js';

// A server that answers one request per connection with keep-alive, then resets the
// connection when a second request arrives on it: what a registry that closed an idle
// connection looks like to the next request sent on it.
async function resettingServer(): Promise<{ url: URL; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let served = 0;
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (served++ > 0) {
          sock.resetAndDestroy();
          return;
        }
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/v2/`),
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test('a GET on a kept-alive connection the server reset is sent again on a new one', async (t) => {
  const srv = await resettingServer();
  t.after(() => srv.close());
  for (let i = 0; i < 3; i++) {
    const res = await request({ method: 'GET', url: srv.url, headers: {} });
    assert.equal(res.statusCode, 200);
    assert.equal((await readBody(res)).toString(), 'ok');
  }
  assert.equal(srv.connections(), 3, 'each retry on its own new connection');
});
