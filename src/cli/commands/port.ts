import { rangeArgs, type CliContext, type CommandSpec } from '../command.js';
import { parseGoUint } from '../flags.js';

// sortorder.NaturalLess: digit runs compare as numbers.
export function naturalLess(a: string, b: string): boolean {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny;
      return x.length < y.length;
    }
    return x < y;
  }
  return pa.length < pb.length;
}

const joinHostPort = (h: string, p: string): string => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`);

export const portCommand: CommandSpec = {
  name: 'port',
  use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
  short: 'List port mappings or a specific mapping for the container',
  aliasText: 'docker container port, docker port',
  args: rangeArgs(1, 2),
  run: async (ctx: CliContext, _flags, args: string[]) => {
    const { value: c } = await ctx.client().containerInspect(args[0]);
    const ports = c.NetworkSettings?.Ports ?? {};
    const out: string[] = [];
    if (args.length > 1) {
      const [port, proto = 'tcp'] = args[1].split('/', 2) as [string, string?];
      try {
        parseGoUint(port, 16);
      } catch (err) {
        throw new Error(`Error: invalid port (${port}): ${(err as Error).message}`);
      }
      const frontends = ports[`${port}/${proto || 'tcp'}`];
      if (!frontends || frontends.length === 0) throw new Error(`Error: No public port '${args[1]}' published for ${args[0]}`);
      for (const f of frontends) out.push(joinHostPort(f.HostIp, f.HostPort));
    } else {
      for (const [from, frontends] of Object.entries(ports)) {
        for (const f of frontends ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp, f.HostPort)}`);
      }
    }
    if (out.length > 0) {
      out.sort((x, y) => (naturalLess(x, y) ? -1 : naturalLess(y, x) ? 1 : 0));
      ctx.out(`${out.join('\n')}\n`);
    }
  },
};
