import type { CliContext } from './command.js';

// docker's waitExitOrRemoved: POST /containers/{id}/wait with condition next-exit
// (or removed for --rm) registered before the start, resolving to the exit code;
// failures print an error and count as 125.

// Resolves once the waiter is registered; `status` then settles on exit. (A bare
// Promise<Promise<number>> would flatten.)
export interface ExitWaiter {
  status: Promise<number>;
}

export async function waitExitOrRemoved(ctx: CliContext, id: string, waitRemove: boolean): Promise<ExitWaiter> {
  let result: () => Promise<{ StatusCode: number; Error?: { Message: string } | null }>;
  try {
    result = await ctx.client().containerWait(id, waitRemove ? 'removed' : 'next-exit');
  } catch (err) {
    ctx.err(`error waiting for container: ${(err as Error).message}\n`);
    return { status: Promise.resolve(125) };
  }
  const status = result().then(
    (r) => {
      if (r.Error && r.Error.Message) {
        ctx.err(`Error waiting for container: ${r.Error.Message}\n`);
        return 125;
      }
      return r.StatusCode;
    },
    (err: unknown) => {
      ctx.err(`error waiting for container: ${(err as Error).message}\n`);
      return 125;
    },
  );
  return { status };
}
