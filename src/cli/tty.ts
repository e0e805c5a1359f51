import type { EngineClient } from '../client/engine-client.js';
import type { TerminalOut } from './command.js';

// Keeps the container's (or exec's) TTY the size of ours: an initial resize,
// retried a few times as docker does (the process may not be up yet), then one
// on every SIGWINCH.

export function ttySize(out: TerminalOut): [height: number, width: number] {
  if (!out.isTTY) return [0, 0];
  return [out.rows ?? 0, out.columns ?? 0];
}

export interface ResizeTarget {
  client: EngineClient;
  id: string;
  isExec: boolean;
}

async function resize(t: ResizeTarget, out: TerminalOut): Promise<void> {
  const [h, w] = ttySize(out);
  if (h === 0 && w === 0) return;
  if (t.isExec) await t.client.execResize(t.id, h, w);
  else await t.client.containerResize(t.id, h, w);
}

// Returns a function that stops the monitoring.
export function monitorTtySize(t: ResizeTarget, out: TerminalOut, err: (line: string) => void): () => void {
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  resize(t, out).catch(() => {
    const retry = (attempt: number): void => {
      if (stopped) return;
      const timer = setTimeout(() => {
        resize(t, out).catch(() => {
          if (attempt < 9) retry(attempt + 1);
          else if (!stopped) err('failed to resize tty, using default size');
        });
      }, (attempt + 1) * 10);
      timer.unref();
      timers.push(timer);
    };
    retry(0);
  });
  const onWinch = (): void => {
    resize(t, out).catch(() => undefined);
  };
  process.on('SIGWINCH', onWinch);
  return () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
    process.off('SIGWINCH', onWinch);
  };
}
