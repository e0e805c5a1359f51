import { randomBytes, timingSafeEqual } from 'node:crypto';

// bcrypt (Provos & Mazières, "A Future-Adaptable Password Scheme", 1999), as the
// htpasswd files of Apache's `htpasswd -B` and distribution's registry use it. Node
// has no bcrypt and the project takes no native modules, so this is eksblowfish in
// plain TypeScript.

// Blowfish's initial P-array and S-boxes are the hexadecimal digits of π's fractional
// part (P[0] = 0x243f6a88, ...). Rather than carry a 4 KiB table, compute them once,
// on first use, with Machin's formula in BigInt: π = 16·atan(1/5) − 4·atan(1/239).
const INIT_WORDS = 18 + 4 * 256;
let piWords: Uint32Array | undefined;

function atanInverse(x: bigint, one: bigint): bigint {
  const x2 = x * x;
  let power = one / x;
  let sum = power;
  for (let n = 3n, negative = true; power !== 0n; n += 2n, negative = !negative) {
    power /= x2;
    sum += negative ? -(power / n) : power / n;
  }
  return sum;
}

export function blowfishInitialState(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(INIT_WORDS * 32);
  const guard = 64n; // absorbs the truncation error of every series term
  const one = 1n << (bits + guard);
  const pi = 16n * atanInverse(5n, one) - 4n * atanInverse(239n, one);
  let frac = (pi - 3n * one) >> guard;
  const words = new Uint32Array(INIT_WORDS);
  for (let i = INIT_WORDS - 1; i >= 0; i--) {
    words[i] = Number(frac & 0xffffffffn);
    frac >>= 32n;
  }
  piWords = words;
  return words;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  // The block being enciphered, kept here to avoid allocating a pair per call.
  l = 0;
  r = 0;

  constructor() {
    const init = blowfishInitialState();
    this.p = init.slice(0, 18);
    this.s = init.slice(18);
  }

  encipher(): void {
    const p = this.p;
    const s = this.s;
    let l = this.l ^ p[0];
    let r = this.r;
    for (let i = 1; i <= 16; i += 2) {
      r ^= (((s[l >>> 24] + s[256 | ((l >>> 16) & 0xff)]) ^ s[512 | ((l >>> 8) & 0xff)]) + s[768 | (l & 0xff)]) ^ p[i];
      l ^= (((s[r >>> 24] + s[256 | ((r >>> 16) & 0xff)]) ^ s[512 | ((r >>> 8) & 0xff)]) + s[768 | (r & 0xff)]) ^ p[i + 1];
    }
    this.l = (r ^ p[17]) >>> 0;
    this.r = l >>> 0;
  }

  // Blowfish's key schedule with a salt stirred in (eksblowfish's ExpandKey); an
  // empty salt gives the plain schedule that the cost loop repeats.
  expand(key: Uint32Array, salt: Uint32Array | null): void {
    const p = this.p;
    const s = this.s;
    for (let i = 0; i < 18; i++) p[i] ^= key[i];
    this.l = 0;
    this.r = 0;
    let j = 0;
    const fill = (box: Uint32Array): void => {
      for (let i = 0; i < box.length; i += 2) {
        if (salt) {
          this.l ^= salt[j];
          this.r ^= salt[j + 1];
          j = (j + 2) & 3;
        }
        this.encipher();
        box[i] = this.l;
        box[i + 1] = this.r;
      }
    };
    fill(p);
    fill(s);
  }
}

// The key as eksblowfish reads it: the password's bytes plus a NUL, repeated
// cyclically; only the first 72 bytes (18 words) ever reach the P-array. That is
// the $2b$ rule; $2a$ and $2y$ agree with it for any password under 256 bytes.
function keyWords(password: Uint8Array): Uint32Array {
  const bytes = new Uint8Array(Math.min(password.length + 1, 72));
  bytes.set(password.subarray(0, bytes.length));
  return cyclicWords(bytes, 18);
}

