// What every bench/ script does around its measurements: read its options, build the engines,
// stop cleanly on Ctrl-C, describe the host, and write the results file.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, hostname, loadavg, release } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { benchBridges } from './bench-network.js';
import { BerthEngine, type BerthEngineOptions } from './berth-engine.js';
import { runCommand } from './command.js';
import { ReferenceDocker, defaultDockerCli, type DockerEngineOptions } from './docker-engine.js';
import type { Engine } from './engine.js';

/** A bad option: the script prints it with its usage and exits 2. */
export class UsageError extends Error {}

const COMMON_OPTIONS = {
  engines: { type: 'string', default: 'docker,berth' },
  'no-build': { type: 'boolean', default: false },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The options every script takes (--engines --no-build --keep --dir --json --help) and its own. */
export function parseBenchArgs<O extends NonNullable<ParseArgsConfig['options']>>(own: O, files: { dir: string; json: string }) {
  const options = {
    ...COMMON_OPTIONS,
    dir: { type: 'string', default: files.dir },
    json: { type: 'string', default: files.json },
    ...own,
  } as const;
  try {
    return parseArgs({ options, strict: true }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function positiveInt(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

export type EngineName = 'docker' | 'berth';

/** `--engines docker,berth`: at least one, nothing else. */
export function parseEngineNames(raw: string): EngineName[] {
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0 || wanted.some((e) => e !== 'docker' && e !== 'berth')) {
    throw new UsageError(`--engines takes docker and/or berth, got ${JSON.stringify(raw)}`);
  }
  return wanted as EngineName[];
}

/** The reference Docker first, so that alternating calls always start with it. */
export function makeEngines(
  wanted: readonly EngineName[],
  docker: DockerEngineOptions,
  berth: BerthEngineOptions,
): Engine[] {
  const engines: Engine[] = [];
  if (wanted.includes('docker')) engines.push(new ReferenceDocker(docker));
  if (wanted.includes('berth')) engines.push(new BerthEngine(berth));
  return engines;
}

/**
 * The engines as the CLI-latency scripts run them: the reference dockerd without a bridge
 * (see README), berthd with a bridge of its own; both driven by the default docker CLI.
 */
export async function bridgedEngines(
  wanted: readonly EngineName[],
  opts: { repoRoot: string; dir: string; keep: boolean; build: boolean; withDockerCli: boolean; berthdBundle?: string },
): Promise<{ engines: Engine[]; dockerCli: string }> {
  const { repoRoot, dir, keep } = opts;
  const dockerCli = defaultDockerCli();
  const { b } = await benchBridges(dir, ['b']);
  const engines = makeEngines(
    wanted,
    { repoRoot, dir, dockerCli, keep },
    { repoRoot, dir, dockerCli, keep, build: opts.build, withDockerCli: opts.withDockerCli, bridge: b!, berthdBundle: opts.berthdBundle },
  );
  return { engines, dockerCli };
}

/** Aborted on the first SIGINT/SIGTERM: the measurement stops at its next step and cleans up. */
export function interruptSignal(): AbortSignal {
  const abort = new AbortController();
  const onSignal = (sig: string): void => {
    if (abort.signal.aborted) return;
    console.error(`\n${sig}: stopping after the current call and cleaning up`);
    abort.abort();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return abort.signal;
}

export const progress = (line: string): void => console.error(`· ${line}`);

export interface HostInfo {
  hostname: string;
  kernel: string;
  node: string;
  cpus: number;
  dockerd: string;
  dockerCli: string;
  /** Other work on the machine skews timings; the load average says how much there was. */
  loadavg1: { before: number; after: number };
}

/** Call before measuring; the returned function completes the record after. */
export function startHostInfo(dockerCli: string): () => Promise<HostInfo> {
  const before = loadavg()[0];
  return async () => {
    const after = loadavg()[0];
    const version = (cmd: string) => runCommand(cmd, ['--version']).then((r) => r.stdout.trim(), () => '');
    return {
      hostname: hostname(), kernel: release(), node: process.version, cpus: cpus().length,
      dockerd: await version('dockerd'), dockerCli: await version(dockerCli),
      loadavg1: { before, after },
    };
  };
}

export function hostHeader(title: string, h: HostInfo): string {
  return (
    `${title} on ${h.hostname} (kernel ${h.kernel}, node ${h.node})` +
    `\nreference: ${h.dockerd || 'dockerd ?'}, client ${h.dockerCli || '?'}` +
    `\n${h.cpus} CPUs, load average ${h.loadavg1.before.toFixed(2)} before, ${h.loadavg1.after.toFixed(2)} after`
  );
}

export async function writeRecord(path: string, record: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(record, null, 2) + '\n');
}

export function requireRoot(script: string, why: string): void {
  if (process.getuid?.() !== 0) throw new UsageError(`${script} must run as root (${why})`);
}

/**
 * Runs a bench script's main: a UsageError prints the message and the usage and exits 2;
 * anything else thrown is a crash of the script itself.
 */
export async function runScript(usage: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${usage}`);
    process.exitCode = 2;
  }
}
