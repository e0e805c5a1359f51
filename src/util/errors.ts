// The kinds of failure, named once (as moby's errdefs does). Any module throws a
// BerthError with a kind; the API server maps kinds to HTTP statuses in one place
// (src/api/http-errors.ts) and the CLI maps any engine error to exit code 125.

export type ErrorKind =
  | 'NotFound'
  | 'InvalidParameter'
  | 'Conflict'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Unavailable'
  | 'NotModified'
  | 'NotImplemented'
  | 'System';

export class BerthError extends Error {
  constructor(readonly kind: ErrorKind, message: string) {
    super(message);
    this.name = 'BerthError';
  }
}

export const notFound = (msg: string): BerthError => new BerthError('NotFound', msg);
export const invalid = (msg: string): BerthError => new BerthError('InvalidParameter', msg);
export const conflict = (msg: string): BerthError => new BerthError('Conflict', msg);
export const notModified = (msg: string): BerthError => new BerthError('NotModified', msg);
export const notImplemented = (msg: string): BerthError => new BerthError('NotImplemented', msg);
export const systemError = (msg: string): BerthError => new BerthError('System', msg);

export function errorKind(err: unknown): ErrorKind {
  return err instanceof BerthError ? err.kind : 'System';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