function cyclicWords(bytes: Uint8Array, count: number): Uint32Array {
  const out = new Uint32Array(count);
  let k = 0;
  for (let i = 0; i < count; i++) {
    let w = 0;
    for (let b = 0; b < 4; b++) {
      w = (w << 8) | bytes[k];
      k = (k + 1) % bytes.length;
    }
    out[i] = w >>> 0;
  }
  return out;
}

const MAGIC = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');

export function bcryptRaw(password: Uint8Array, salt: Uint8Array, cost: number): Buffer {
  if (salt.length !== 16) throw new Error('bcrypt: salt must be 16 bytes');
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new Error('bcrypt: cost must be between 4 and 31');
  const key = keyWords(password);
  // 18 words: the cost loop XORs the salt into the P-array as if it were a key.
  const saltWords = cyclicWords(salt, 18);
  const bf = new Blowfish();
  bf.expand(key, saltWords);
  for (let round = 2 ** cost; round > 0; round--) {
    bf.expand(key, null);
    bf.expand(saltWords, null);
  }
  const text = new Uint32Array(6);
  for (let i = 0; i < 6; i++) text[i] = MAGIC.readUInt32BE(i * 4);
  for (let i = 0; i < 64; i++) {
    for (let b = 0; b < 6; b += 2) {
      bf.l = text[b];
      bf.r = text[b + 1];
      bf.encipher();
      text[b] = bf.l;
      text[b + 1] = bf.r;
    }
  }
  const out = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) out.writeUInt32BE(text[i], i * 4);
  // The published hash drops the last byte of the 24 (a historical quirk all keep).
  return out.subarray(0, 23);
}

// bcrypt's own base64: a different alphabet from RFC 4648, and no padding.
const ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DECODE = new Map([...ALPHABET].map((c, i) => [c, i]));

export function bcryptBase64Encode(data: Uint8Array): string {
  let out = '';
  for (let i = 0; i < data.length; i += 3) {
    const b0 = data[i];
    const b1 = i + 1 < data.length ? data[i + 1] : 0;
    const b2 = i + 2 < data.length ? data[i + 2] : 0;
    out += ALPHABET[b0 >> 2] + ALPHABET[((b0 & 3) << 4) | (b1 >> 4)];
    if (i + 1 < data.length) out += ALPHABET[((b1 & 0xf) << 2) | (b2 >> 6)];
    if (i + 2 < data.length) out += ALPHABET[b2 & 0x3f];
  }
  return out;
}

export function bcryptBase64Decode(text: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  let bits = 0;
  let acc = 0;
  let n = 0;
  for (const c of text) {
    const v = DECODE.get(c);
    if (v === undefined) throw new Error(`bcrypt: invalid base64 character ${JSON.stringify(c)}`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < length) out[n++] = (acc >> bits) & 0xff;
    }
  }
  if (n < length) throw new Error('bcrypt: base64 text too short');
  return out;
}

export interface BcryptHash {
  version: '2a' | '2b' | '2y';
  cost: number;
  salt: Buffer;
  hash: string; // the 31 characters after the salt
}

const HASH_RE = /^\$(2[aby])\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;

export function parseBcryptHash(text: string): BcryptHash | null {
  const m = HASH_RE.exec(text);
  if (!m) return null;
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) return null;
  return { version: m[1] as BcryptHash['version'], cost, salt: bcryptBase64Decode(m[3], 16), hash: m[4] };
}

export function bcryptHash(password: string, cost = 10, salt: Uint8Array = randomBytes(16), version: BcryptHash['version'] = '2b'): string {
  const raw = bcryptRaw(Buffer.from(password, 'utf8'), salt, cost);
  return `$${version}$${String(cost).padStart(2, '0')}$${bcryptBase64Encode(salt)}${bcryptBase64Encode(raw)}`;
}

export function bcryptVerify(password: string, hashText: string): boolean {
  const parsed = parseBcryptHash(hashText);
  if (!parsed) return false;
  const actual = Buffer.from(bcryptBase64Encode(bcryptRaw(Buffer.from(password, 'utf8'), parsed.salt, parsed.cost)));
  const expected = Buffer.from(parsed.hash);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
