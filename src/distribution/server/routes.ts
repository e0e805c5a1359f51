// The registry's URL space. Repository names hold slashes, so the name is whatever
// comes before the last fixed segment ("/manifests/<ref>", "/blobs/<digest>", ...);
// the name itself is validated by the handler, which answers NAME_INVALID.

export type RegistryRoute =
  | { kind: 'root' }
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'v1-ping' }
  | { kind: 'v1-search' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'upload-start'; name: string }
  | { kind: 'upload'; name: string; uuid: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'not-found' };

const PATTERNS: Array<[RegExp, (m: RegExpExecArray) => RegistryRoute]> = [
  [/^\/v2\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] })],
  [/^\/v2\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1], reference: m[2] })],
  [/^\/v2\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'upload-start', name: m[1] })],
  [/^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1], uuid: m[2] })],
  [/^\/v2\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1], digest: m[2] })],
];

const FIXED: Record<string, RegistryRoute> = {
  '/': { kind: 'root' },
  '/v2': { kind: 'base' },
  '/v2/': { kind: 'base' },
  '/v2/_catalog': { kind: 'catalog' },
  '/v1/_ping': { kind: 'v1-ping' },
  '/v1/search': { kind: 'v1-search' },
};

// Matches the raw (still percent-encoded) path: no valid name, tag, digest or upload
// ID contains "%", so an encoded slash or dot can never sneak into a storage path.
export function matchRoute(pathname: string): RegistryRoute {
  const fixed = FIXED[pathname];
  if (fixed) return fixed;
  for (const [re, make] of PATTERNS) {
    const m = re.exec(pathname);
    if (m) return make(m);
  }
  return { kind: 'not-found' };
}

// The methods each route answers, for 405's Allow header.
export const ROUTE_METHODS: Record<RegistryRoute['kind'], readonly string[]> = {
  root: ['GET', 'HEAD'],
  base: ['GET', 'HEAD'],
  catalog: ['GET', 'HEAD'],
  'v1-ping': ['GET', 'HEAD'],
  'v1-search': ['GET', 'HEAD'],
  tags: ['GET', 'HEAD'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  'upload-start': ['POST'],
  upload: ['GET', 'HEAD', 'PATCH', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  'not-found': [],
};

// Link header for the next page, as distribution writes it: the request's own path
// with n and last (sorted, so "last" comes first).
export function nextLink(pathname: string, n: number, last: string): string {
  const q = new URLSearchParams([
    ['last', last],
    ['n', String(n)],
  ]);
  return `<${pathname}?${q.toString()}>; rel="next"`;
}

// n and last of a paged listing. n: absent → fallback; not a number or negative → null
// (PAGINATION_NUMBER_INVALID).
export function parsePaging(query: URLSearchParams, fallback: number): { n: number; last: string } | null {
  const raw = query.get('n');
  const last = query.get('last') ?? '';
  if (raw === null || raw === '') return { n: fallback, last };
  if (!/^\d+$/.test(raw)) return null;
  return { n: Number(raw), last };
}

export function page<T extends string>(items: readonly T[], n: number, last: string): { items: T[]; more: boolean } {
  const after = last === '' ? items : items.filter((i) => i > last);
  return { items: after.slice(0, n), more: n > 0 && after.length > n };
}
