import type { Readable, Writable } from 'node:stream';
import type { Route } from '../router.js';
import { Handled, boolParam } from '../router.js';
import { JsonMessageStream, startStream } from '../streams.js';
import { errorMessage } from '../../util/errors.js';
import type { LoadOutput } from '../../image/archive-load.js';

// `docker save` and `docker load` (moby's getImagesGet / postImagesLoad).
export interface ImageArchiveBackend {
  save(names: string[], open: () => Writable): Promise<void>;
  load(input: Readable, quiet: boolean, out: LoadOutput): Promise<void>;
}

export function imageArchiveRoutes(svc: ImageArchiveBackend): Route[] {
  const save = async (names: string[], res: NonNullable<Parameters<Route['handler']>[0]['res']>): Promise<typeof Handled> => {
    let started = false;
    try {
      await svc.save(names, () => {
        started = true;
        return startStream(res, 'application/x-tar');
      });
    } catch (err) {
      // Before the first byte it is an ordinary error answer; after, the tar is cut short
      // and the client sees a broken stream rather than a truncated archive it could trust.
      if (!started) throw err;
      res.destroy();
    }
    return Handled;
  };
  return [
    { method: 'GET', path: '/images/get', handler: (c) => save(c.query.getAll('names'), c.res!) },
    { method: 'GET', path: '/images/{name:.*}/get', handler: (c) => save([c.params.name!], c.res!) },
    {
      method: 'POST',
      path: '/images/load',
      handler: async (c) => {
        // quiet defaults to true, as in dockerd; the docker CLI sends it off a terminal.
        const quiet = boolParam(c.query, 'quiet', true);
        const res = startStream(c.res!, 'application/json');
        const out = new JsonMessageStream(res);
        try {
          await svc.load(c.req, quiet, {
            stream: (text) => out.stream(text),
            progress: (id, action, current, total) => out.status(action, { progressDetail: { current, total }, id }),
          });
        } catch (err) {
          out.error(errorMessage(err));
          c.req.resume(); // whatever of the archive is left unread
        }
        res.end();
        return Handled;
      },
    },
  ];
}
