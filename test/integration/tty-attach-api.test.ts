import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { TestDaemon } from '../helpers/daemon.js';

// POST /containers/{id}/attach as API clients (docker-py, compose, dockerode) use it:
// hijacked connections, stdcopy framing without a TTY, logs=1 replay, detach keys caught
// by the daemon, ConsoleSize, and clients that vanish.

let d: TestDaemon;

before(async () => {
  d = await TestDaemon.start();
  const r = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(r.code, 0, r.stderr + d.log);
});
after(async () => {
  await d?.cleanup();
});

interface ApiAnswer {
  status: number;
  body: Buffer;
}

function api(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: d.sock, method, path, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await api(method, path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.body.toString()}`);
  return JSON.parse(r.body.toString()) as T;
}

async function createStarted(config: Record<string, unknown>, start = true): Promise<string> {
  const { Id } = await json<{ Id: string }>('POST', '/v1.44/containers/create', { Image: 'busybox', ...config });
  if (start) assert.equal((await api('POST', `/v1.44/containers/${Id}/start`)).status, 204);
  return Id;
}

async function state(id: string): Promise<{ Status: string; Running: boolean; ExitCode: number }> {
  return (await json<{ State: { Status: string; Running: boolean; ExitCode: number } }>('GET', `/v1.44/containers/${id}/json`)).State;
}

// A hijacked attach: the answer's head, then the raw stream both ways.
class Attached {
  data = Buffer.alloc(0);
  ended = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket, readonly head: string) {
    socket.on('data', (c: Buffer) => this.push(c));
    const end = (): void => {
      this.ended = true;
      this.notify();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', () => {});
  }

  private push(c: Buffer): void {
    this.data = Buffer.concat([this.data, c]);
    this.notify();
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static open(path: string, version = '1.44'): Promise<Attached> {
    return new Promise((resolve, reject) => {
      const socket = connect(d.sock);
      let buf = Buffer.alloc(0);
      const onData = (c: Buffer): void => {
        buf = Buffer.concat([buf, c]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const a = new Attached(socket, buf.subarray(0, end).toString());
        if (buf.length > end + 4) a.push(buf.subarray(end + 4));
        resolve(a);
      };
      socket.on('data', onData);
      socket.on('error', reject);
      socket.write(`POST /v${version}${path} HTTP/1.1\r\nHost: api\r\nContent-Type: text/plain\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    });
  }

  async until(pred: (a: Attached) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (this.ended && !pred(this)) throw new Error(`connection ended before ${what}; got ${JSON.stringify(this.data.toString())}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.data.toString())}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  text(): string {
    return this.data.toString();
  }

  // stdcopy frames: [stream, 0, 0, 0, size BE32] + payload.
  frames(): Array<[number, string]> {
    const out: Array<[number, string]> = [];
    let off = 0;
    while (off + 8 <= this.data.length) {
      const size = this.data.readUInt32BE(off + 4);
      if (off + 8 + size > this.data.length) break;
      out.push([this.data[off]!, this.data.subarray(off + 8, off + 8 + size).toString()]);
      off += 8 + size;
    }
    return out;
  }

  joined(stream: number): string {
    return this.frames().filter(([s]) => s === stream).map(([, t]) => t).join('');
  }
}

test('ConsoleSize sizes the tty before the process runs, with no resize call', async () => {
  const id = await createStarted({ Cmd: ['stty', 'size'], Tty: true, HostConfig: { ConsoleSize: [11, 33] } });
  await json('POST', `/v1.44/containers/${id}/wait`);
  const logs = await api('GET', `/v1.44/containers/${id}/logs?stdout=1`);
  assert.equal(logs.body.toString().trim(), '11 33');
});

test('logs=1&stream=0 replays the log, framed per stream, and ends', async () => {
  const id = await createStarted({ Cmd: ['sh', '-c', 'echo out1; echo err1 >&2; echo out2'] });
  await json('POST', `/v1.44/containers/${id}/wait`);
  const a = await Attached.open(`/containers/${id}/attach?logs=1&stream=0&stdout=1&stderr=1`);
  assert.match(a.head, /^HTTP\/1.1 101 UPGRADED\r\n/);
  assert.match(a.head, /\r\nContent-Type: application\/vnd.docker.multiplexed-stream\r\n/i);
  await a.until((x) => x.ended, 'the end of the replay');
  // Two pipes: the order between them is the kernel's; within each it is kept.
  assert.equal(a.frames().length, 3);
  assert.equal(a.joined(1), 'out1\nout2\n');
  assert.equal(a.joined(2), 'err1\n');

  // Only the asked-for stream; before API 1.42 the same framing is labelled raw-stream.
  const b = await Attached.open(`/containers/${id}/attach?logs=1&stream=0&stderr=1`, '1.41');
  assert.match(b.head, /\r\nContent-Type: application\/vnd.docker.raw-stream\r\n/i);
  await b.until((x) => x.ended, 'the end of the replay');
  assert.deepEqual(b.frames(), [[2, 'err1\n']]);
});

test('logs=1&stream=1: the log first, then the live streams; stdin without a TTY', async () => {
  const id = await createStarted({ Cmd: ['sh', '-c', 'echo before; read x; echo "after $x"; echo bye >&2; exit 6'], OpenStdin: true });
  // "before" is in the log, and nothing is written while the attach begins (output at that
  // very moment may come twice, from the log and the stream, as with Docker).
  const deadline = Date.now() + 20_000;
  while (!(await api('GET', `/v1.44/containers/${id}/logs?stdout=1`)).body.includes('before')) {
    assert.ok(Date.now() < deadline, 'no "before" in the log');
    await new Promise((r) => setTimeout(r, 20));
  }
  const a = await Attached.open(`/containers/${id}/attach?logs=1&stream=1&stdin=1&stdout=1&stderr=1`);
  await a.until((x) => x.joined(1).includes('before\n'), 'before');
  a.socket.write('hi\n');
  await a.until((x) => x.ended, 'the end of the container');
  assert.equal(a.joined(1), 'before\nafter hi\n');
  assert.equal(a.joined(2), 'bye\n');
  assert.equal((await json<{ StatusCode: number }>('POST', `/v1.44/containers/${id}/wait`)).StatusCode, 6);
});

test('without StdinOnce, the end of a client\'s input ends its attach but not the container\'s stdin', async () => {
  const id = await createStarted({ Cmd: ['cat'], OpenStdin: true, StdinOnce: false });
  const a = await Attached.open(`/containers/${id}/attach?stream=1&stdin=1&stdout=1`);
  a.socket.write('one\n');
  await a.until((x) => x.joined(1) === 'one\n', 'one');
  a.socket.end();
  await a.until((x) => x.ended, 'the attach to end');
  assert.equal((await state(id)).Status, 'running');
  const b = await Attached.open(`/containers/${id}/attach?stream=1&stdin=1&stdout=1`);
  b.socket.write('two\n');
  await b.until((x) => x.joined(1) === 'two\n', 'two: cat still reads its stdin');
  b.socket.destroy();
  await api('DELETE', `/v1.44/containers/${id}?force=1`);
});

test('StdinOnce without a TTY: the client\'s end of input closes the container\'s stdin', async () => {
  const id = await createStarted({ Cmd: ['sh', '-c', 'cat; echo eof'], OpenStdin: true, StdinOnce: true, AttachStdin: true }, false);
  // Attached before the start, as `docker run -i` does: nothing is missed.
  const a = await Attached.open(`/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
  assert.equal((await api('POST', `/v1.44/containers/${id}/start`)).status, 204);
  a.socket.end('line\n');
  await a.until((x) => x.ended, 'the end of the container');
  assert.equal(a.joined(1), 'line\neof\n');
  // The stream ends with the container's output, which can be a moment before its exit is
  // recorded: a client waits for that, as `docker run -i` does.
  assert.equal((await json<{ StatusCode: number }>('POST', `/v1.44/containers/${id}/wait`)).StatusCode, 0);
  assert.deepEqual(await state(id).then((s) => [s.Status, s.ExitCode]), ['exited', 0]);
});

