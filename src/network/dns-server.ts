import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import {
  buildResponse, encodeName, ipv4Data, parseQuery, reverseName, RCODE_NXDOMAIN, RCODE_NOERROR, RCODE_REFUSED, RCODE_SERVFAIL,
  TYPE_A, TYPE_AAAA, TYPE_PTR, type Question,
} from './dns-message.js';

// The embedded DNS server of user-defined networks. It listens on each user network's
// gateway address (a host address the containers reach directly), answers container
// names, aliases and short IDs of the networks the asking container shares, and passes
// other names to the host's resolvers. Who asks is known from the source address, so
// the same socket serves every container with its own view.

export interface DnsBackend {
  // The addresses `name` has for the container at `srcIp`; null if it is no container
  // name there; 'stranger' if srcIp is no container berth knows.
  lookup(srcIp: string, name: string): string[] | null | 'stranger';
  reverse(srcIp: string, ip: string): string | null;
  // Upstream resolvers for this container, none on internal networks.
  upstreams(srcIp: string): Promise<string[]>;
}

const TTL = 600;
const FORWARD_TIMEOUT_MS = 2000;

interface Listener {
  udp: UdpSocket;
  tcp: Server;
}

export class EmbeddedDns {
  private readonly listeners = new Map<string, Listener>();

  constructor(private readonly backend: DnsBackend, private readonly log: (msg: string) => void = () => {}) {}

  async listen(address: string): Promise<void> {
    if (this.listeners.has(address)) return;
    const udp = createSocket({ type: 'udp4' });
    udp.on('message', (msg, from) => {
      void this.answer(msg, from.address).then((reply) => {
        if (reply) udp.send(reply, from.port, from.address);
      });
    });
    udp.on('error', (err) => this.log(`dns ${address}: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address, port: 53 }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const tcp = createServer((conn) => this.serveTcp(conn));
    tcp.on('error', (err) => this.log(`dns ${address}: ${err.message}`));
    await new Promise<void>((resolve) => {
      // TCP is a fallback for long answers: the UDP listener alone is enough to go on.
      tcp.once('error', () => resolve());
      tcp.listen({ host: address, port: 53 }, () => resolve());
    });
    this.listeners.set(address, { udp, tcp });
  }

  async close(address: string): Promise<void> {
    const l = this.listeners.get(address);
    if (!l) return;
    this.listeners.delete(address);
    await Promise.all([new Promise<void>((r) => l.udp.close(() => r())), new Promise<void>((r) => (l.tcp.listening ? l.tcp.close(() => r()) : r()))]);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((a) => this.close(a)));
  }

  private serveTcp(conn: Socket): void {
    let buf = Buffer.alloc(0);
    conn.on('error', () => conn.destroy());
    conn.setTimeout(10_000, () => conn.destroy());
    conn.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(Buffer.from(msg), conn.remoteAddress?.replace(/^::ffff:/, '') ?? '').then((reply) => {
          if (!reply || conn.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          conn.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  // The reply to one query, or null to stay silent (garbage in).
  async answer(msg: Buffer, srcIp: string): Promise<Buffer | null> {
    const q = parseQuery(msg);
    if (!q) return null;
    if (q.class !== 1) return buildResponse(msg, q, RCODE_REFUSED, []);
    const local = this.local(msg, q, srcIp);
    if (local) return local;
    return (await this.forward(msg, await this.backend.upstreams(srcIp))) ?? buildResponse(msg, q, RCODE_SERVFAIL, []);
  }

  private local(msg: Buffer, q: Question, srcIp: string): Buffer | null {
    if (q.type === TYPE_PTR) {
      const ip = reverseName(q.name);
      const name = ip ? this.backend.reverse(srcIp, ip) : null;
      return name ? buildResponse(msg, q, RCODE_NOERROR, [{ type: TYPE_PTR, ttl: TTL, data: encodeName(name) }]) : null;
    }
    const found = this.backend.lookup(srcIp, q.name);
    if (found === 'stranger') return buildResponse(msg, q, RCODE_REFUSED, []);
    if (found === null) return null;
    if (q.type === TYPE_A) return buildResponse(msg, q, RCODE_NOERROR, found.map((ip) => ({ type: TYPE_A, ttl: TTL, data: ipv4Data(ip) })));
    // A container name has no other records (no IPv6 here): an empty answer, not a
    // forward, so a resolver asking AAAA and A in parallel gets the A without delay.
    if (q.type === TYPE_AAAA || found.length) return buildResponse(msg, q, RCODE_NOERROR, []);
    return buildResponse(msg, q, RCODE_NXDOMAIN, []);
  }

  private async forward(msg: Buffer, upstreams: readonly string[]): Promise<Buffer | null> {
    for (const server of upstreams) {
      const reply = await udpExchange(msg, server, FORWARD_TIMEOUT_MS).catch(() => null);
      if (reply) return reply;
    }
    return null;
  }
}

function udpExchange(msg: Buffer, server: string, timeoutMs: number): Promise<Buffer | null> {
  const [host, port] = splitServer(server);
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (v: Buffer | null): void => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on('error', () => done(null));
    sock.on('message', (reply: Buffer) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(reply);
    });
    sock.send(msg, port, host);
  });
}

function splitServer(s: string): [string, number] {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  return m ? [m[1]!, Number(m[2])] : [s, 53];
}
