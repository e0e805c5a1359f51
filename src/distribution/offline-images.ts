import { errorMessage } from '../util/errors.js';
import { familiarString, parseNormalizedNamed, type NamedRef } from '../image/reference.js';
import type { ProgressSink } from './progress.js';
import { applyTag, type PullImageFn, type PullOptions, type PullResult } from './pull-service.js';

// Docker Hub is out of reach on machines like this one. The few official images berth can
// make from Debian's packages (berth image bootstrap) are made instead when a pull of
// exactly those fails, so the tutorial's `run busybox` and `run ... registry` work as typed.
// Any other image, or any failure of another registry, stays an error.
export type OfflineKind = 'busybox' | 'registry';

const OFFLINE: ReadonlyMap<string, OfflineKind> = new Map([
  ['docker.io/library/busybox:latest', 'busybox'],
  ['docker.io/library/registry:latest', 'registry'],
  ['docker.io/library/registry:2', 'registry'],
]);

export type BootstrapFn = (kind: OfflineKind, tag: string, progress: (line: string) => void) => Promise<string>;

export function offlineKind(ref: NamedRef): OfflineKind | undefined {
  if (ref.digest !== undefined) return undefined;
  return OFFLINE.get(`${ref.domain}/${ref.path}:${ref.tag ?? 'latest'}`);
}

export function withOfflineFallback(pull: PullImageFn, bootstrap: BootstrapFn): PullImageFn {
  return async (image: string, opts: PullOptions, sink: ProgressSink): Promise<PullResult> => {
    try {
      return await pull(image, opts, sink);
    } catch (err) {
      let ref: NamedRef;
      try {
        ref = applyTag(parseNormalizedNamed(image), opts.tag ?? '');
      } catch {
        throw err;
      }
      const kind = offlineKind(ref);
      if (!kind || opts.platform) throw err;
      const tag = familiarString(ref);
      sink({ status: `${ref.domain} is unreachable (${errorMessage(err)}); building ${tag} offline instead` });
      const imageId = await bootstrap(kind, tag, (line) => sink({ status: line }));
      sink({ status: `Status: Built ${tag} offline` });
      return { ref, imageId, downloaded: true };
    }
  };
}
