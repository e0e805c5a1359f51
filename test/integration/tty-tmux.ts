import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { readFile, rm, writeFile } from 'node:fs/promises';

const run = promisify(execFile);

// A private tmux server (its own socket, so other tmux users on the machine are never
// touched) whose panes are real pseudo-terminals: the CLI under test sees a TTY, raw mode,
// window sizes and SIGWINCH exactly as in a user's terminal.
export class Tmux {
  readonly socket: string;
  private readonly conf: string;

  private constructor(private readonly dir: string) {
    this.socket = join(dir, 'tmux.sock');
    this.conf = join(dir, 'tmux.conf');
  }

  // Panes stay after their command exits, so the last screen can be read: set in the
  // server's config, which it reads before its first pane exists.
  static async create(dir: string): Promise<Tmux> {
    const t = new Tmux(dir);
    // bash, not dash, runs each pane's command line: a ctrl-c the CLI catches must not kill
    // the shell that waits for it (bash's wait-and-cooperative-exit).
    await writeFile(t.conf, 'set-option -g remain-on-exit on\nset-option -g default-shell /bin/bash\n');
    return t;
  }

  private tmux(args: string[]): Promise<string> {
    return run('tmux', ['-S', this.socket, '-f', this.conf, ...args], { env: { ...process.env, TMUX: '' } }).then((r) => r.stdout);
  }

  // The pane runs the command under a shell, which writes its exit status to a file: tmux itself
  // sometimes leaves a dead pane's process unreaped (no status) for seconds.
  async start(name: string, command: string, size: { width: number; height: number } = { width: 100, height: 30 }): Promise<void> {
    await rm(this.statusFile(name), { force: true });
    const line = `${command}; echo $? > ${shq(this.statusFile(name) + '.tmp')} && mv ${shq(this.statusFile(name) + '.tmp')} ${shq(this.statusFile(name))}`;
    await this.tmux(['new-session', '-d', '-s', name, '-x', String(size.width), '-y', String(size.height), line]);
  }

  private statusFile(name: string): string {
    return join(this.dir, `${name}.status`);
  }

  async keys(name: string, ...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', name, ...keys]);
  }

  // Text typed as is (no key-name lookup), then Enter.
  async type(name: string, line: string): Promise<void> {
    await this.tmux(['send-keys', '-t', name, '-l', line]);
    await this.tmux(['send-keys', '-t', name, 'Enter']);
  }

  // The whole pane, scrollback included: when a pane dies tmux may scroll all of its screen
  // away to print "Pane is dead".
  async screen(name: string): Promise<string> {
    return this.tmux(['capture-pane', '-p', '-S', '-', '-t', name]);
  }

  async resize(name: string, width: number, height: number): Promise<void> {
    await this.tmux(['resize-window', '-t', name, '-x', String(width), '-y', String(height)]);
  }

  // Polls the screen until it satisfies `want`; the last screen is in the failure message.
  async waitFor(name: string, want: RegExp | ((screen: string) => boolean), timeoutMs = 20_000): Promise<string> {
    const test = typeof want === 'function' ? want : (s: string) => want.test(s);
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
      last = await this.screen(name);
      if (test(last)) return last;
      if (Date.now() > deadline) throw new Error(`tmux ${name}: timed out waiting for ${String(want)}; screen:\n${last}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  // The exit status of the pane's command, once it has exited.
  async exitStatus(name: string, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
      const text = await readFile(this.statusFile(name), 'utf8').catch(() => '');
      if (text.endsWith('\n')) return Number(text.trim());
      if (Date.now() > deadline) throw new Error(`tmux ${name}: still running; screen:\n${await this.screen(name)}`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async kill(name: string): Promise<void> {
    await this.tmux(['kill-session', '-t', name]).catch(() => {});
  }

  async killServer(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => {});
  }
}

// A word for a shell command line inside single quotes.
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
