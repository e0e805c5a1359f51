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

export interface MonitorOptions {
  // `docker attach`: first a size one larger than ours, then ours. A shell redraws its
  // prompt only when the size really changes, and a re-attach to an unchanged terminal
  // would otherwise show nothing until the next key.
  redraw?: boolean;
}

function resizeTo(t: ResizeTarget, h: number, w: number): Promise<void> {
  if (h === 0 && w === 0) return Promise.resolve();
  return t.isExec ? t.client.execResize(t.id, h, w) : t.client.containerResize(t.id, h, w);
}

function resize(t: ResizeTarget, out: TerminalOut): Promise<void> {
  const [h, w] = ttySize(out);
  return resizeTo(t, h, w);
}

// Returns a function that stops the monitoring.
export function monitorTtySize(t: ResizeTarget, out: TerminalOut, err: (line: string) => void, opts: MonitorOptions = {}): () => void {
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
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
  const [h, w] = ttySize(out);
  const nudge = opts.redraw && (h > 0 || w > 0) ? resizeTo(t, h + 1, w + 1).catch(() => undefined) : Promise.resolve();
  void nudge.then(() => {
    if (!stopped) resize(t, out).catch(() => retry(0));
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
