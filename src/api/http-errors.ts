import type { ErrorKind } from '../util/errors.js';
import { errorKind, errorMessage } from '../util/errors.js';

// The one place where error kinds become HTTP statuses (moby's errdefs/http_helpers.go).
const statusOf: Record<ErrorKind, number> = {
  NotFound: 404,
  InvalidParameter: 400,
  Conflict: 409,
  Unauthorized: 401,
  Forbidden: 403,
  Unavailable: 503,
  NotModified: 304,
  NotImplemented: 501,
  System: 500,
};

export function httpStatusFor(err: unknown): number {
  return statusOf[errorKind(err)];
}

export function errorBody(err: unknown): { message: string } {
  return { message: errorMessage(err) };
}
