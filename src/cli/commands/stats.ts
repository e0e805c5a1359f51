import { readAll } from '../../client/transport.js';
import { encodeFilters } from '../../client/engine-client.js';
import { joinErrors, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { renderList } from '../formatter.js';
import { filterFlag, formatFlag, type FilterMap } from '../opts/filters.js';
import { truncateId } from '../container-rows.js';
import { bytesSize, humanSizeWithPrecision } from '../../util/units.js';

// `berth stats`: docker's StatsEntry math over GET /containers/{id}/stats?stream=0
// (the daemon samples twice, so precpu_stats gives the CPU delta).

interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

export interface StatsJson {
  name?: string;
  id?: string;
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  pids_stats?: { current?: number };
}

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

const pct = (v: number): string => `${v.toFixed(2)}%`;

export function statsRow(container: string, s: StatsJson | undefined, trunc: boolean): Record<string, string> {
  if (!s) {
    return { BlockIO: '--', CPUPerc: '--', Container: container, ID: trunc ? truncateId(container) : container, MemPerc: '--', MemUsage: '-- / --', Name: '--', NetIO: '--', PIDs: '--' };
  }
  const cpu = s.cpu_stats ?? {};
  const pre = s.precpu_stats ?? {};
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const sysDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const online = cpu.online_cpus || (cpu.cpu_usage?.percpu_usage ?? []).length;
  const cpuPercent = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  const mem = s.memory_stats ?? {};
  const usage = mem.usage ?? 0;
  const st = mem.stats ?? {};
  let used = usage;
  if ('total_inactive_file' in st && st.total_inactive_file < usage) used = usage - st.total_inactive_file;
  else if ((st.inactive_file ?? 0) < usage) used = usage - (st.inactive_file ?? 0);
  const limit = mem.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const c = e.op[0];
    if (c === 'r' || c === 'R') read += e.value;
    else if (c === 'w' || c === 'W') write += e.value;
  }
  const id = s.id ?? container;
  return {
    BlockIO: `${humanSizeWithPrecision(read, 3)} / ${humanSizeWithPrecision(write, 3)}`,
    CPUPerc: pct(cpuPercent),
    Container: container,
    ID: trunc ? truncateId(id) : id,
    MemPerc: pct(limit !== 0 ? (used / limit) * 100 : 0),
    MemUsage: `${bytesSize(used)} / ${bytesSize(limit)}`,
    Name: s.name && s.name.length > 1 ? s.name.slice(1) : '--',
    NetIO: `${humanSizeWithPrecision(rx, 3)} / ${humanSizeWithPrecision(tx, 3)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

async function sample(ctx: CliContext, id: string): Promise<StatsJson> {
  const res = await ctx.client().containerStats(id, false);
  return JSON.parse((await readAll(res)).toString('utf8')) as StatsJson;
}

export const statsCommand: CommandSpec = {
  name: 'stats',
  use: 'stats [OPTIONS] [CONTAINER...]',
  short: 'Display a live stream of container(s) resource usage statistics',
  aliasText: 'docker container stats, docker stats',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'no-stream', kind: 'bool', usage: 'Disable streaming stats and only pull the first result' },
    { name: 'no-trunc', kind: 'bool', usage: 'Do not truncate output' },
    formatFlag(),
    { ...filterFlag(), hidden: true },
  ],
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const noStream = flags.bool('no-stream');
    const trunc = !flags.bool('no-trunc');
    const filters = flags.get('filter') as FilterMap | undefined;
    if (args.length > 0 && filters && Object.keys(filters).length > 0) {
      throw new Error('filtering is not supported when specifying a list of containers');
    }
    const format = flags.string('format') || 'table';
    const listed = async (): Promise<string[]> =>
      args.length > 0
        ? args
        : (await ctx.client().containerList({ all: flags.bool('all') ? '1' : undefined, filters: encodeFilters(filters) })).map((c) => c.Id);
    for (;;) {
      const ids = await listed();
      const results = await Promise.allSettled(ids.map((id) => sample(ctx, id)));
      if (args.length > 0) {
        const errs = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
        const err = joinErrors(errs);
        if (err) throw err;
      }
      const rows = ids.map((id, i) => statsRow(id, results[i].status === 'fulfilled' ? (results[i] as PromiseFulfilledResult<StatsJson>).value : undefined, trunc));
      const text = renderList({ format: format === 'table' ? DEFAULT_FORMAT : format, header: STATS_HEADERS, rows, goType: '*container.statsContext' });
      if (noStream) {
        ctx.out(text);
        return;
      }
      // Redraw in place: home, each line cleared to its end, then clear below.
      ctx.out(`\x1b[H${text.split('\n').map((l) => `${l} \x1b[K\n`).join('')}\x1b[J`);
      await new Promise((r) => setTimeout(r, 500));
    }
  },
};
