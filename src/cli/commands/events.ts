import { encodeFilters } from '../../client/engine-client.js';
import type { EventMessage } from '../../client/types.js';
import { JsonValueSplitter } from '../../client/json-stream.js';
import { StatusError, noArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { compile, run, type Compiled } from '../formatter.js';
import { filterFlag, INSPECT_FORMAT_HELP, type FilterMap } from '../opts/filters.js';
import { getTimestamp } from '../timestamps.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

// Go's "2006-01-02T15:04:05.000000000Z07:00" in local time.
function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const nanos = Number(timeNano % 1_000_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:` +
    `${pad(d.getSeconds())}.${pad(nanos, 9)}${zone}`
  );
}

export function prettyEvent(e: EventMessage, timeNano?: bigint): string {
  let line = '';
  if (timeNano) line += `${rfc3339NanoFixed(timeNano)} `;
  else if (e.timeNano) line += `${rfc3339NanoFixed(BigInt(Math.trunc(e.timeNano)))} `;
  else if (e.time) line += `${rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n)} `;
  line += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length > 0) line += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${line}\n`;
}

export const eventsCommand: CommandSpec = {
  name: 'events',
  use: 'events [OPTIONS]',
  short: 'Get real time events from the server',
  aliasText: 'docker system events, docker events',
  flags: [
    { name: 'since', kind: 'string', usage: 'Show all events created since timestamp' },
    { name: 'until', kind: 'string', usage: 'Stream events until this timestamp' },
    filterFlag(),
    { name: 'format', kind: 'string', usage: INSPECT_FORMAT_HELP },
  ],
  args: noArgs,
  run: async (ctx: CliContext, flags: ParsedFlags) => {
    const format = flags.string('format');
    let tpl: Compiled | undefined;
    if (format !== '') {
      try {
        tpl = compile(format === 'json' ? '{{json .}}' : format);
      } catch (err) {
        throw new StatusError(`Error parsing format: ${(err as Error).message.replace(/^template parsing error: /, '')}`, 64);
      }
    }
    const now = new Date();
    const stamp = (v: string): string | undefined => (v === '' ? undefined : getTimestamp(v, now));
    const res = await ctx.client().events({
      since: stamp(flags.string('since')),
      until: stamp(flags.string('until')),
      filters: encodeFilters(flags.get('filter') as FilterMap | undefined),
    });
    const splitter = new JsonValueSplitter();
    res.setEncoding('utf8');
    for await (const chunk of res) {
      for (const text of splitter.push(chunk as string)) {
        const e = JSON.parse(text) as EventMessage;
        // timeNano exceeds 2^53: keep the exact digits for the timestamp.
        const exact = /"timeNano":\s*(\d+)/.exec(text)?.[1];
        ctx.out(tpl ? `${run(tpl, e)}\n` : prettyEvent(e, exact ? BigInt(exact) : undefined));
      }
    }
  },
};
