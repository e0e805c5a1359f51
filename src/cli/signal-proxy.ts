import type { EngineClient } from '../client/engine-client.js';

// docker's --sig-proxy: signals the CLI receives are sent on to the container
// (POST /containers/{id}/kill?signal=NAME) instead of killing the CLI. After the
// third SIGINT/SIGTERM the CLI gives up and exits, as docker does.

// SIGUSR1 is Node's debugger signal, SIGWINCH drives TTY resizing and SIGURG is
// left alone as Go's runtime leaves it; the rest of what a user can send is forwarded.
const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS'];

export interface SignalProxyOptions {
  // Called when the user insisted (3 termination signals): restore the terminal, print, exit.
  onForceExit: () => void;
}

export function proxySignals(client: EngineClient, id: string, opts: SignalProxyOptions): () => void {
  let terminations = 0;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const handler = (): void => {
      if (sig === 'SIGINT' || sig === 'SIGTERM') {
        terminations++;
        if (terminations >= 3) {
          opts.onForceExit();
          return;
        }
      }
      // docker names signals without the SIG prefix (moby's signal.SignalMap keys).
      client.containerKill(id, sig.slice(3)).catch(() => undefined);
    };
    try {
      process.on(sig, handler);
      handlers.set(sig, handler);
    } catch {
      // Not every signal exists on every platform.
    }
  }
  return () => {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  };
}

// Without a signal proxy docker still catches termination signals and only exits on the third.
export function countTerminations(opts: SignalProxyOptions): () => void {
  let n = 0;
  const handler = (): void => {
    n++;
    if (n >= 3) opts.onForceExit();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

// What `run`, `start -a` and `attach` install: the proxy when asked for, else docker's
// "exit only on the third SIGINT/SIGTERM" (its own first signal just cancels its context).
export function handleSignals(client: EngineClient, id: string, proxy: boolean, opts: SignalProxyOptions): () => void {
  return proxy ? proxySignals(client, id, opts) : countTerminations(opts);
}
