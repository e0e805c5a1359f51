import { BerthError, errorMessage, invalid } from '../util/errors.js';
import { basicCredentials, INDEX_NAME, type AuthConfig } from './auth-config.js';
import type { RegistryConfig } from './endpoints.js';
import { readBody, request } from './http.js';
import { splitSearchTerm } from './search-term.js';

// GET /images/search (moby's registry.Service.Search): the registry's v1 search endpoint,
// /v1/search?q=&n=, the only search API registries have; filters applied here.

export interface SearchResult {
  star_count: number;
  is_official: boolean;
  name: string;
  is_automated: boolean;
  description: string;
}

const ACCEPTED_FILTERS = new Set(['is-automated', 'is-official', 'stars']);
const DEFAULT_LIMIT = 25;
const INDEX_SERVER_V1 = 'https://index.docker.io/v1/';

export async function search(
  config: RegistryConfig,
  userAgent: string,
  term: string,
  limit: number,
  filters: Record<string, string[]>,
  auth: AuthConfig,
): Promise<SearchResult[]> {
  for (const k of Object.keys(filters)) if (!ACCEPTED_FILTERS.has(k)) throw invalid(`invalid filter '${k}'`);
  if (boolFilter(filters, 'is-automated')) return [];
  const official = filters['is-official']?.length ? boolFilter(filters, 'is-official') : null;
  let minStars = 0;
  for (const v of filters.stars ?? []) {
    if (!/^[+-]?\d+$/.test(v)) throw invalid(`invalid filter 'stars=${v}': strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
    minStars = Math.max(minStars, Number(v));
  }
  if (term.includes('://')) throw invalid(`invalid repository name: repository name (${term}) should not have a scheme`);
  const n = limit === 0 ? DEFAULT_LIMIT : limit;
  if (n < 1 || n > 100) throw invalid(`limit ${n} is outside the range of [1, 100]`);

  const [index, remoteTerm] = splitSearchTerm(term);
  const officialIndex = index === INDEX_NAME || index === 'index.docker.io';
  const remote = officialIndex ? remoteTerm.replace(/^library\//, '') : remoteTerm;
  const base = officialIndex ? new URL(INDEX_SERVER_V1) : await v1Endpoint(config, index, userAgent);

  const url = new URL('search', base);
  url.searchParams.set('q', remote);
  url.searchParams.set('n', String(n));
  const headers: Record<string, string> = { 'user-agent': userAgent, 'x-docker-token': 'true' };
  const creds = basicCredentials(auth);
  if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
  let body: Buffer;
  let status: number;
  try {
    const res = await request({ method: 'GET', url, headers, insecureTls: base.protocol === 'http:' || !(await config.isSecure(base.host)) });
    status = res.statusCode ?? 0;
    body = await readBody(res, 16 << 20);
  } catch (err) {
    throw new BerthError('System', errorMessage(err));
  }
  if (status !== 200) throw new BerthError('System', `unexpected status code ${status}`);
  let parsed: { results?: Array<Partial<SearchResult>> | null };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch (err) {
    throw new BerthError('System', `error decoding registry search results: ${(err as Error).message}`);
  }
  const out: SearchResult[] = [];
  for (const r of parsed.results ?? []) {
    const result: SearchResult = {
      star_count: Number(r.star_count) || 0,
      is_official: r.is_official === true,
      name: String(r.name ?? ''),
      // Deprecated and untrustworthy in Docker Hub's answers: always false, as in moby.
      is_automated: false,
      description: String(r.description ?? ''),
    };
    if (official !== null && result.is_official !== official) continue;
    if (filters.stars && result.star_count < minStars) continue;
    out.push(result);
  }
  return out;
}

function boolFilter(filters: Record<string, string[]>, key: string): boolean {
  const values = filters[key] ?? [];
  if (values.length === 0) return false;
  if (values.length > 1) throw invalid(`invalid filter '${key}': only one value is allowed`);
  const v = values[0]!.toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(`invalid filter '${key}=${values[0]}'`);
}

// newV1Endpoint: https answering /v1/_ping, or http for an insecure registry.
async function v1Endpoint(config: RegistryConfig, index: string, userAgent: string): Promise<URL> {
  const secure = await config.isSecure(index);
  const ping = async (url: URL): Promise<void> => {
    const res = await request({ method: 'GET', url: new URL('_ping', url), headers: { 'user-agent': userAgent }, insecureTls: !secure });
    res.resume();
  };
  const https = new URL(`https://${index}/v1/`);
  try {
    await ping(https);
    return https;
  } catch (err) {
    if (secure) {
      throw invalid(
        `invalid registry endpoint ${https.toString()}: ${errorMessage(err)}. If this private registry supports only HTTP or HTTPS with an unknown CA certificate, add \`--insecure-registry ${index}\` to the daemon's arguments. In the case of HTTPS, if you have access to the registry's CA certificate, no need for the flag; place the CA certificate at /etc/berth/certs.d/${index}/ca.crt`,
      );
    }
    const http = new URL(`http://${index}/v1/`);
    try {
      await ping(http);
      return http;
    } catch (err2) {
      throw invalid(`invalid registry endpoint ${JSON.stringify(http.toString())}. HTTPS attempt: ${errorMessage(err)}. HTTP attempt: ${errorMessage(err2)}`);
    }
  }
}
