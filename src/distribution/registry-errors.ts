import { BerthError, type ErrorKind } from '../util/errors.js';
import { parseChallenges } from './challenge.js';

// Registry failures as docker/distribution's client reports them (errcode.Error,
// UnexpectedHTTPStatusError, UnexpectedHTTPResponseError, url.Error), and moby's
// translation of them into what `docker pull` prints.

// errcode's registered codes and their default messages.
const DEFAULT_MESSAGES: Record<string, string> = {
  UNKNOWN: 'unknown error',
  UNSUPPORTED: 'The operation is unsupported.',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNAVAILABLE: 'service unavailable',
  TOOMANYREQUESTS: 'too many requests',
  BLOB_UNKNOWN: 'blob unknown to registry',
  BLOB_UPLOAD_UNKNOWN: 'blob upload unknown to registry',
  BLOB_UPLOAD_INVALID: 'blob upload invalid',
  DIGEST_INVALID: 'provided digest did not match uploaded content',
  SIZE_INVALID: 'provided length did not match content length',
  NAME_INVALID: 'invalid repository name',
  TAG_INVALID: 'manifest tag did not match URI',
  NAME_UNKNOWN: 'repository name not known to registry',
  MANIFEST_UNKNOWN: 'manifest unknown',
  MANIFEST_INVALID: 'manifest invalid',
  MANIFEST_UNVERIFIED: 'manifest failed signature verification',
  MANIFEST_BLOB_UNKNOWN: 'blob unknown to registry',
  PAGINATION_NUMBER_INVALID: 'invalid number of results requested',
  RANGE_INVALID: 'invalid content range',
};

export interface ErrCode {
  code: string; // "MANIFEST_UNKNOWN"
  message: string;
  detail?: unknown;
}

// errcode.Error.Error(): "<code as words>: <message>".
export function errCodeString(e: ErrCode): string {
  return `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message}`;
}

function kindOf(code: string | undefined, status: number): ErrorKind {
  switch (code) {
    case 'UNAUTHORIZED':
      return 'Unauthorized';
    case 'DENIED':
      return 'Forbidden';
    case 'MANIFEST_UNKNOWN':
    case 'NAME_UNKNOWN':
    case 'BLOB_UNKNOWN':
    case 'BLOB_UPLOAD_UNKNOWN':
      return 'NotFound';
    case 'TOOMANYREQUESTS':
    case 'UNAVAILABLE':
      return 'Unavailable';
    default:
      return status === 401 ? 'Unauthorized' : 'System';
  }
}

// An error answer from a registry: a list of errcode errors (errcode.Errors), or a status
// or body the client did not expect.
export class RegistryResponseError extends BerthError {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: ErrCode[],
    // UnexpectedHTTPResponseError / UnexpectedHTTPStatusError: the transport worked but the
    // answer was not a registry's, so another endpoint may be tried.
    readonly unexpected = false,
  ) {
    super(kindOf(errors[0]?.code, status), message);
    this.name = 'RegistryResponseError';
  }

  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}

export function errCodeList(errors: ErrCode[], status: number): RegistryResponseError {
  const msg = errors.length === 1 ? errCodeString(errors[0]!) : `errors:\n${errors.map((e) => errCodeString(e) + '\n').join('')}`;
  return new RegistryResponseError(msg, status, errors);
}

function makeError(status: number, details: string): RegistryResponseError {
  const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN';
  return errCodeList([{ code, message: details }], status);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Request Entity Too Large', 416: 'Requested Range Not Satisfiable', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export const statusText = (status: number): string => STATUS_TEXT[status] ?? '';
export const statusLine = (status: number): string => `${status} ${statusText(status)}`.trim();

// client.HandleErrorResponse.
export function errorFromResponse(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): RegistryResponseError {
  if (status < 400 || status >= 500) {
    return new RegistryResponseError(`received unexpected HTTP status: ${statusLine(status)}`, status, [], true);
  }
  for (const c of parseChallenges(headers['www-authenticate'])) {
    if (c.scheme !== 'bearer') continue;
    const code = c.params.error === 'invalid_token' ? 'UNAUTHORIZED' : c.params.error === 'insufficient_scope' ? 'DENIED' : '';
    if (!code) continue;
    const first: ErrCode = { code, message: c.params.error_description || DEFAULT_MESSAGES[code]! };
    const rest = parseBody(status, headers, body);
    return errCodeList([first, ...(rest.errors.length ? rest.errors : [{ code: 'UNKNOWN', message: rest.message }])], status);
  }
  const err = parseBody(status, headers, body);
  if (err.unexpected && status === 401) {
    return errCodeList([{ code: 'UNAUTHORIZED', message: DEFAULT_MESSAGES.UNAUTHORIZED!, detail: body.toString('utf8') }], status);
  }
  return err;
}

function parseBody(status: number, headers: Record<string, string | string[] | undefined>, body: Buffer): RegistryResponseError {
  const ct = String(headers['content-type'] ?? '');
  const text = body.toString('utf8');
  if (ct === '') return makeError(status, text);
  const type = ct.split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/vnd.api+json') return makeError(status, text);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return unexpectedResponse(status, (err as Error).message, text);
  }
  if (v && typeof v === 'object' && typeof (v as { details?: unknown }).details === 'string' && (v as { details: string }).details) {
    return makeError(status, (v as { details: string }).details);
  }
  const list = (v as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list) || list.length === 0) return unexpectedResponse(status, 'no error details found in HTTP response body', text);
  const errors: ErrCode[] = list.map((e: unknown) => {
    const o = (e && typeof e === 'object' ? e : {}) as { code?: unknown; message?: unknown; detail?: unknown };
    const raw = typeof o.code === 'string' ? o.code : '';
    const code = raw in DEFAULT_MESSAGES ? raw : 'UNKNOWN';
    const message = typeof o.message === 'string' && o.message ? o.message : DEFAULT_MESSAGES[code]!;
    return o.detail === undefined ? { code, message } : { code, message, detail: o.detail };
  });
  return errCodeList(errors, status);
}

function unexpectedResponse(status: number, parseErr: string, body: string): RegistryResponseError {
  return new RegistryResponseError(`error parsing HTTP ${status} response body: ${parseErr}: ${JSON.stringify(body)}`, status, [], true);
}

// A request that never got an answer (or whose answer could not be used): Go's url.Error,
// `Get "https://host/v2/": dial tcp: lookup host: no such host`.
export class TransportError extends BerthError {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super('System', message);
    this.name = 'TransportError';
  }
}

// moby's notFoundError / translatePullError: what pull reports for a registry's refusal.
export function translatePullError(err: unknown, familiarName: string, familiarString: string): unknown {
  if (!(err instanceof RegistryResponseError) || err.errors.length === 0) return err;
  const first = err.errors[0]!;
  const cause = errCodeString(first);
  switch (first.code) {
    case 'DENIED':
      return new BerthError('NotFound', `pull access denied for ${familiarName}, repository does not exist or may require 'docker login': ${cause}`);
    case 'MANIFEST_UNKNOWN':
      return new BerthError('NotFound', `manifest for ${familiarString} not found: ${cause}`);
    case 'NAME_UNKNOWN':
      return new BerthError('NotFound', `repository ${familiarName} not found: ${cause}`);
    case 'UNAUTHORIZED':
      return new BerthError('Unauthorized', cause);
    default:
      return new BerthError('System', cause);
  }
}

// continueOnError: whether another endpoint (http after https, the hub after a mirror)
// is worth trying after this failure.
export function worthFallback(err: unknown, mirror: boolean): boolean {
  if (err instanceof RegistryResponseError) return err.unexpected || mirror;
  return true;
}
