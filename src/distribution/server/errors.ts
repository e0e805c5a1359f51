// The registry's error codes with the messages and statuses distribution registers
// (registry/api/errcode and registry/api/v2), so clients that match on codes or
// print messages see what they would from the reference registry.

export const ERROR_CODES = {
  UNKNOWN: [500, 'unknown error'],
  UNSUPPORTED: [405, 'The operation is unsupported.'],
  UNAUTHORIZED: [401, 'authentication required'],
  DENIED: [403, 'requested access to the resource is denied'],
  UNAVAILABLE: [503, 'service unavailable'],
  TOOMANYREQUESTS: [429, 'too many requests'],
  DIGEST_INVALID: [400, 'provided digest did not match uploaded content'],
  SIZE_INVALID: [400, 'provided length did not match content length'],
  RANGE_INVALID: [416, 'invalid content range'],
  NAME_INVALID: [400, 'invalid repository name'],
  TAG_INVALID: [400, 'manifest tag did not match URI'],
  NAME_UNKNOWN: [404, 'repository name not known to registry'],
  MANIFEST_UNKNOWN: [404, 'manifest unknown'],
  MANIFEST_INVALID: [400, 'manifest invalid'],
  MANIFEST_UNVERIFIED: [400, 'manifest failed signature verification'],
  MANIFEST_BLOB_UNKNOWN: [400, 'blob unknown to registry'],
  BLOB_UNKNOWN: [404, 'blob unknown to registry'],
  BLOB_UPLOAD_UNKNOWN: [404, 'blob upload unknown to registry'],
  // distribution answers 404 here, not the 400 the OCI spec's table suggests.
  BLOB_UPLOAD_INVALID: [404, 'blob upload invalid'],
  PAGINATION_NUMBER_INVALID: [400, 'invalid number of results requested'],
} as const satisfies Record<string, readonly [number, string]>;

export type RegistryErrorCode = keyof typeof ERROR_CODES;

export interface RegistryErrorEntry {
  code: RegistryErrorCode;
  message: string;
  detail?: unknown;
}

export class RegistryError extends Error {
  readonly entries: RegistryErrorEntry[];
  // Headers the answer carries besides the error (a challenge, an upload's state).
  headers: Record<string, string> = {};

  constructor(code: RegistryErrorCode, detail?: unknown, message?: string) {
    super(message ?? ERROR_CODES[code][1]);
    this.name = 'RegistryError';
    this.entries = [{ code, message: this.message, ...(detail === undefined ? {} : { detail }) }];
  }

  // Several failures of one request (a manifest missing three blobs) travel together;
  // the first one's status is the answer's, as errcode.ServeJSON does.
  static of(entries: RegistryErrorEntry[]): RegistryError {
    const err = new RegistryError(entries[0].code, entries[0].detail, entries[0].message);
    err.entries.splice(0, 1, ...entries);
    return err;
  }

  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.headers, headers);
    return this;
  }

  get status(): number {
    return ERROR_CODES[this.entries[0].code][0];
  }

  body(): string {
    return `${JSON.stringify({ errors: this.entries })}\n`;
  }
}

export const registryError = (code: RegistryErrorCode, detail?: unknown, message?: string): RegistryError =>
  new RegistryError(code, detail, message);
