import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { invalid } from '../util/errors.js';
import { INDEX_NAME } from './auth-config.js';

// Which URLs serve a registry, as moby's registry service decides (service_v2.go,
// config.go): https first; http as well for insecure registries, which are those listed in
// daemon.json's "insecure-registries" (host[:port] or CIDR) and, as in Docker, any
// loopback address; Docker Hub is registry-1.docker.io, after its "registry-mirrors".

export const DEFAULT_V2_REGISTRY = 'https://registry-1.docker.io';

export interface Endpoint {
  url: URL; // scheme, host and an optional path prefix (mirrors)
  mirror: boolean;
  // TLS without certificate verification (an insecure registry tried over https).
  insecureTls: boolean;
}

export interface RegistrySettings {
  insecureRegistries?: unknown;
  registryMirrors?: unknown;
}

interface Cidr {
  family: 4 | 6;
  bits: bigint;
  prefix: number;
}

export class RegistryConfig {
  readonly mirrors: string[];
  private readonly insecureNames = new Set<string>();
  private readonly insecureCidrs: Cidr[] = [];

  constructor(settings: RegistrySettings = {}) {
    this.mirrors = loadMirrors(settings.registryMirrors);
    const list = stringList(settings.insecureRegistries, 'insecure-registries');
    // Localhost is insecure by default, a stop-gap Docker keeps for private registries there.
    for (let r of [...list, '::1/128', '127.0.0.0/8']) {
      r = r === 'index.docker.io' ? INDEX_NAME : r;
      if (r.startsWith('-') || r.endsWith('-')) throw invalid(`invalid index name (${r}). Cannot begin or end with a hyphen`);
      const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(r);
      if (scheme) {
        if (!['http', 'https'].includes(scheme[1]!.toLowerCase())) throw invalid(`insecure registry ${r} should not contain '://'`);
        r = scheme[2]!;
      }
      const cidr = parseCidr(r);
      if (cidr) this.insecureCidrs.push(cidr);
      else {
        validateHostPort(r);
        this.insecureNames.add(r);
      }
    }
  }

  static fromDaemonJson(raw: Record<string, unknown>): RegistryConfig {
    return new RegistryConfig({ insecureRegistries: raw['insecure-registries'], registryMirrors: raw['registry-mirrors'] });
  }

  // isSecureIndex: named entries first, then CIDRs (resolving a host name to match them).
  async isSecure(host: string): Promise<boolean> {
    if (host === INDEX_NAME) return true;
    if (this.insecureNames.has(host)) return false;
    return !(await this.cidrMatch(host));
  }

  // lookupV2Endpoints; mirrors only when pulling (credentials never go to a mirror).
  async endpoints(domain: string, includeMirrors: boolean): Promise<Endpoint[]> {
    if (domain === INDEX_NAME || domain === 'index.docker.io') {
      const out: Endpoint[] = [];
      if (includeMirrors) {
        for (const m of this.mirrors) {
          const url = new URL(m);
          out.push({ url, mirror: true, insecureTls: !(await this.isSecure(url.host)) });
        }
      }
      out.push({ url: new URL(DEFAULT_V2_REGISTRY), mirror: false, insecureTls: false });
      return out;
    }
    const secure = await this.isSecure(domain);
    const out: Endpoint[] = [{ url: new URL(`https://${domain}`), mirror: false, insecureTls: !secure }];
    if (!secure) out.push({ url: new URL(`http://${domain}`), mirror: false, insecureTls: true });
    return out;
  }

  // For `docker info`'s RegistryConfig.
  describe(): { InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, unknown>; Mirrors: string[] } {
    const index: Record<string, unknown> = {};
    for (const name of this.insecureNames) index[name] = { Name: name, Mirrors: [], Secure: false, Official: false };
    index[INDEX_NAME] = { Name: INDEX_NAME, Mirrors: this.mirrors, Secure: true, Official: true };
    return { InsecureRegistryCIDRs: this.insecureCidrs.map(formatCidr), IndexConfigs: index, Mirrors: this.mirrors };
  }

