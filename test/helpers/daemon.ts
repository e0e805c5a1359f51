import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { cleanupNetworks, testNetworkConfig } from './network.js';

const repo = resolve(import.meta.dirname, '../..');
// The daemon as `berthd` runs it: bin/berthd with the node flags of its #! line.
export const berthdEntry = join(repo, 'bin/berthd');
export const berthEntry = join(repo, 'dist/berth.mjs');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

// A real berthd on its own temp data root, exec root, socket and cgroup parent, so
// tests never touch a berthd the user runs, and cleanup knows exactly what is ours.
export class TestDaemon {
  proc: ChildProcess | null = null;
  readonly sock: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly cgroupParent: string;
  log = '';

  private constructor(readonly dir: string) {
    this.sock = join(dir, 'berth.sock');
    this.dataRoot = join(dir, 'data');
    this.execRoot = join(dir, 'exec');
    this.cgroupParent = `/berth-test-${dir.slice(-6)}`;
  }

  static async start(daemonJson: Record<string, unknown> = {}): Promise<TestDaemon> {
    const d = new TestDaemon(await mkdtemp('/tmp/berth-it-'));
    // Its own bridge and subnets (test/helpers/network.ts), unless the test sets them.
    await writeFile(join(d.dir, 'daemon.json'), JSON.stringify({ ...testNetworkConfig(d.dir), ...daemonJson }));
    await d.spawn();
    return d;
  }

  get host(): string {
    return `unix://${this.sock}`;
  }

  async spawn(): Promise<void> {
    const args = ['-H', this.host, '--data-root', this.dataRoot, '--exec-root', this.execRoot, '--cgroup-parent', this.cgroupParent, '--config-file', join(this.dir, 'daemon.json')];
    const proc = spawn(berthdEntry, args, { env: { ...process.env, UV_THREADPOOL_SIZE: '64' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`berthd exited (${code}): ${this.log}`))));
    await Promise.race([waitForSocket(this.sock), exited]);
  }

  // SIGKILL: what a crash looks like. Containers must survive it.
  async kill9(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
    this.proc = null;
  }

  run(args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; cli?: 'berth' | 'docker' } = {}): Promise<RunResult> {
    const cli = opts.cli ?? 'berth';
    const [cmd, argv] = cli === 'berth' ? [process.execPath, [berthEntry, '-H', this.host, ...args]] : ['docker', ['-H', this.host, ...args]];
    return runCommand(cmd, argv, opts.input, { ...process.env, DOCKER_CONFIG: join(this.dir, 'docker-config'), ...opts.env });
  }

  docker(args: string[], input?: string): Promise<RunResult> {
    return this.run(args, { cli: 'docker', input });
  }

  // Everything this daemon made goes: containers, conmons, mounts, cgroups, files.
  async cleanup(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      await this.run(['rm', '-f', ...(await this.run(['ps', '-aq'])).stdout.split('\n').filter(Boolean)]).catch(() => {});
      const p = this.proc;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (p.exitCode === null) p.kill('SIGKILL');
    }
    await killProcessesMentioning(this.dir);
    try {
      // Both runtimes berthd may have used (src/runtime/oci-runtimes.ts runtimeRoot).
      const roots = [['runc', `${this.execRoot}/runc`], ['crun', `${this.execRoot}/runtime-crun`]];
      const script = roots.map(([rt, root]) => `for c in $(${rt} --root ${root} list -q 2>/dev/null); do ${rt} --root ${root} delete -f $c; done`).join('; ');
      execFileSync('sh', ['-c', script], { stdio: 'ignore' });
    } catch {
      /* nothing to delete */
    }
    await unmountUnder(this.dir);
    await removeCgroups(this.cgroupParent);
    await cleanupNetworks(this.dataRoot);
    await rm(this.dir, { recursive: true, force: true });
  }
}

export function runCommand(cmd: string, args: string[], input?: string | Buffer, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => resolvePromise({ code: code ?? 128 + (signal ? 9 : 0), stdout, stderr }));
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

async function waitForSocket(path: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(path);
      s.once('connect', () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`berthd did not listen on ${path}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killProcessesMentioning(text: string): Promise<void> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

export async function unmountUnder(dir: string): Promise<void> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p && p.startsWith(dir))
    .sort((a, b) => b.length - a.length);
  for (const p of points) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

export async function removeCgroups(parent: string): Promise<void> {
  const roots = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const r of roots) {
    const base = join('/sys/fs/cgroup', r, parent);
    const children = await readdir(base, { withFileTypes: true }).catch(() => []);
    for (const c of children) if (c.isDirectory()) await rmdir(join(base, c.name)).catch(() => {});
    await rmdir(base).catch(() => {});
  }
}
