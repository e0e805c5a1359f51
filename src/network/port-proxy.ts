import { createServer, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { relayTcp } from './tcp-relay.js';

// berthd's userland proxy: Docker's docker-proxy, but a listening socket inside berthd
// instead of one process per published port. The socket also holds the host port, so a
// second container (or any program) cannot take it. Connections from the host's own
// loopback reach it (the kernel never routes 127/8 into a bridge, so DNAT cannot serve
// them); traffic from other hosts is DNATed by iptables before it gets here.

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface Proxy {
  readonly proto: 'tcp' | 'udp';
  readonly hostIp: string;
  readonly hostPort: number;
  close(): Promise<void>;
}

// Bind and listen; rejects with the listen error (EADDRINUSE…) so callers can try another port.
export function startProxy(proto: 'tcp' | 'udp', hostIp: string, hostPort: number, target: ProxyTarget): Promise<Proxy> {
  return proto === 'tcp' ? tcpProxy(hostIp, hostPort, target) : udpProxy(hostIp, hostPort, target);
}

function tcpProxy(hostIp: string, hostPort: number, target: ProxyTarget): Promise<Proxy> {
  const open = new Set<Socket>();
  // pauseOnConnect: relayTcp reads the client itself (tcp-relay.ts says why).
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (accepted) => {
    const { client, upstream } = relayTcp(accepted, target);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: hostIp, port: hostPort, ipv6Only: hostIp.includes(':') }, () => {
      server.off('error', reject);
      server.on('error', () => {});
      const port = (server.address() as { port: number }).port;
      resolve({
        proto: 'tcp',
        hostIp,
        hostPort: port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

// UDP has no connections: each client address gets its own socket towards the
// container, so replies find their way back; idle ones go after Docker's 90 s.
const UDP_IDLE_MS = 90_000;

function udpProxy(hostIp: string, hostPort: number, target: ProxyTarget): Promise<Proxy> {
  const v6 = hostIp.includes(':');
  const front: UdpSocket = createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  const flows = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();
  const dropFlow = (key: string): void => {
    const f = flows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.sock.close();
    flows.delete(key);
  };
  front.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}|${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const sock = createSocket('udp4');
      sock.on('message', (reply: Buffer) => {
        front.send(reply, from.port, from.address);
        const f = flows.get(key);
        if (f) f.timer.refresh();
      });
      sock.on('error', () => dropFlow(key));
      flow = { sock, timer: setTimeout(() => dropFlow(key), UDP_IDLE_MS) };
      flow.timer.unref();
      flows.set(key, flow);
    } else flow.timer.refresh();
    flow.sock.send(msg, target.port, target.host);
  });
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind({ address: hostIp, port: hostPort, exclusive: true }, () => {
      front.off('error', reject);
      front.on('error', () => {});
      resolve({
        proto: 'udp',
        hostIp,
        hostPort: front.address().port,
        close: () =>
          new Promise<void>((done) => {
            for (const key of [...flows.keys()]) dropFlow(key);
            front.close(() => done());
          }),
      });
    });
  });
}
