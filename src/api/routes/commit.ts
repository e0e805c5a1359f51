import type { Route, ApiContext } from '../router.js';
import { Reply, boolParam } from '../router.js';
import { commitContainer, type CommitDeps } from '../../container/commit.js';
import type { ContainerConfig } from '../../image/types.js';

// POST /commit (docker commit).
export function commitRoutes(deps: CommitDeps): Route[] {
  return [{ method: 'POST', path: '/commit', handler: (c) => commit(deps, c) }];
}

async function commit(deps: CommitDeps, c: ApiContext): Promise<unknown> {
  const q = c.query;
  const id = await commitContainer(deps, {
    container: q.get('container') ?? '',
    repo: q.get('repo') ?? '',
    tag: q.get('tag') ?? '',
    comment: q.get('comment') ?? '',
    author: q.get('author') ?? '',
    pause: boolParam(q, 'pause', true),
    changes: q.getAll('changes'),
    config: configFromBody(await c.json<unknown>()),
  });
  return new Reply(201, { Id: id });
}

// The body is a container Config; moby decodes it as a create request and keeps only its
// Config part, which is absent when the body is empty, null or carries no Config field.
function configFromBody(body: unknown): ContainerConfig | null {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const { HostConfig: _h, NetworkingConfig: _n, ...config } = body as Record<string, unknown>;
  return Object.keys(config).length > 0 ? (config as ContainerConfig) : null;
}
