// The little of the DNS wire format (RFC 1035) the embedded resolver needs: read the
// question of a query, write an answer with A or PTR records, or an empty one.

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_REFUSED = 5;

export interface Question {
  id: number;
  flags: number;
  name: string; // lower-case, without the trailing dot
  type: number;
  class: number;
  end: number; // offset just past the question
}

export function parseQuery(buf: Buffer): Question | null {
  if (buf.length < 12) return null;
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response, not a query
  if (buf.readUInt16BE(4) !== 1) return null; // exactly one question, as every resolver sends
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= buf.length) return null;
    const len = buf[off]!;
    if (len === 0) {
      off++;
      break;
    }
    if (len & 0xc0 || off + 1 + len > buf.length) return null; // no compression in a question
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > buf.length) return null;
  return { id: buf.readUInt16BE(0), flags, name: labels.join('.').toLowerCase(), type: buf.readUInt16BE(off), class: buf.readUInt16BE(off + 2), end: off + 4 };
}

export function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

export interface Answer {
  type: number;
  ttl: number;
  data: Buffer; // rdata: 4 bytes for A, an encoded name for PTR
}

// The reply repeats the question (compression pointers refer to it at offset 12).
export function buildResponse(query: Buffer, q: Question, rcode: number, answers: readonly Answer[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, then AA and RA: we are authoritative for container names.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const records = answers.map((a) => {
    const r = Buffer.alloc(12);
    r.writeUInt16BE(0xc00c, 0);
    r.writeUInt16BE(a.type, 2);
    r.writeUInt16BE(1, 4);
    r.writeUInt32BE(a.ttl, 6);
    r.writeUInt16BE(a.data.length, 10);
    return Buffer.concat([r, a.data]);
  });
  return Buffer.concat([header, query.subarray(12, q.end), ...records]);
}

export function ipv4Data(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

// "4.3.2.1.in-addr.arpa" → "1.2.3.4"; null for anything else.
export function reverseName(name: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : null;
}
