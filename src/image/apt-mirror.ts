import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

// The Debian mirror this machine's apt uses (the only one debootstrap can reach here):
// one-line sources.list entries and deb822 *.sources files alike. Security and other
// archives ("debian-security", third-party repos) are not a base for debootstrap.

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line.startsWith('deb ')) continue;
    const rest = line.slice(4).replace(/^\[[^\]]*\]\s*/, '');
    const [uri, suite, ...components] = rest.split(/\s+/);
    if (uri && suite) out.push({ uri, suites: [suite], components });
  }
  return out;
}

export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last = '';
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last) {
        fields.set(last, `${fields.get(last)} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) fields.set((last = m[1].toLowerCase()), m[2].trim());
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || /^no$/i.test(fields.get('enabled') ?? 'yes')) continue;
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    for (const uri of words('uris')) out.push({ uri, suites: words('suites'), components: words('components') });
  }
  return out;
}

export async function aptSources(etc = '/etc/apt'): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const read = (p: string): Promise<string> => readFile(p, 'utf8').catch(() => '');
  sources.push(...parseOneLineSources(await read(join(etc, 'sources.list'))));
  const dir = join(etc, 'sources.list.d');
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith('.list')) sources.push(...parseOneLineSources(await read(join(dir, name))));
    else if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(await read(join(dir, name))));
  }
  return sources;
}

// The main Debian archive: a URI whose path ends in /debian, serving a plain suite.
export function pickDebianMirror(sources: AptSource[]): string | null {
  const main = sources.find((s) => /\/debian\/?$/.test(s.uri) && s.suites.some((x) => !x.includes('-')));
  return main ? main.uri.replace(/\/$/, '') : null;
}

export async function findDebianMirror(etc = '/etc/apt'): Promise<string | null> {
  return pickDebianMirror(await aptSources(etc));
}
