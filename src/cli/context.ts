import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { EngineClient } from '../client/engine-client.js';
import { resolveHost } from '../client/host.js';
import type { CliContext, CliIO, ClientConfigFile } from './command.js';

// What a command gets: its streams, the path it was called by, and a client
// made on first use from -H / BERTH_HOST / DOCKER_HOST.

export interface GlobalOptions {
  hosts: string[];
  configDir?: string;
  debug: boolean;
}

export function configDir(opts: GlobalOptions, env: NodeJS.ProcessEnv): string {
  return opts.configDir || env.BERTH_CONFIG || env.DOCKER_CONFIG || path.join(homedir(), '.docker');
}

// The client config file. An explicit --config, BERTH_CONFIG or DOCKER_CONFIG names the one
// directory to read; by default ~/.docker/config.json is read as docker does, and
// ~/.berth/config.json, if present, overrides its keys (e.g. a detachKeys for berth only).
export function loadClientConfig(opts: GlobalOptions, env: NodeJS.ProcessEnv): ClientConfigFile {
  if (opts.configDir || env.BERTH_CONFIG || env.DOCKER_CONFIG) return loadConfigFile(configDir(opts, env));
  const home = env.HOME || homedir();
  return { ...loadConfigFile(path.join(home, '.docker')), ...loadConfigFile(path.join(home, '.berth')) };
}

export function loadConfigFile(dir: string): ClientConfigFile {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as ClientConfigFile;
  } catch {
    return {};
  }
}

export class Context implements CliContext {
  private engine?: EngineClient;
  private config?: ClientConfigFile;

  constructor(
    readonly io: CliIO,
    readonly commandPath: string,
    private readonly globals: GlobalOptions,
  ) {}

  get debug(): boolean {
    return this.globals.debug;
  }

  client(): EngineClient {
    if (!this.engine) {
      const host = resolveHost(this.globals.hosts, this.io.env);
      const apiVersion = this.io.env.BERTH_API_VERSION || this.io.env.DOCKER_API_VERSION || undefined;
      this.engine = new EngineClient({ host, apiVersion });
    }
    return this.engine;
  }

  configFile(): ClientConfigFile {
    this.config ??= loadClientConfig(this.globals, this.io.env);
    return this.config;
  }

  explicitConfigDir(): string | undefined {
    return this.globals.configDir;
  }

  out(text: string): void {
    this.io.stdout.write(text);
  }

  err(text: string): void {
    this.io.stderr.write(text);
  }

  close(): void {
    this.engine?.close();
  }
}
