// berth under test: a berthd of our own on a temp socket, data root and exec root.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runCommand } from './command.js';
import type { Client, Engine } from './engine.js';
import { EngineSkipped } from './engine.js';
import { unmountUnder } from './mounts.js';
import { pingOnce, waitForPing } from './ping.js';
import { isMonitor, listProcesses, measureEngineMemory, type MemoryFigure, type ProcessSetSpec } from './proc.js';
import { cleanupNetworks } from '../../test/helpers/network.js';
import type { BridgeSpec } from './bench-network.js';

export interface BerthEngineOptions {
  repoRoot: string;
  dir: string;
  dockerCli: string;
  /** Bundle src/ into dist/ first (scripts/build.mjs), so the CLI measured is the shipped one. */
  build: boolean;
  /** Also time the docker CLI against berthd. */
  withDockerCli: boolean;
  keep: boolean;
  /**
   * The default bridge, its own name and subnet (bench-network.ts): the default `berth0`
   * may be a system berthd's, whose addresses and rules a second daemon would clobber.
   */
  bridge: BridgeSpec;
  /** Run this daemon bundle instead of dist/berthd.mjs, e.g. an older build to compare with. */
  berthdBundle?: string;
}

const STOP_GRACE_MS = 20_000;

/** The node flags on bin/berthd's `#!/usr/bin/env -S node …` line. */
export function berthdNodeFlags(repoRoot: string): string[] {
  const shebang = readFileSync(join(repoRoot, 'bin/berthd'), 'utf8').split('\n', 1)[0]!;
  const words = shebang.split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

export class BerthEngine implements Engine {
  readonly name = 'berth';
  readonly clients: Client[];
  readonly notes: string[] = [];
  private daemon: ChildProcess | null = null;
  private failed = false;
  /** Set once we know no other berthd uses these paths, so cleaning them up is ours to do. */
  private ownsState = false;
  private readonly sock: string;
  private readonly root: string;
  private readonly exec: string;
  private readonly log: string;
  private readonly config: string;
  /** The warm CLI's private server socket (docs/decisions.md, "A warm CLI"). */
  private readonly cliSock: string;

  constructor(private readonly opts: BerthEngineOptions) {
    this.sock = join(opts.dir, 'berth.sock');
    this.root = join(opts.dir, 'berth-root');
    this.exec = join(opts.dir, 'berth-exec');
    this.log = join(opts.dir, 'berthd.log');
    this.config = join(opts.dir, 'berth-daemon.json');
    this.cliSock = join(opts.dir, 'berth-cli', 'cli.sock');
    const host = ['-H', `unix://${this.sock}`];
    const clients: Client[] = [
      { label: 'berth CLI', command: process.execPath, args: [join(opts.repoRoot, 'bin/berth'), ...host] },
    ];
    if (opts.withDockerCli) clients.push({ label: 'docker CLI', command: opts.dockerCli, args: host });
    // The launcher as installed: its first call runs cold and starts the server, the rest are
    // warm (the warm-up calls absorb the start).
    if (existsSync(join(opts.repoRoot, 'src/launcher/berth-launcher.c'))) {
      clients.push({
        label: 'berth warm CLI',
        command: join(opts.repoRoot, 'dist/berth-launcher'),
        args: host,
        env: { BERTH_CLI_SOCKET: this.cliSock, BERTH_CLI_SERVER_LOG: join(opts.dir, 'berth-cli-server.log') },
      });
    }
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
    const warm = this.clients.findIndex((c) => c.label === 'berth warm CLI');
    if (warm >= 0 && !existsSync(this.clients[warm]!.command)) {
      this.notes.push('no dist/berth-launcher (no C compiler at build time): warm CLI not measured');
      this.clients.splice(warm, 1);
    }
    await mkdir(join(this.opts.dir, 'berth-cli'), { recursive: true, mode: 0o700 });
    const { berthdBundle } = this.opts;
    if (berthdBundle) {
      if (!existsSync(berthdBundle)) throw this.fail(`${berthdBundle} does not exist`);
      this.notes.push(`daemon: ${berthdBundle}`);
    }
    if (await pingOnce(this.sock)) {
      throw this.fail(`a berthd already serves ${this.sock}; stop it first`);
    }
    this.ownsState = true;
    await this.removeState(false); // leftovers of an interrupted run
    await mkdir(this.opts.dir, { recursive: true });
    const { bridge } = this.opts;
    await writeFile(this.config, JSON.stringify({ bridge: bridge.name, bip: bridge.bip }) + '\n');

    const logFd = openSync(this.log, 'w');
    try {
      const args = ['-H', `unix://${this.sock}`, '--data-root', this.root, '--exec-root', this.exec, '--config-file', this.config];
      // bin/berthd, run as `berthd` is, with the node flags of its #! line; another bundle
      // gets the same flags and the same UV_THREADPOOL_SIZE.
      const [command, commandArgs] = berthdBundle
        ? [process.execPath, [...berthdNodeFlags(repoRoot), berthdBundle, ...args]]
        : [join(repoRoot, 'bin/berthd'), args];
      this.daemon = spawn(command, commandArgs, { stdio: ['ignore', logFd, logFd], env: { UV_THREADPOOL_SIZE: '64', ...process.env } });
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

  private cliServerPid(): number | null {
    try {
      const pid = Number(readFileSync(`${this.cliSock}.lock`, 'utf8').trim());
      if (!(pid > 0)) return null;
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  async cliServerMemory(): Promise<MemoryFigure | null> {
    const pid = this.cliServerPid();
    return pid ? measureEngineMemory({ daemonPids: [pid], monitorComm: '', markers: [] }) : null;
  }

  async stop(): Promise<void> {
    const server = this.cliServerPid();
    if (server) process.kill(server, 'SIGTERM');
    await rm(join(this.opts.dir, 'berth-cli'), { recursive: true, force: true });
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

  // Kills monitors the daemon left, unmounts what it left mounted, removes its bridges and
  // their iptables rules, then deletes its roots.
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
    // Containers outlive a killed berthd and its conmons; runc (state under the exec root)
    // knows them and removes their processes and cgroups.
    const runcRoot = join(this.exec, 'runc');
    const listed = await runCommand('runc', ['--root', runcRoot, 'list', '-q']).catch(() => null);
    const left = listed?.code === 0 ? listed.stdout.split('\n').filter(Boolean) : [];
    if (left.length) {
      this.notes.push(`removed ${left.length} container(s) berthd left running`);
      for (const id of left) await runCommand('runc', ['--root', runcRoot, 'delete', '-f', id]);
    }
    const stuck = await unmountUnder([this.root, this.exec]);
    if (stuck.length) {
      throw new Error(`cannot unmount ${stuck.join(', ')}; leaving ${this.root} and ${this.exec} in place`);
    }
    await cleanupNetworks(this.root, [this.opts.bridge.name]);
    await rm(this.root, { recursive: true, force: true });
    await rm(this.exec, { recursive: true, force: true });
    await rm(this.sock, { force: true });
    await rm(this.config, { force: true });
    if (!keepLog) await rm(this.log, { force: true });
    // The warm CLI server's log (the launcher's BERTH_CLI_SERVER_LOG above) lives in the shared dir too.
    if (!keepLog) await rm(join(this.opts.dir, 'berth-cli-server.log'), { force: true });
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
