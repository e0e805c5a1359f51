import { minArgs, type CliContext, type CommandSpec } from '../command.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { ramInBytes } from '../../util/units.js';
import { parseCPUs, parseRestartPolicy } from '../opts/validators.js';

const bytes = (raw: string): number => ramInBytes(raw);

const updateFlags: FlagSpec[] = [
  { name: 'blkio-weight', kind: 'uint16', usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)' },
  { name: 'cpu-period', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', kind: 'int', usage: 'Limit the CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', kind: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
  { name: 'cpuset-cpus', kind: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', kind: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'cpu-shares', short: 'c', kind: 'int', usage: 'CPU shares (relative weight)' },
  { name: 'memory', short: 'm', kind: 'value', typeName: 'bytes', default: 0, usage: 'Memory limit', parse: bytes },
  { name: 'memory-reservation', kind: 'value', typeName: 'bytes', default: 0, usage: 'Memory soft limit', parse: bytes },
  {
    name: 'memory-swap',
    kind: 'value',
    typeName: 'bytes',
    default: 0,
    usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap',
    parse: (raw) => (raw === '-1' ? -1 : ramInBytes(raw)),
  },
  { name: 'kernel-memory', kind: 'value', typeName: 'bytes', default: 0, hidden: true, usage: 'Kernel memory limit (deprecated)', parse: bytes },
  { name: 'restart', kind: 'string', usage: 'Restart policy to apply when a container exits' },
  { name: 'pids-limit', kind: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'cpus', kind: 'value', typeName: 'decimal', default: 0, usage: 'Number of CPUs', parse: (raw) => parseCPUs(raw) },
];

export const updateCommand: CommandSpec = {
  name: 'update',
  use: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Update configuration of one or more containers',
  aliasText: 'docker container update, docker update',
  flags: updateFlags,
  args: minArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    if (!updateFlags.some((f) => flags.changed(f.name))) throw new Error('you must provide one or more flags when using this command');
    const restart = flags.string('restart') !== '' ? parseRestartPolicy(flags.string('restart')) : { Name: '', MaximumRetryCount: 0 };
    const pids = flags.number('pids-limit');
    // docker's UpdateConfig: the Resources struct (zero values included) plus the restart policy.
    const body = {
      CpuShares: flags.number('cpu-shares'),
      Memory: flags.number('memory'),
      NanoCpus: flags.number('cpus'),
      CgroupParent: '',
      BlkioWeight: flags.number('blkio-weight'),
      BlkioWeightDevice: null,
      BlkioDeviceReadBps: null,
      BlkioDeviceWriteBps: null,
      BlkioDeviceReadIOps: null,
      BlkioDeviceWriteIOps: null,
      CpuPeriod: flags.number('cpu-period'),
      CpuQuota: flags.number('cpu-quota'),
      CpuRealtimePeriod: flags.number('cpu-rt-period'),
      CpuRealtimeRuntime: flags.number('cpu-rt-runtime'),
      CpusetCpus: flags.string('cpuset-cpus'),
      CpusetMems: flags.string('cpuset-mems'),
      Devices: null,
      DeviceCgroupRules: null,
      DeviceRequests: null,
      KernelMemory: flags.number('kernel-memory') || undefined,
      MemoryReservation: flags.number('memory-reservation'),
      MemorySwap: flags.number('memory-swap'),
      MemorySwappiness: null,
      OomKillDisable: null,
      PidsLimit: pids !== 0 ? pids : null,
      Ulimits: null,
      CpuCount: 0,
      CpuPercent: 0,
      IOMaximumIOps: 0,
      IOMaximumBandwidth: 0,
      RestartPolicy: restart,
    };
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const c of args) {
      try {
        const r = await ctx.client().containerUpdate(c, body);
        ctx.out(`${c}\n`);
        warnings.push(...(r.Warnings ?? []));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (warnings.length > 0) ctx.out(`${warnings.join('\n')}\n`);
    if (errors.length > 0) throw new Error(errors.join('\n'));
  },
};
