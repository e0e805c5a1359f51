// Where the daemon listens, resolved the way the docker CLI resolves it:
// -H/--host, else BERTH_HOST, else DOCKER_HOST, else the default unix socket.

export const DEFAULT_SOCKET = '/run/berth/berth.sock';
export const DEFAULT_HOST = `unix://${DEFAULT_SOCKET}`;
const DEFAULT_TCP_PORT = '2375';

export type DaemonAddress =
  | { kind: 'unix'; path: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

export class HostError extends Error {}

// Normalises a host string as docker's opts.ParseHost does; throws HostError with
// docker's wording on a bad address.
export function parseHost(raw: string): DaemonAddress {
  const val = raw.trim();
  if (val === '') return { kind: 'unix', path: DEFAULT_SOCKET, url: DEFAULT_HOST };
  const sep = val.indexOf('://');
  const proto = sep < 0 ? '' : val.slice(0, sep);
  const rest = sep < 0 ? val : val.slice(sep + 3);
  switch (proto) {
    case 'unix': {
      if (rest.includes('://')) throw new HostError(`invalid proto, expected unix: ${rest}`);
      const path = rest === '' ? DEFAULT_SOCKET : rest;
      return { kind: 'unix', path, url: `unix://${path}` };
    }
    case 'tcp':
      return parseTcp(rest, val);
    case '':
      // A bare "host:port" is not accepted by docker either.
      throw new HostError(`invalid bind address format: ${val}`);
    default:
      throw new HostError(`invalid bind address format: ${val}`);
  }
}

function parseTcp(addr: string, original: string): DaemonAddress {
  if (addr === '') return tcp('127.0.0.1', Number(DEFAULT_TCP_PORT));
  if (addr.includes('://')) throw new HostError(`invalid proto, expected tcp: ${original}`);
  const hostPart = addr.replace(/\/.*$/, '');
  let host: string;
  let port: string;
  const v6 = /^\[([^\]]*)\](?::(\d*))?$/.exec(hostPart);
  if (v6) {
    host = v6[1];
    port = v6[2] ?? '';
  } else {
    const i = hostPart.lastIndexOf(':');
    if (i < 0) {
      host = hostPart;
      port = '';
    } else {
      host = hostPart.slice(0, i);
      port = hostPart.slice(i + 1);
      if (host.includes(':')) throw new HostError(`invalid bind address format: ${original}`);
    }
  }
  if (host === '') host = '127.0.0.1';
  if (port === '') port = DEFAULT_TCP_PORT;
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new HostError(`invalid bind address format: ${original}`);
  return tcp(host, Number(port));
}

function tcp(host: string, port: number): DaemonAddress {
  const shown = host.includes(':') ? `[${host}]` : host;
  return { kind: 'tcp', host, port, url: `tcp://${shown}:${port}` };
}

// Picks the host from the flags and the environment. More than one -H is refused,
// as docker refuses it.
export function resolveHost(flagHosts: readonly string[], env: NodeJS.ProcessEnv): DaemonAddress {
  if (flagHosts.length > 1) throw new HostError('Specify only one -H');
  if (flagHosts.length === 1) return parseHost(flagHosts[0]);
  const fromEnv = env.BERTH_HOST || env.DOCKER_HOST || '';
  return parseHost(fromEnv);
}
