// The reference Docker, run by scripts/reference-dockerd.sh on its own socket and roots.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFailure, runCommand } from './command.js';
import type { Client, Engine } from './engine.js';
import type { BridgeSpec } from './bench-network.js';
import type { ProcessSetSpec } from './proc.js';

export interface DockerEngineOptions {
  repoRoot: string;
  /** State directory shared with the script (REFDOCKER_DIR). */
  dir: string;
  dockerCli: string;
  /** Leave the daemon running at the end. */
  keep: boolean;
  /** Give the default network this bridge, iptables rules and docker-proxy; none by default. */
  bridge?: BridgeSpec;
}

export function defaultDockerCli(): string {
  if (process.env.DOCKER_CLI) return process.env.DOCKER_CLI;
  return existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';
}

export class ReferenceDocker implements Engine {
  readonly name = 'docker';
  readonly clients: readonly Client[];
  readonly notes: string[] = [];
  private startedHere = false;

  constructor(private readonly opts: DockerEngineOptions) {
    this.clients = [
      { label: 'docker CLI', command: opts.dockerCli, args: ['-H', `unix://${join(opts.dir, 'docker.sock')}`] },
    ];
  }

  private script(action: string) {
    return runCommand('bash', [join(this.opts.repoRoot, 'scripts/reference-dockerd.sh'), action], {
      ...process.env,
      REFDOCKER_DIR: this.opts.dir,
      DOCKER_CLI: this.opts.dockerCli,
      ...(this.opts.bridge ? { REFDOCKER_BRIDGE: this.opts.bridge.name, REFDOCKER_BIP: this.opts.bridge.bip } : {}),
    });
  }

  async start(): Promise<void> {
    if ((await this.script('status')).code === 0) {
      // Someone else (compat tests, a person) runs it: measure it, leave it running.
      this.notes.push('reused an already running reference dockerd; idle memory may include its history');
      const r = await this.script('start'); // makes sure busybox:latest is there
      if (r.code !== 0) throw new Error(describeFailure('reference-dockerd.sh start', r));
      return;
    }
    this.startedHere = true;
    const r = await this.script('start');
    if (r.code !== 0) throw new Error(describeFailure('reference-dockerd.sh start', r));
  }

  async processSpec(): Promise<ProcessSetSpec> {
    const pid = Number((await readFile(join(this.opts.dir, 'docker.pid'), 'utf8')).trim());
    return {
      daemonPids: Number.isInteger(pid) && pid > 0 ? [pid] : [],
      // containerd-shim-runc-v2, truncated by the kernel to 15 bytes
      monitorComm: 'containerd-shim',
      markers: [`-address ${join(this.opts.dir, 'docker-exec')}/`],
    };
  }

  async stop(): Promise<void> {
    if (!this.startedHere) return;
    if (this.opts.keep) {
      this.notes.push(`left running (--keep): stop it with scripts/reference-dockerd.sh stop`);
      return;
    }
    const r = await this.script('stop');
    if (r.code !== 0) throw new Error(describeFailure('reference-dockerd.sh stop', r));
  }
}
