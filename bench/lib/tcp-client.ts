// The host side of the port benchmarks: bulk TCP transfers and short HTTP requests, timed
// from before connect() to the last byte, as an application would see them.
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Timed {
  bytes: number;
  ms: number;
}

const MiB = 1024 * 1024;
// One buffer written again and again: the client should cost as little as it can.
const CHUNK = Buffer.alloc(MiB);

function open(host: string, port: number, timeoutMs: number): Socket {
  const s = connect({ host, port, noDelay: true });
  s.setTimeout(timeoutMs, () => s.destroy(new Error(`no progress for ${timeoutMs} ms on ${host}:${port}`)));
  return s;
}

/**
 * Sends `mib` MiB to the sink (port 81 of the bench container), half-closes, and waits for
 * the sink's answer and close: the time covers the data reaching the container, not just a
 * proxy's buffers. The answer is dd's summary ("N+M records in"); anything else means the
 * connection never reached the sink (a proxy accepts, then finds nobody listening behind it).
 */
export function upload(host: string, port: number, mib: number, timeoutMs = 60_000): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = open(host, port, timeoutMs);
    let sent = 0;
    let answer = '';
    const pump = (): void => {
      while (sent < mib) {
        sent++;
        if (!s.write(CHUNK)) {
          s.once('drain', pump);
          return;
        }
      }
      s.end();
    };
    s.once('connect', pump);
    s.on('data', (d: Buffer) => (answer += d.toString()));
    s.on('error', reject);
    s.on('close', (hadError) => {
      if (hadError) return;
      const ms = performance.now() - started;
      if (sent < mib || !/records in/.test(answer)) {
        reject(new Error(`upload to ${host}:${port}: connection closed after ${sent} of ${mib} MiB, answer ${JSON.stringify(answer.trim())}`));
      } else resolve({ bytes: mib * MiB, ms });
    });
  });
}

/** Asks the source (port 82 of the bench container) for `mib` MiB and reads them to the end. */
export function download(host: string, port: number, mib: number, timeoutMs = 60_000): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = open(host, port, timeoutMs);
    let bytes = 0;
    s.once('connect', () => s.write(`${mib}\n`));
    s.on('data', (d: Buffer) => (bytes += d.length));
    s.on('error', reject);
    s.on('close', (hadError) => {
      if (hadError) return;
      const ms = performance.now() - started;
      if (bytes !== mib * MiB) reject(new Error(`download from ${host}:${port}: got ${bytes} bytes, expected ${mib * MiB}`));
      else resolve({ bytes, ms });
    });
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

/**
 * One HTTP/1.0 GET on a connection of its own (busybox httpd closes it after the answer),
 * written by hand so that no agent, pool or parser sits between the timer and the socket.
 */
export function httpGet(host: string, port: number, path: string, timeoutMs = 10_000): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const s = open(host, port, timeoutMs);
    const parts: Buffer[] = [];
    s.once('connect', () => s.end(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', reject);
    s.on('close', (hadError) => {
      if (hadError) return;
      const ms = performance.now() - started;
      const text = Buffer.concat(parts).toString();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!m) {
        reject(new Error(`GET ${path} from ${host}:${port}: no HTTP answer (${JSON.stringify(text.slice(0, 80))})`));
        return;
      }
      // A CGI's own header lines, which busybox httpd passes on, end in a bare \n.
      const sep = /\r?\n\r?\n/.exec(text);
      resolve({ status: Number(m[1]), body: sep ? text.slice(sep.index + sep[0].length) : '', ms });
    });
  });
}

/** Retries `attempt` until it resolves or the deadline passes (the server is starting). */
export async function retryUntil<T>(what: string, timeoutMs: number, attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (signal?.aborted) throw new Error('interrupted');
      if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms: ${(e as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
