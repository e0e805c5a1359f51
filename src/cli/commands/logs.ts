import { exactArgs, type CliContext, type CommandSpec } from '../command.js';
import type { ParsedFlags } from '../flags.js';
import { StdDemuxer } from '../../client/stdcopy.js';
import { getTimestamp } from '../timestamps.js';

// `berth logs`: the container is inspected first (docker does, to know whether
// the stream is raw TTY output or framed stdout/stderr).

export const logsCommand: CommandSpec = {
  name: 'logs',
  use: 'logs [OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  aliasText: 'docker container logs, docker logs',
  flags: [
    { name: 'follow', short: 'f', kind: 'bool', usage: 'Follow log output' },
    { name: 'since', kind: 'string', usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'until', kind: 'string', usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'timestamps', short: 't', kind: 'bool', usage: 'Show timestamps' },
    { name: 'details', kind: 'bool', usage: 'Show extra details provided to logs' },
    { name: 'tail', short: 'n', kind: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs' },
  ],
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => {
    const client = ctx.client();
    const { value: c } = await client.containerInspect(args[0]);
    const now = new Date();
    const stamp = (name: string): string | undefined => {
      const v = flags.string(name);
      if (v === '') return undefined;
      try {
        return getTimestamp(v, now);
      } catch (err) {
        throw new Error(`invalid value for "${name}": ${(err as Error).message}`);
      }
    };
    const res = await client.containerLogs(c.Id, {
      stdout: '1',
      stderr: '1',
      since: stamp('since'),
      until: stamp('until'),
      timestamps: flags.bool('timestamps') ? '1' : undefined,
      details: flags.bool('details') ? '1' : undefined,
      follow: flags.bool('follow') ? '1' : undefined,
      tail: flags.string('tail'),
    });
    const demux = c.Config.Tty
      ? undefined
      : new StdDemuxer({ stdout: (b) => ctx.io.stdout.write(b), stderr: (b) => ctx.io.stderr.write(b) });
    for await (const chunk of res) {
      if (demux) demux.push(chunk as Buffer);
      else ctx.io.stdout.write(chunk as Buffer);
    }
  },
};
