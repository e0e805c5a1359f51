import type { ServerResponse } from 'node:http';
import type { ApiContext, Handler, Route } from '../router.js';
import { Handled, filtersParam, intParam } from '../router.js';
import { JsonMessageStream, startStream } from '../streams.js';
import { decodeAuthConfig, fromJson, type AuthConfig } from '../../distribution/auth-config.js';
import type { ProgressMessage, ProgressSink } from '../../distribution/progress.js';
import { errorMessage, invalid } from '../../util/errors.js';

// Registry endpoints of the Engine API: pull (POST /images/create?fromImage=, wired from
// the image routes), push, login (POST /auth) and search. Credentials come in the
// X-Registry-Auth header.

export interface DistributionBackend {
  pull(image: string, opts: { tag?: string; platform?: string; auth: AuthConfig }, progress: ProgressSink): Promise<unknown>;
  push(name: string, opts: { tag?: string; auth: AuthConfig }, progress: ProgressSink): Promise<void>;
  login(auth: AuthConfig): Promise<unknown>;
  search(term: string, limit: number, filters: Record<string, string[]>, auth: AuthConfig): Promise<unknown[]>;
}

// dockerd's WriteFlusher: the status line and headers go out with the first progress
// message, so a failure before any (a bad name, an unknown manifest, a refused login) is
// an HTTP error the client prints as "Error response from daemon: …"; after that it is an
// error message in the stream.
class LazyJsonStream {
  private out: JsonMessageStream | null = null;

  constructor(private readonly res: ServerResponse) {}

  get started(): boolean {
    return this.out !== null;
  }

  private stream(): JsonMessageStream {
    if (!this.out) {
      startStream(this.res, 'application/json');
      this.out = new JsonMessageStream(this.res);
    }
    return this.out;
  }

  readonly sink: ProgressSink = (m: ProgressMessage) => {
    this.stream();
    this.res.write(JSON.stringify(m) + '\r\n');
  };

  error(message: string): void {
    this.stream().error(message);
  }
}

async function streamed(c: ApiContext, work: (sink: ProgressSink) => Promise<unknown>): Promise<typeof Handled> {
  const res = c.res!;
  const out = new LazyJsonStream(res);
  try {
    await work(out.sink);
  } catch (err) {
    if (!out.started) throw err;
    out.error(errorMessage(err));
  }
  if (!out.started) startStream(res, 'application/json');
  res.end();
  return Handled;
}

// X-Registry-Auth, or (old clients) the credentials as the request body.
async function authOf(c: ApiContext): Promise<AuthConfig> {
  const header = c.req.headers['x-registry-auth'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value) return decodeAuthConfig(value);
  const body = await c.body();
  if (body.length === 0) return {};
  try {
    return fromJson(JSON.parse(body.toString('utf8')));
  } catch (err) {
    throw invalid(`bad parameters and missing X-Registry-Auth: ${(err as Error).message}`);
  }
}

// The pull half of POST /images/create.
export function pullHandler(backend: DistributionBackend): Handler {
  return async (c) => {
    const q = c.query;
    const auth = decodeAuthConfig(headerValue(c, 'x-registry-auth'));
    return streamed(c, (sink) =>
      backend.pull(q.get('fromImage') ?? '', { tag: q.get('tag') || undefined, platform: q.get('platform') || undefined, auth }, sink),
    );
  };
}

export function distributionRoutes(backend: DistributionBackend): Route[] {
  return [
    {
      method: 'POST',
      path: '/images/{name:.*}/push',
      handler: async (c) => {
        const auth = await authOf(c);
        return streamed(c, (sink) => backend.push(c.params.name!, { tag: c.query.get('tag') || undefined, auth }, sink));
      },
    },
    {
      method: 'POST',
      path: '/auth',
      handler: async (c) => backend.login(fromJson(await c.json())),
    },
    {
      method: 'GET',
      path: '/images/search',
      handler: async (c) =>
        backend.search(c.query.get('term') ?? '', intParam(c.query, 'limit') ?? 0, filtersParam(c.query), decodeAuthConfig(headerValue(c, 'x-registry-auth'))),
    },
  ];
}

function headerValue(c: ApiContext, name: string): string | undefined {
  const v = c.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
