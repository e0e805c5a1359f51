import { joinErrors, maxArgs, minArgs, noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { renderList } from '../formatter.js';
import { inspectRefs } from '../inspect-output.js';
import { confirm } from '../prompt.js';
import { addFilter, filterFlag, formatFlag, INSPECT_FORMAT_HELP, type FilterMap } from '../opts/filters.js';
import { validateLabel } from '../opts/validators.js';
import { humanSize } from '../../util/units.js';
import { naturalLess } from './port.js';

// `berth volume create|ls|inspect|rm|prune`, as docker's cli/command/volume prints them.

interface VolumeJson {
  Name: string;
  Driver: string;
  Scope?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

const kv = (prev: unknown, raw: string): Record<string, string> => {
  const i = raw.indexOf('=');
  return { ...((prev as Record<string, string> | undefined) ?? {}), [i < 0 ? raw : raw.slice(0, i)]: i < 0 ? '' : raw.slice(i + 1) };
};

const createCommand: CommandSpec = {
  name: 'create',
  use: 'create [OPTIONS] [VOLUME]',
  short: 'Create a volume',
  flags: [
    { name: 'driver', short: 'd', kind: 'string', default: 'local', usage: 'Specify volume driver name' },
    { name: 'name', kind: 'string', hidden: true, usage: 'Specify volume name' },
    { name: 'opt', short: 'o', kind: 'value', typeName: 'map', defaultText: 'map[]', usage: 'Set driver specific options', parse: (raw, prev) => kv(prev, raw) },
    { name: 'label', kind: 'list', usage: 'Set metadata for a volume', parse: (raw, prev) => [...((prev as string[] | undefined) ?? []), validateLabel(raw)] },
  ],
  args: maxArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    let name = flags.string('name');
    if (args.length === 1) {
      if (name !== '') throw new Error('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      name = args[0];
    }
    const labels: Record<string, string> = {};
    for (const l of flags.list('label')) Object.assign(labels, kv(undefined, l));
    const opts = (flags.get('opt') as Record<string, string> | undefined) ?? {};
    const v = await ctx.client().volumeCreate({
      Name: name,
      Driver: flags.string('driver'),
      DriverOpts: Object.keys(opts).length > 0 ? opts : undefined,
      Labels: Object.keys(labels).length > 0 ? labels : undefined,
    });
    ctx.out(`${String(v.Name)}\n`);
  },
};

// docker's formatter/volume.go: fields a --format may name.
export function volumeRow(v: VolumeJson): Record<string, string> {
  const labels = v.Labels ?? null;
  return {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope ?? '',
    Mountpoint: v.Mountpoint ?? '',
    Labels: labels ? Object.entries(labels).map(([k, val]) => `${k}=${val}`).join(',') : '',
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A',
    Group: 'N/A',
    Availability: 'N/A',
    Status: 'N/A',
  };
}

const VOLUME_HEADERS = {
  ID: 'ID', Name: 'VOLUME NAME', Group: 'GROUP', Driver: 'DRIVER', Scope: 'SCOPE', Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Status: 'STATUS',
};

const lsCommand: CommandSpec = {
  name: 'ls',
  use: 'ls [OPTIONS]',
  aliases: ['list'],
  short: 'List volumes',
  flags: [
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display volume names' },
    formatFlag(),
    filterFlag('Provide filter values (e.g. "dangling=true")'),
    { name: 'cluster', kind: 'bool', hidden: true, usage: 'Display only cluster volumes, and use cluster volume list formatting' },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const res = await ctx.client().volumeList((flags.get('filter') as FilterMap | undefined) ?? {});
    const volumes = ((res.Volumes ?? []) as unknown as VolumeJson[]).sort((a, b) => (naturalLess(a.Name, b.Name) ? -1 : naturalLess(b.Name, a.Name) ? 1 : 0));
    const quiet = flags.bool('quiet');
    const given = flags.string('format');
    const format = given === '' || given === 'table' ? (quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}') : given;
    ctx.out(renderList({ format, header: VOLUME_HEADERS, rows: volumes.map(volumeRow), labels: volumes.map((v) => v.Labels), goType: '*formatter.volumeContext' }));
    for (const w of res.Warnings ?? []) ctx.err(`${w}\n`);
  },
};

const inspectCommand: CommandSpec = {
  name: 'inspect',
  use: 'inspect [OPTIONS] VOLUME [VOLUME...]',
  short: 'Display detailed information on one or more volumes',
  flags: [{ name: 'format', short: 'f', kind: 'string', usage: INSPECT_FORMAT_HELP }],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    await inspectRefs(ctx, args, flags.string('format'), (ref) => client.objectInspect('volumes', ref));
  },
};

const rmCommand: CommandSpec = {
  name: 'rm',
  use: 'rm [OPTIONS] VOLUME [VOLUME...]',
  aliases: ['remove'],
  short: 'Remove one or more volumes',
  long: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
  flags: [{ name: 'force', short: 'f', kind: 'bool', usage: 'Force the removal of one or more volumes' }],
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const errors: Error[] = [];
    for (const name of args) {
      try {
        await ctx.client().volumeRemove(name, flags.bool('force'));
        ctx.out(`${name}\n`);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    const err = joinErrors(errors);
    if (err) throw err;
  },
};

const UNUSED_WARNING = `WARNING! This will remove anonymous local volumes not used by at least one container.
Are you sure you want to continue?`;
const ALL_WARNING = `WARNING! This will remove all local volumes not used by at least one container.
Are you sure you want to continue?`;

export const volumePruneCommand: CommandSpec = {
  name: 'prune',
  use: 'prune [OPTIONS]',
  short: 'Remove unused local volumes',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    { name: 'filter', kind: 'value', typeName: 'filter', usage: 'Provide filter values (e.g. "label=<label>")', parse: (raw, prev) => addFilter(prev, raw) },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    let filters = (flags.get('filter') as FilterMap | undefined) ?? {};
    let warning = UNUSED_WARNING;
    if (flags.bool('all')) {
      if ('all' in filters) throw new Error('conflicting options: cannot specify both --all and --filter all=1');
      filters = addFilter(filters, 'all=true');
      warning = ALL_WARNING;
    } else if (!('all' in filters)) {
      // This client speaks /v1.41, where berthd (as dockerd) takes every unused volume
      // unless told otherwise; the CLI means the 1.42 default, anonymous ones only.
      filters = addFilter(filters, 'all=false');
    }
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const report = await ctx.client().prune('volumes', filters);
    const deleted = report.VolumesDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
    ctx.out(`Total reclaimed space: ${humanSize(deleted.length > 0 ? (report.SpaceReclaimed ?? 0) : 0)}\n`);
    return 0;
  },
};

export const volumeCommand: CommandSpec = {
  name: 'volume',
  use: 'volume COMMAND',
  short: 'Manage volumes',
  args: noArgs,
  subcommands: [createCommand, inspectCommand, lsCommand, volumePruneCommand, rmCommand],
};
