// Waits for an engine's API to answer GET /_ping on its unix socket.
import { request } from 'node:http';

export function pingOnce(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Polls /_ping until it answers 200, the deadline passes, or `alive()` says the daemon
 * process is gone (so a crashing daemon fails fast instead of after the timeout).
 */
export async function waitForPing(
  socketPath: string,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pingOnce(socketPath)) return;
    if (!alive()) throw new Error(`daemon exited before ${socketPath} answered /_ping`);
    if (Date.now() > deadline) throw new Error(`${socketPath} did not answer /_ping within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
