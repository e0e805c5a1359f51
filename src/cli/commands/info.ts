import { ConnectionError } from '../../client/engine-client.js';
import { StatusError, noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { compile, run } from '../formatter.js';
import { INSPECT_FORMAT_HELP } from '../opts/filters.js';
import { bytesSize } from '../../util/units.js';
import { clientVersionInfo } from './version.js';

// `berth info`: docker's prettyPrintInfo over GET /info, line for line.

type Info = Record<string, unknown>;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? (v as unknown[]).map(str) : []);

function printServer(info: Info, out: (s: string) => void, err: (s: string) => void): void {
  const line = (...parts: unknown[]): void => out(parts.map(str).join(' ') + '\n');
  const nonEmpty = (label: string, v: unknown): void => {
    if (str(v) !== '') line(label, v);
  };
  line(' Containers:', info.Containers ?? 0);
  line('  Running:', info.ContainersRunning ?? 0);
  line('  Paused:', info.ContainersPaused ?? 0);
  line('  Stopped:', info.ContainersStopped ?? 0);
  line(' Images:', info.Images ?? 0);
  nonEmpty(' Server Version:', info.ServerVersion);
  nonEmpty(' Storage Driver:', info.Driver);
  for (const pair of (info.DriverStatus as string[][] | null) ?? []) out(`  ${pair[0]}: ${pair[1]}\n`);
  for (const pair of (info.SystemStatus as string[][] | null) ?? []) out(` ${pair[0]}: ${pair[1]}\n`);
  nonEmpty(' Logging Driver:', info.LoggingDriver);
  nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  nonEmpty(' Cgroup Version:', info.CgroupVersion);
  const plugins = (info.Plugins as Record<string, unknown> | null) ?? {};
  line(' Plugins:');
  line('  Volume:', list(plugins.Volume).join(' '));
  line('  Network:', list(plugins.Network).join(' '));
  if (list(plugins.Authorization).length > 0) line('  Authorization:', list(plugins.Authorization).join(' '));
  line('  Log:', list(plugins.Log).join(' '));
  const cdi = list(info.CDISpecDirs);
  if (cdi.length > 0) {
    line(' CDI spec directories:');
    for (const d of cdi) out(`  ${d}\n`);
  }
  const swarm = (info.Swarm as Record<string, unknown> | null) ?? {};
  line(' Swarm:', swarm.LocalNodeState ?? 'inactive');
  const runtimes = Object.keys((info.Runtimes as Record<string, unknown> | null) ?? {});
  if (runtimes.length > 0) {
    line(' Runtimes:', runtimes.join(' '));
    line(' Default Runtime:', info.DefaultRuntime);
  }
  if (info.OSType === 'linux') {
    line(' Init Binary:', info.InitBinary);
    line(' containerd version:', (info.ContainerdCommit as { ID?: string } | null)?.ID ?? '');
    line(' runc version:', (info.RuncCommit as { ID?: string } | null)?.ID ?? '');
    line(' init version:', (info.InitCommit as { ID?: string } | null)?.ID ?? '');
    const secOpts = list(info.SecurityOptions);
    if (secOpts.length > 0) {
      line(' Security Options:');
      for (const so of secOpts) {
        // "name=seccomp,profile=builtin" → "  seccomp" / "   Profile: builtin"
        const kv = Object.fromEntries(so.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
        if (!('name' in kv)) {
          err(`ERROR: invalid security option ${JSON.stringify(so)}\n`);
          continue;
        }
        line(`  ${kv.name}`);
        if (kv.profile) line('   Profile:', kv.profile);
      }
    }
  }
  nonEmpty(' Kernel Version:', info.KernelVersion);
  nonEmpty(' Operating System:', info.OperatingSystem);
  nonEmpty(' OSType:', info.OSType);
  nonEmpty(' Architecture:', info.Architecture);
  line(' CPUs:', info.NCPU ?? 0);
  line(' Total Memory:', bytesSize(Number(info.MemTotal ?? 0)));
  nonEmpty(' Name:', info.Name);
  nonEmpty(' ID:', info.ID);
  line(' Docker Root Dir:', info.DockerRootDir);
  line(' Debug Mode:', info.Debug ?? false);
  if (info.Debug) {
    line('  File Descriptors:', info.NFd);
    line('  Goroutines:', info.NGoroutines);
    line('  System Time:', info.SystemTime);
    line('  EventsListeners:', info.NEventsListener);
  }
  nonEmpty(' HTTP Proxy:', info.HttpProxy);
  nonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  nonEmpty(' No Proxy:', info.NoProxy);
  const labels = list(info.Labels);
  if (labels.length > 0) {
    line(' Labels:');
    for (const l of labels) line(`  ${l}`);
  }
  line(' Experimental:', info.ExperimentalBuild ?? false);
  const reg = (info.RegistryConfig as Record<string, unknown> | null) ?? null;
  const indexConfigs = Object.values((reg?.IndexConfigs as Record<string, { Name: string; Secure: boolean }> | null) ?? {});
  const cidrs = list(reg?.InsecureRegistryCIDRs);
  if (reg && (cidrs.length > 0 || indexConfigs.length > 0)) {
    line(' Insecure Registries:');
    for (const c of indexConfigs) if (!c.Secure) line(`  ${c.Name}`);
    for (const c of cidrs) out(`  ${c}\n`);
  }
  const mirrors = list(reg?.Mirrors);
  if (mirrors.length > 0) {
    line(' Registry Mirrors:');
    for (const m of mirrors) line(`  ${m}`);
  }
  line(' Live Restore Enabled:', info.LiveRestoreEnabled ?? false);
  if (str(info.ProductLicense) !== '') line(' Product License:', info.ProductLicense);
  const pools = (info.DefaultAddressPools as Array<{ Base: string; Size: number }> | null) ?? [];
  if (pools.length > 0) {
    line(' Default Address Pools:');
    for (const p of pools) out(`   Base: ${p.Base}, Size: ${p.Size}\n`);
  }
  out('\n');
  for (const w of list(info.Warnings)) err(`${w}\n`);
}

export const infoCommand: CommandSpec = {
  name: 'info',
  use: 'info [OPTIONS]',
  short: 'Display system-wide information',
  aliasText: 'docker system info, docker info',
  topCategory: 12,
  flags: [{ name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP }],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const format = flags.string('format');
    const client = ctx.client();
    const clientInfo = { ...clientVersionInfo(client.apiVersion), Debug: ctx.debug, Plugins: [] as unknown[], Warnings: null };
    let info: Info | undefined;
    let connErr: Error | undefined;
    const serverErrors: string[] = [];
    try {
      info = await client.info();
    } catch (err) {
      if (err instanceof ConnectionError) connErr = err;
      else {
        serverErrors.push((err as Error).message);
        if (format !== '') ctx.err(`${(err as Error).message}\n`);
      }
    }
    if (format === '') {
      ctx.out('Client:\n');
      ctx.out(` Version:    ${clientInfo.Version}\n`);
      ctx.out(` Context:    ${clientInfo.Context}\n`);
      ctx.out(` Debug Mode: ${clientInfo.Debug}\n`);
      ctx.out('\nServer:\n');
      if (info) printServer(info, (s) => ctx.out(s), (s) => ctx.err(s));
      for (const e of serverErrors) ctx.err(`ERROR: ${e}\n`);
      if (serverErrors.length > 0) throw new Error(['errors pretty printing info', ...(connErr ? [connErr.message] : [])].join('\n'));
      if (connErr) throw connErr;
      return;
    }
    const data = { ...(info ?? {}), ClientInfo: clientInfo, ServerErrors: serverErrors.length > 0 ? serverErrors : undefined };
    let tpl;
    try {
      tpl = compile(format === 'json' ? '{{json .}}' : format);
    } catch (err) {
      throw new StatusError((err as Error).message, 64);
    }
    let rendered = '';
    let renderErr: Error | undefined;
    try {
      rendered = run(tpl, data);
    } catch (err) {
      renderErr = err as Error;
    }
    ctx.out(`${rendered}\n`);
    const errs = [connErr, renderErr].filter((e): e is Error => e !== undefined);
    if (errs.length > 0) throw new Error(errs.map((e) => e.message).join('\n'));
  },
};
