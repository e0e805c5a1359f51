import type { Readable } from 'node:stream';
import type { Route, ApiContext, Handler } from '../router.js';
import { Handled, Reply, boolParam, filtersParam } from '../router.js';
import { JsonMessageStream, startStream } from '../streams.js';
import { notFound } from '../../util/errors.js';

// What the image routes need from the image service (moby's image router backend).
export interface ImageBackend {
  list(opts: { all: boolean; filters: Record<string, string[]>; digests: boolean; apiVersion: string }): Promise<unknown[]>;
  inspect(name: string): Promise<unknown>;
  history(name: string): Promise<unknown[]>;
  tag(source: string, repo: string, tag: string): Promise<void>;
  remove(name: string, opts: { force: boolean; noprune: boolean }): Promise<unknown[]>;
  prune(opts: { all: boolean; filters: Record<string, string[]> }): Promise<unknown>;
  importImage(tar: Readable, opts: { repo?: string; tag?: string; changes: string[]; message?: string; source?: string }): Promise<string>;
}

// pull: the registry half of POST /images/create (fromImage), from the distribution routes.
export function imageRoutes(svc: ImageBackend, pull?: Handler): Route[] {
  return [
    {
      method: 'GET',
      path: '/images/json',
      handler: async (c) => svc.list({ all: boolParam(c.query, 'all'), filters: filtersParam(c.query), digests: boolParam(c.query, 'digests'), apiVersion: c.apiVersion }),
    },
    { method: 'POST', path: '/images/create', handler: (c) => create(svc, c, pull) },
    { method: 'POST', path: '/images/prune', handler: async (c) => svc.prune({ all: !boolParam(c.query, 'dangling', true), filters: filtersParam(c.query) }) },
    { method: 'GET', path: '/images/{name:.*}/json', handler: (c) => svc.inspect(c.params.name!) },
    { method: 'GET', path: '/images/{name:.*}/history', handler: (c) => svc.history(c.params.name!) },
    {
      method: 'POST',
      path: '/images/{name:.*}/tag',
      handler: async (c) => {
        await svc.tag(c.params.name!, c.query.get('repo') ?? '', c.query.get('tag') ?? '');
        return new Reply(201, '');
      },
    },
    {
      method: 'DELETE',
      path: '/images/{name:.*}',
      handler: (c) => svc.remove(c.params.name!, { force: boolParam(c.query, 'force'), noprune: boolParam(c.query, 'noprune') }),
    },
  ];
}

// POST /images/create is both `import` (fromSrc) and `pull` (fromImage).
async function create(svc: ImageBackend, c: ApiContext, pull?: Handler): Promise<unknown> {
  const q = c.query;
  const fromSrc = q.get('fromSrc');
  if (fromSrc === null) {
    if (pull) return pull(c);
    const image = q.get('fromImage') ?? '';
    const tag = q.get('tag');
    throw notFound(
      `pull access denied for ${image}${tag ? `:${tag}` : ''}: berth has no registry client yet; create base images with 'berth image bootstrap busybox|debian' or 'berth import'`,
    );
  }
  if (fromSrc !== '-') throw notFound(`importing from a URL is not supported: ${fromSrc}`);
  // An import from stdin streams nothing until it ends, so a failure (a bad --change, a bad
  // tar) is a plain HTTP error, as moby answers while its output is still unflushed.
  const id = await svc.importImage(c.req, {
    repo: q.get('repo') || undefined,
    tag: q.get('tag') || undefined,
    changes: q.getAll('changes'),
    message: q.get('message') || undefined,
    source: fromSrc,
  });
  const res = startStream(c.res!, 'application/json');
  new JsonMessageStream(res).status(id);
  res.end();
  return Handled;
}
