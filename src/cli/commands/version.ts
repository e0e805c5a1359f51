import { CLIENT_VERSION } from '../../client/engine-client.js';
import type { ServerVersion } from '../../client/types.js';
import { StatusError, noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { FormatError, compile, run } from '../formatter.js';
import { INSPECT_FORMAT_HELP } from '../opts/filters.js';
import { alignTabs } from '../../util/go-template.js';
import { ansic } from '../../util/units.js';

// `berth version`: docker's layout (a tabwriter with minwidth 20, padding 1). The
// client part prints even when the daemon is unreachable; the error follows.

const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function clientVersionInfo(apiVersion: string) {
  return {
    Platform: undefined as { Name: string } | undefined,
    Version: CLIENT_VERSION,
    APIVersion: apiVersion,
    DefaultAPIVersion: apiVersion,
    GitCommit: 'unknown',
    GoVersion: `node${process.versions.node}`,
    Os: process.platform,
    Arch: GOARCH[process.arch] ?? process.arch,
    BuildTime: '',
    Context: 'default',
  };
}

function reformatDate(s: string | undefined): string {
  if (!s) return '';
  const t = new Date(s);
  return Number.isNaN(t.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(s) ? s : ansic(t);
}

function engineComponent(sv: ServerVersion): { Name: string; Version: string; Details: Record<string, string> } {
  const found = sv.Components?.find((c) => c.Name === 'Engine');
  if (found) {
    const details = { ...(found.Details ?? {}) };
    if (details.BuildTime) details.BuildTime = reformatDate(details.BuildTime);
    return { Name: 'Engine', Version: found.Version, Details: details };
  }
  return {
    Name: 'Engine',
    Version: sv.Version,
    Details: {
      ApiVersion: sv.ApiVersion,
      MinAPIVersion: sv.MinAPIVersion ?? '',
      GitCommit: sv.GitCommit,
      GoVersion: sv.GoVersion,
      Os: sv.Os,
      Arch: sv.Arch,
      BuildTime: reformatDate(sv.BuildTime),
      Experimental: String(sv.Experimental ?? false),
    },
  };
}

function prettyVersion(client: ReturnType<typeof clientVersionInfo>, sv: ServerVersion | undefined): string {
  let t = `Client:${client.Platform?.Name ? ` ${client.Platform.Name}` : ''}\n`;
  t += ` Version:\t${client.Version}\n`;
  t += ` API version:\t${client.APIVersion}${client.APIVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : ''}\n`;
  t += ` Go version:\t${client.GoVersion}\n`;
  t += ` Git commit:\t${client.GitCommit}\n`;
  t += ` Built:\t${client.BuildTime}\n`;
  t += ` OS/Arch:\t${client.Os}/${client.Arch}\n`;
  t += ` Context:\t${client.Context}`;
  if (sv) {
    t += `\n\nServer:${sv.Platform?.Name ? ` ${sv.Platform.Name}` : ''}`;
    const comps = [...(sv.Components ?? [])];
    if (!comps.some((c) => c.Name === 'Engine')) comps.push(engineComponent(sv));
    for (const c of comps) {
      t += `\n ${c.Name}:`;
      if (c.Name === 'Engine') {
        const d = engineComponent(sv).Details;
        t += `\n  Version:\t${c.Version}`;
        t += `\n  API version:\t${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`;
        t += `\n  Go version:\t${d.GoVersion ?? ''}`;
        t += `\n  Git commit:\t${d.GitCommit ?? ''}`;
        t += `\n  Built:\t${d.BuildTime ?? ''}`;
        t += `\n  OS/Arch:\t${d.Os ?? ''}/${d.Arch ?? ''}`;
        t += `\n  Experimental:\t${d.Experimental ?? ''}`;
      } else {
        t += `\n  Version:\t${c.Version}`;
        for (const k of Object.keys(c.Details ?? {}).sort()) t += `\n  ${k}:\t${(c.Details ?? {})[k]}`;
      }
    }
  }
  return alignTabs(`${t}\n`, { minwidth: 20, padding: 1 });
}

export const versionCommand: CommandSpec = {
  name: 'version',
  use: 'version [OPTIONS]',
  short: 'Show the Docker version information',
  topCategory: 10,
  flags: [{ name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP }],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const format = flags.string('format');
    let tpl;
    if (format !== '' && format !== 'json') {
      try {
        tpl = compile(format);
      } catch (err) {
        throw new StatusError((err as FormatError).message, 64);
      }
    }
    const client = ctx.client();
    const info = clientVersionInfo(client.apiVersion);
    let sv: ServerVersion | undefined;
    let serverErr: Error | undefined;
    try {
      sv = await client.version();
    } catch (err) {
      serverErr = err as Error;
    }
    if (format === '') {
      ctx.out(prettyVersion(info, sv));
    } else {
      const data = { Client: info, Server: sv ? { ...sv, APIVersion: sv.ApiVersion, Components: sv.Components ?? [engineComponent(sv)] } : null };
      if (format === 'json') {
        const { APIVersion, Platform, ...rest } = info;
        const clientJson = { ...(Platform ? { Platform } : {}), ...rest, ApiVersion: APIVersion };
        ctx.out(`${JSON.stringify({ Client: clientJson, Server: sv ?? null })}\n`);
      } else if (tpl) {
        try {
          ctx.out(alignTabs(`${run(tpl, data)}\n`, { minwidth: 20, padding: 1 }));
        } catch (err) {
          if (!serverErr) throw err;
        }
      }
    }
    if (serverErr) throw serverErr;
  },
};
