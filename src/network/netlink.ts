import koffi, { type KoffiFunc } from 'koffi';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';

// rtnetlink spoken directly (through libc via koffi): a container joins a bridge with a
// handful of syscalls instead of two `ip` processes, which is most of the time a start
// spends on networking. Only what a veth join needs: create a veth pair with its far
// end in another netns, address it, route it, delete links. Every call is synchronous
// (each is a kernel round trip of microseconds), so nothing else runs on this thread
// while it briefly sits in a container's namespace.

const AF_NETLINK = 16;
const AF_INET = 2;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const CLONE_NEWNET = 0x40000000;

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLMSG_ERROR = 2;

const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_NET_NS_FD = 28;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const VETH_INFO_PEER = 1;
const IFF_UP = 0x1;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setns(fd: number, nstype: number): number;
  sendto: KoffiFunc<(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number) => number>;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
}

let libc: Libc | null = null;
function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    socket: l.func('int socket(int domain, int type, int protocol)'),
    setns: l.func('int setns(int fd, int nstype)'),
    sendto: l.func('long sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)'),
    recv: l.func('long recv(int fd, void *buf, size_t len, int flags)'),
    close: l.func('int close(int fd)'),
  };
  return libc;
}

export class NetlinkError extends Error {
  constructor(readonly op: string, readonly errno: number) {
    super(`netlink ${op}: ${Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`}`);
    this.name = 'NetlinkError';
  }
}

// ---- message building ---------------------------------------------------------------

function attr(type: number, data: Buffer): Buffer {
  const len = 4 + data.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  data.copy(out, 4);
  return out;
}
const str = (s: string): Buffer => Buffer.from(`${s}\0`, 'latin1');
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const ipv4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));
const mac = (s: string): Buffer => Buffer.from(s.split(':').map((h) => parseInt(h, 16)));

function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

let seq = Math.floor(Math.random() * 1e6);

function message(type: number, flags: number, payload: Buffer[]): { buf: Buffer; seq: number } {
  const body = Buffer.concat(payload);
  const buf = Buffer.alloc(16 + body.length);
  const s = ++seq;
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(type, 4);
  buf.writeUInt16LE(flags, 6);
  buf.writeUInt32LE(s, 8);
  body.copy(buf, 16);
  return { buf, seq: s };
}

// ---- one socket ---------------------------------------------------------------------

// struct sockaddr_nl of the kernel (pid 0): where every request goes.
const KERNEL = Buffer.from([AF_NETLINK, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

class Socket {
  private readonly reply = Buffer.alloc(32 * 1024);

  constructor(readonly fd: number) {}

  // Send one request and wait for its answer: the ACK (null) or the first data message.
  request(op: string, type: number, flags: number, payload: Buffer[]): Buffer | null {
    const { buf, seq: s } = message(type, flags | NLM_F_REQUEST, payload);
    if (lib().sendto(this.fd, buf, buf.length, 0, KERNEL, KERNEL.length) < 0) throw new NetlinkError(op, koffi.errno());
    return this.answer(op, s);
  }

  // The kernel handles a request inside sendto, so its answer is there when sendto returns.
  answer(op: string, s: number): Buffer | null {
    for (;;) {
      const n = lib().recv(this.fd, this.reply, this.reply.length, 0);
      if (n < 0) throw new NetlinkError(op, koffi.errno());
      for (let off = 0; off + 16 <= n; ) {
        const len = this.reply.readUInt32LE(off);
        if (len < 16) break;
        const mtype = this.reply.readUInt16LE(off + 4);
        const mseq = this.reply.readUInt32LE(off + 8);
        if (mseq === s) {
          if (mtype === NLMSG_ERROR) {
            const err = -this.reply.readInt32LE(off + 16);
            if (err !== 0) throw new NetlinkError(op, err);
            return null;
          }
          return Buffer.from(this.reply.subarray(off, off + len));
        }
        off += (len + 3) & ~3;
      }
    }
  }

  close(): void {
    lib().close(this.fd);
  }
}

function openSocket(): Socket {
  const fd = lib().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw new NetlinkError('socket', koffi.errno());
  return new Socket(fd);
}

let hostSocket: Socket | null = null;
let homeNs = -1;

function host(): Socket {
  if (!hostSocket) {
    homeNs = openSync('/proc/self/ns/net', 'r');
    hostSocket = openSocket();
  }
  return hostSocket;
}

// A socket living in another process's netns: made there (setns on this thread, socket(),
// setns back), used from here.
function socketIn(pid: number): Socket {
  host();
  const target = openSync(`/proc/${pid}/ns/net`, 'r');
  try {
    if (lib().setns(target, CLONE_NEWNET) < 0) throw new NetlinkError('setns', koffi.errno());
    let sock: Socket | null = null;
    let err: unknown = null;
    try {
      sock = openSocket();
    } catch (e) {
      err = e;
    }
    if (lib().setns(homeNs, CLONE_NEWNET) < 0) {
      // This thread would stay in the container's namespace: nothing after is safe.
      process.stderr.write(`berthd: fatal: cannot return to the host network namespace (errno ${koffi.errno()})\n`);
      process.exit(70);
    }
    if (err) throw err;
    return sock!;
  } finally {
    closeSync(target);
  }
}

// ---- operations -----------------------------------------------------------------------

export function linkIndex(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
}

export interface NetlinkVeth {
  hostIface: string;
  bridge: string;
  pid: number;
  ctrIface: string;
  mac: string;
  ip: string;
  prefixLen: number;
  broadcast: string;
  gateway: string | null;
  mtu: number;
}

export function attachVethNetlink(v: NetlinkVeth): void {
  const nsFd = openSync(`/proc/${v.pid}/ns/net`, 'r');
  try {
    // The far end cannot be brought up here: veth_open() refuses (ENOTCONN) while the
    // pair is still being linked. It is set up from inside, below.
    const peer = Buffer.concat([
      ifinfomsg(),
      attr(IFLA_IFNAME, str(v.ctrIface)),
      attr(IFLA_MTU, u32(v.mtu)),
      attr(IFLA_ADDRESS, mac(v.mac)),
      attr(IFLA_NET_NS_FD, u32(nsFd)),
    ]);
    const linkinfo = Buffer.concat([attr(IFLA_INFO_KIND, str('veth')), attr(IFLA_INFO_DATA, attr(VETH_INFO_PEER, peer))]);
    host().request('create veth', RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, [
      ifinfomsg(0, IFF_UP, IFF_UP),
      attr(IFLA_IFNAME, str(v.hostIface)),
      attr(IFLA_MTU, u32(v.mtu)),
      attr(IFLA_MASTER, u32(linkIndex(v.bridge))),
      attr(IFLA_LINKINFO, linkinfo),
    ]);
  } finally {
    closeSync(nsFd);
  }
  try {
    const inside = socketIn(v.pid);
    try {
      const reply = inside.request('find link', RTM_GETLINK, 0, [ifinfomsg(), attr(IFLA_IFNAME, str(v.ctrIface))]);
      if (!reply) throw new NetlinkError('find link', osConstants.errno.ENODEV);
      const index = reply.readInt32LE(16 + 4);
      inside.request('link up', RTM_NEWLINK, NLM_F_ACK, [ifinfomsg(index, IFF_UP, IFF_UP)]);
      const ifa = Buffer.alloc(8);
      ifa.writeUInt8(AF_INET, 0);
      ifa.writeUInt8(v.prefixLen, 1);
      ifa.writeUInt32LE(index, 4);
      inside.request('add address', RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, [
        ifa, attr(IFA_LOCAL, ipv4(v.ip)), attr(IFA_ADDRESS, ipv4(v.ip)), attr(IFA_BROADCAST, ipv4(v.broadcast)),
      ]);
      if (v.gateway) {
        // family, dst_len, src_len, tos, table main, protocol boot, scope universe, type unicast
        const rt = Buffer.from([AF_INET, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0]);
        inside.request('add default route', RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, [rt, attr(RTA_GATEWAY, ipv4(v.gateway)), attr(RTA_OIF, u32(index))]);
      }
    } finally {
      inside.close();
    }
  } catch (err) {
    deleteLinkNetlink(v.hostIface);
    throw err;
  }
}

// Deleting either end of a veth deletes both. Absent is not an error.
export function deleteLinkNetlink(name: string): void {
  try {
    host().request('delete link', RTM_DELLINK, NLM_F_ACK, [ifinfomsg(), attr(IFLA_IFNAME, str(name))]);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === osConstants.errno.ENODEV)) throw err;
  }
}

// The same off the event loop: a deletion waits inside sendto for the kernel to let go of
// the device (unregister_netdevice's RCU grace periods), 10-20 ms here, which the
// synchronous call spent with the whole daemon stopped. Its own socket: the pool thread
// and the host socket's users must not share a reply buffer.
export async function deleteLinkNetlinkAsync(name: string): Promise<void> {
  const sock = openSocket();
  try {
    const { buf, seq: s } = message(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, [ifinfomsg(), attr(IFLA_IFNAME, str(name))]);
    const sent = await new Promise<number>((resolve, reject) => {
      lib().sendto.async(sock.fd, buf, buf.length, 0, KERNEL, KERNEL.length, (err: unknown, n: number) => (err ? reject(err) : resolve(n)));
    });
    // errno does not come back from a pool thread: the blocking call tells why.
    if (sent < 0) return deleteLinkNetlink(name);
    sock.answer('delete link', s);
  } catch (err) {
    if (!(err instanceof NetlinkError && err.errno === osConstants.errno.ENODEV)) throw err;
  } finally {
    sock.close();
  }
}