  private async cidrMatch(hostPort: string): Promise<boolean> {
    const host = splitHost(hostPort);
    let addrs: string[];
    if (isIP(host)) addrs = [host];
    else {
      try {
        // A name is resolved to match it against the CIDRs, as Docker does; no answer
        // within a moment means no match (a registry that cannot be resolved fails later
        // with a clear error).
        const found = await withTimeout(lookup(host, { all: true }), 2000);
        addrs = found.map((a) => a.address);
      } catch {
        return false;
      }
    }
    for (const a of addrs) {
      const c = parseAddress(a);
      if (c && this.insecureCidrs.some((n) => contains(n, c))) return true;
    }
    return false;
  }
}

function stringList(v: unknown, key: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`${key} must be a list of strings`);
  return v as string[];
}

// ValidateMirror, with its messages; returns the mirror with one trailing slash.
export function validateMirror(mirror: string): string {
  const m = /^([^:/]*):\/\//.exec(mirror);
  if (!m || m[1] === '') {
    throw invalid(`invalid mirror: no scheme specified for ${JSON.stringify(mirror)}: must use either 'https://' or 'http://'`);
  }
  let url: URL;
  try {
    url = new URL(mirror);
  } catch {
    throw invalid(`invalid mirror: ${JSON.stringify(mirror)} is not a valid URI`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`invalid mirror: unsupported scheme ${JSON.stringify(url.protocol.slice(0, -1))} in ${JSON.stringify(mirror)}: must use either 'https://' or 'http://'`);
  }
  if (url.search || url.hash) throw invalid(`invalid mirror: query or fragment at end of the URI ${JSON.stringify(mirror)}`);
  if (url.username || url.password) {
    url.password = 'xxxxx';
    throw invalid(`invalid mirror: username/password not allowed in URI ${JSON.stringify(url.toString())}`);
  }
  return mirror.replace(/\/+$/, '') + '/';
}

function loadMirrors(v: unknown): string[] {
  const out: string[] = [];
  for (const m of stringList(v, 'registry-mirrors')) {
    const norm = validateMirror(m);
    if (!out.includes(norm)) out.push(norm);
  }
  return out;
}

const HOST_PORT = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;

function validateHostPort(s: string): void {
  const host = splitHost(s);
  if (!HOST_PORT.test(s) && !isIP(host)) throw invalid(`insecure registry ${s} is not valid: invalid host ${JSON.stringify(host)}`);
  const port = s.slice(s.lastIndexOf(':') + 1);
  if (s.includes(':') && !s.startsWith('[') && /^\d+$/.test(port) && Number(port) > 65535) {
    throw invalid(`insecure registry ${s} is not valid: invalid port ${JSON.stringify(port)}`);
  }
}

// "host:port", "[::1]:5000", "::1", "host" → the host alone.
export function splitHost(hostPort: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (v6) return v6[1]!;
  if (isIP(hostPort) === 6) return hostPort;
  const i = hostPort.lastIndexOf(':');
  return i >= 0 ? hostPort.slice(0, i) : hostPort;
}

function parseAddress(a: string): { family: 4 | 6; bits: bigint } | null {
  if (isIP(a) === 4) {
    return { family: 4, bits: a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n) };
  }
  if (isIP(a) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
    if (mapped) return parseAddress(mapped[1]!);
    const [head, tail] = a.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return { family: 6, bits: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n) };
  }
  return null;
}

function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const addr = parseAddress(s.slice(0, slash));
  const prefix = Number(s.slice(slash + 1));
  if (!addr || !/^\d+$/.test(s.slice(slash + 1))) return null;
  const width = addr.family === 4 ? 32 : 128;
  if (prefix > width) return null;
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
  return { family: addr.family, bits: addr.bits & mask, prefix };
}

function contains(net: Cidr, a: { family: 4 | 6; bits: bigint }): boolean {
  if (net.family !== a.family) return false;
  const width = net.family === 4 ? 32 : 128;
  const mask = ((1n << BigInt(net.prefix)) - 1n) << BigInt(width - net.prefix);
  return (a.bits & mask) === net.bits;
}

function formatCidr(c: Cidr): string {
  if (c.family === 4) {
    const o = [24n, 16n, 8n, 0n].map((s) => Number((c.bits >> s) & 255n));
    return `${o.join('.')}/${c.prefix}`;
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((c.bits >> BigInt(i * 16)) & 0xffffn).toString(16));
  const joined = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  return `${joined}/${c.prefix}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
