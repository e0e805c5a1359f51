import { readFile, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { SpecMount } from '../runtime/types.js';

// /etc/hostname, /etc/hosts and /etc/resolv.conf live in the container's directory and
// are bind-mounted over the init layer's placeholders, so `commit` never captures them.

export interface EtcFilesInput {
  hostname: string;
  domainname: string;
  extraHosts: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  addresses: string[]; // the container's own addresses, for its hostname line
}

const baseHosts = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export function hostsContent(input: EtcFilesInput): string {
  const lines = [...baseHosts];
  for (const h of input.extraHosts) {
    // --add-host takes name:ip (ip may itself contain colons for IPv6).
    const i = h.indexOf(':');
    if (i > 0) lines.push(`${h.slice(i + 1)}\t${h.slice(0, i)}`);
  }
  const names = input.domainname ? `${input.hostname}.${input.domainname} ${input.hostname}` : input.hostname;
  for (const a of input.addresses) lines.push(`${a}\t${names}`);
  return lines.join('\n') + '\n';
}

// The host's resolv.conf without loopback resolvers, which mean nothing inside a
// container's own network namespace (Docker filters them the same way).
export function resolvConfContent(host: string, input: EtcFilesInput): string {
  const lines = host.split('\n');
  const servers = input.dns.length
    ? input.dns
    : lines.map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s && !/^(127\.|::1$)/.test(s));
  const search = input.dnsSearch.length ? input.dnsSearch : lines.flatMap((l) => /^\s*search\s+(.+)/.exec(l)?.[1]?.split(/\s+/) ?? []);
  const options = input.dnsOptions.length ? input.dnsOptions : lines.flatMap((l) => /^\s*options\s+(.+)/.exec(l)?.[1]?.split(/\s+/) ?? []);
  const out: string[] = [];
  if (search.length) out.push(`search ${search.join(' ')}`);
  for (const s of servers.length ? servers : ['8.8.8.8', '8.8.4.4']) out.push(`nameserver ${s}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

const etcFiles = ['hostname', 'hosts', 'resolv.conf'] as const;

// Renamed into place, so a reader never sees half a file, but not synced: the files are
// derived from the container's config, and ensureEtcFiles rewrites any that a crash emptied.
async function writeDerived(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

function etcContents(hostResolv: string, input: EtcFilesInput): Record<(typeof etcFiles)[number], string> {
  return {
    hostname: `${input.hostname}\n`,
    hosts: hostsContent(input),
    'resolv.conf': resolvConfContent(hostResolv, input),
  };
}

async function writeSome(dir: string, input: EtcFilesInput, names: ReadonlyArray<(typeof etcFiles)[number]>): Promise<void> {
  const [hostResolv] = await Promise.all([readFile('/etc/resolv.conf', 'utf8').catch(() => ''), mkdir(dir, { recursive: true })]);
  const contents = etcContents(hostResolv, input);
  await Promise.all(names.map((name) => writeDerived(join(dir, name), contents[name])));
}

export async function writeEtcFiles(dir: string, input: EtcFilesInput): Promise<void> {
  await writeSome(dir, input, etcFiles);
}

// Before a start: none of the three is ever empty when whole, so a missing or empty one is
// what an unsynced write left after a crash; only those are written again.
export async function ensureEtcFiles(dir: string, input: EtcFilesInput): Promise<void> {
  const sizes = await Promise.all(etcFiles.map((f) => stat(join(dir, f)).then((st) => st.size, () => 0)));
  const lost = etcFiles.filter((_, i) => sizes[i] === 0);
  if (lost.length > 0) await writeSome(dir, input, lost);
}

export function etcMounts(dir: string, readonly: boolean): SpecMount[] {
  const opts = ['rbind', 'rprivate', readonly ? 'ro' : 'rw'];
  return ['resolv.conf', 'hostname', 'hosts'].map((f) => ({
    destination: `/etc/${f}`,
    type: 'bind',
    source: join(dir, f),
    options: opts,
  }));
}
