import type { Route, ApiContext } from '../router.js';
import { Handled } from '../router.js';
import { JsonMessageStream, startStream } from '../streams.js';
import { errorMessage, invalid } from '../../util/errors.js';

// berth's own endpoints, beside the Engine API: things Docker lacks.
export interface BootstrapBackend {
  bootstrap(
    kind: 'busybox' | 'debian' | 'registry',
    opts: { tag?: string; suite?: string; include?: string[] },
    progress: (line: string) => void,
  ): Promise<string>;
}

export function berthRoutes(images: BootstrapBackend): Route[] {
  return [{ method: 'POST', path: '/berth/images/bootstrap', handler: (c) => bootstrap(images, c) }];
}

// Offline base images (no registry is reachable): streamed like a pull.
async function bootstrap(images: BootstrapBackend, c: ApiContext): Promise<unknown> {
  const kind = c.query.get('kind') ?? 'busybox';
  if (kind !== 'busybox' && kind !== 'debian' && kind !== 'registry') {
    throw invalid(`unknown base image kind "${kind}": use busybox, debian or registry`);
  }
  const include = (c.query.get('include') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const res = startStream(c.res!, 'application/json');
  const out = new JsonMessageStream(res);
  try {
    const id = await images.bootstrap(
      kind,
      { tag: c.query.get('tag') || undefined, suite: c.query.get('suite') || undefined, include },
      (line) => out.status(line),
    );
    out.aux({ ID: id });
    out.status(`Created ${id}`);
  } catch (err) {
    out.error(errorMessage(err));
  }
  res.end();
  return Handled;
}
