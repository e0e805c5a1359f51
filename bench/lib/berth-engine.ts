// berth under test: a berthd of our own on a temp socket, data root and exec root.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runCommand } from './command.js';
import type { Client, Engine } from './engine.js';
import { EngineSkipped } from './engine.js';
import { unmountUnder } from './mounts.js';
import { pingOnce, waitForPing } from './ping.js';
import { isMonitor, listProcesses, type ProcessSetSpec } from './proc.js';

export interface BerthEngineOptions {
  repoRoot: string;
  dir: string;
  dockerCli: string;
  /** Bundle src/ into dist/ first (scripts/build.mjs), so the CLI measured is the shipped one. */
  build: boolean;
  /** Also time the docker CLI against berthd. */
  withDockerCli: boolean;
  keep: boolean;
}

const STOP_GRACE_MS = 20_000;

export class BerthEngine implements Engine {
  readonly name = 'berth';
  readonly clients: readonly Client[];
  readonly notes: string[] = [];
  private daemon: ChildProcess | null = null;
  private failed = false;
  /** Set once we know no other berthd uses these paths, so cleaning them up is ours to do. */
  private ownsState = false;
  private readonly sock: string;
  private readonly root: string;
  private readonly exec: string;
  private readonly log: string;

  constructor(private readonly opts: BerthEngineOptions) {
    this.sock = join(opts.dir, 'berth.sock');
    this.root = join(opts.dir, 'berth-root');
    this.exec = join(opts.dir, 'berth-exec');
    this.log = join(opts.dir, 'berthd.log');
    const host = ['-H', `unix://${this.sock}`];
    const clients: Client[] = [
      { label: 'berth CLI', command: process.execPath, args: [join(opts.repoRoot, 'bin/berth'), ...host] },
    ];
    if (opts.withDockerCli) clients.push({ label: 'docker CLI', command: opts.dockerCli, args: host });
    this.clients = clients;
  }

  async start(): Promise<void> {
    const { repoRoot } = this.opts;
    for (const f of ['src/daemon/main.ts', 'src/cli/main.ts']) {
      if (!existsSync(join(repoRoot, f))) throw new EngineSkipped(`berth is not there yet: ${f} does not exist`);
    }
    if (this.opts.build) {
      const r = await runCommand(process.execPath, [join(repoRoot, 'scripts/build.mjs')]);
      if (r.code !== 0) throw this.fail(describeFailure('node scripts/build.mjs', r));
    }
    for (const f of ['dist/berthd.mjs', 'dist/berth.mjs']) {
      if (!existsSync(join(repoRoot, f))) throw this.fail(`${f} is missing (run node scripts/build.mjs)`);
    }
    if (await pingOnce(this.sock)) {
      throw this.fail(`a berthd already serves ${this.sock}; stop it first`);
    }
    this.ownsState = true;
    await this.removeState(false); // leftovers of an interrupted run
    await mkdir(this.opts.dir, { recursive: true });

    const logFd = openSync(this.log, 'w');
    try {
      this.daemon = spawn(
        process.execPath,
        [join(repoRoot, 'bin/berthd'), '-H', `unix://${this.sock}`, '--data-root', this.root, '--exec-root', this.exec],
        { stdio: ['ignore', logFd, logFd] },
      );
    } finally {
      closeSync(logFd);
    }
    const d = this.daemon;
    d.on('error', () => undefined); // reported through waitForPing's alive() check
    try {
      await waitForPing(this.sock, 30_000, () => d.exitCode === null && d.signalCode === null);
    } catch (e) {
      throw this.fail(`${(e as Error).message}\n${await this.logTail()}`);
    }
    const [cli] = this.clients;
    const r = await runCommand(cli.command, [...cli.args, 'image', 'bootstrap', 'busybox']);
    if (r.code !== 0) throw this.fail(describeFailure('berth image bootstrap busybox', r));
  }

  async processSpec(): Promise<ProcessSetSpec> {
    return {
      daemonPids: this.daemon?.pid ? [this.daemon.pid] : [],
      monitorComm: 'conmon',
      markers: [this.root + '/', this.exec + '/'],
    };
  }

  async stop(): Promise<void> {
    const d = this.daemon;
    if (d && d.exitCode === null && d.signalCode === null) {
      if (this.opts.keep) {
        this.notes.push(`berthd left running (--keep), pid ${d.pid}, socket ${this.sock}`);
        d.unref(); // so that this process can exit without it
        return;
      }
      const exited = new Promise<void>((resolve) => d.once('exit', () => resolve()));
      d.kill('SIGTERM');
      const timer = setTimeout(() => {
        this.notes.push(`berthd ignored SIGTERM for ${STOP_GRACE_MS / 1000} s; killed`);
        d.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    this.daemon = null;
    if (!this.ownsState) return;
    if (this.failed) this.notes.push(`berthd log kept at ${this.log}`);
    await this.removeState(this.failed);
  }

  // Kills monitors the daemon left, unmounts what it left mounted, then deletes its roots.
  private async removeState(keepLog: boolean): Promise<void> {
    const spec = await this.processSpec();
    const orphans = (await listProcesses()).filter((p) => isMonitor(p, spec));
    if (orphans.length) {
      this.notes.push(`killed ${orphans.length} conmon(s) berthd left behind`);
      for (const p of orphans) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const stuck = await unmountUnder([this.root, this.exec]);
    if (stuck.length) {
      throw new Error(`cannot unmount ${stuck.join(', ')}; leaving ${this.root} and ${this.exec} in place`);
    }
    await rm(this.root, { recursive: true, force: true });
    await rm(this.exec, { recursive: true, force: true });
    await rm(this.sock, { force: true });
    if (!keepLog) await rm(this.log, { force: true });
    await rmdir(this.opts.dir).catch(() => undefined); // shared with the reference dockerd: only if empty
  }

  private fail(message: string): Error {
    this.failed = true;
    return new Error(message);
  }

  private async logTail(): Promise<string> {
    try {
      const text = await readFile(this.log, 'utf8');
      return `berthd log (${this.log}), last lines:\n${text.trimEnd().split('\n').slice(-15).join('\n')}`;
    } catch {
      return '';
    }
  }
}