test('a TTY client typing the detach keys is detached by the daemon; the shell keeps its stdin', async () => {
  const t0 = Date.now() / 1000;
  const id = await createStarted({ Cmd: ['sh'], Tty: true, OpenStdin: true, StdinOnce: true });
  const a = await Attached.open(`/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1&detachKeys=ctrl-x,x`);
  assert.match(a.head, /\r\nContent-Type: application\/vnd.docker.raw-stream\r\n/i);
  a.socket.write('echo $((6*7))\r');
  await a.until((x) => /\r\n42\r\n/.test(x.text()), '42');
  a.socket.write(Buffer.from([0x18, 0x78]));
  await a.until((x) => x.ended, 'the daemon to end the attach');
  assert.equal((await state(id)).Status, 'running');

  const b = await Attached.open(`/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
  b.socket.write('echo again-$((1+1))\r');
  await b.until((x) => /\r\nagain-2\r\n/.test(x.text()), 'again-2');
  // The default keys for this client: ctrl-p ctrl-q.
  b.socket.write(Buffer.from([0x10, 0x11]));
  await b.until((x) => x.ended, 'the second detach');
  assert.equal((await state(id)).Status, 'running');

  const ev = await d.run(['events', '--since', String(t0), '--until', String(Date.now() / 1000), '--filter', `container=${id}`, '--format', '{{.Action}}']);
  assert.deepEqual(ev.stdout.trim().split('\n').filter((x) => x === 'attach' || x === 'detach'), ['attach', 'detach', 'attach', 'detach'], ev.stderr);
  await api('DELETE', `/v1.44/containers/${id}?force=1`);
});

test('bad detach keys and paused containers are refused before the hijack', async () => {
  const id = await createStarted({ Cmd: ['sleep', '600'], Tty: true, OpenStdin: true });
  const bad = await api('POST', `/v1.44/containers/${id}/attach?stream=1&stdin=1&detachKeys=ctrl-P`);
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.body.toString()).message, 'Invalid detach keys (ctrl-P) provided');
  assert.equal((await api('POST', `/v1.44/containers/${id}/pause`)).status, 204);
  const paused = await api('POST', `/v1.44/containers/${id.slice(0, 12)}/attach?stream=1&stdout=1`);
  assert.equal(paused.status, 409);
  assert.equal(JSON.parse(paused.body.toString()).message, `container ${id.slice(0, 12)} is paused, unpause the container before attach`);
  assert.equal((await api('POST', `/v1.44/containers/${id}/unpause`)).status, 204);
  const missing = await api('POST', `/v1.44/containers/nosuchcontainer/attach?stream=1&stdout=1`);
  assert.equal(missing.status, 404);
  await api('DELETE', `/v1.44/containers/${id}?force=1`);
});

test('clients that vanish mid-stream neither crash berthd nor stall the container', async () => {
  const id = await createStarted({ Cmd: ['sh', '-c', 'while true; do echo 0123456789abcdefghijklmnopqrstuvwxyz; done'] });
  for (let i = 0; i < 5; i++) {
    const a = await Attached.open(`/containers/${id}/attach?stream=1&stdout=1&stderr=1`);
    await a.until((x) => x.data.length > 64 * 1024, 'some output');
    // Gone while berthd writes: its next write fails with EPIPE.
    a.socket.destroy();
  }
  // One that stops reading: its socket fills up, then it goes.
  const slow = await Attached.open(`/containers/${id}/attach?stream=1&stdout=1`);
  slow.socket.pause();
  const ping = await api('GET', '/_ping');
  assert.equal(ping.status, 200);
  slow.socket.destroy();

  assert.equal(d.proc?.exitCode, null, d.log);
  assert.equal((await state(id)).Status, 'running');
  const last = await Attached.open(`/containers/${id}/attach?stream=1&stdout=1`);
  await last.until((x) => x.joined(1).length > 1024, 'output again');
  last.socket.destroy();
  await api('DELETE', `/v1.44/containers/${id}?force=1`);
});
