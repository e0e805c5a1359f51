import { BerthError, errorMessage } from '../util/errors.js';

// What a build writes to its client: the JSON messages of moby's streamformatter, one per
// write, "\r\n"-terminated. stderr of RUN is wrapped in red as moby's StderrFormatter does;
// the docker CLI prints it as is.

export interface BuildOutput {
  stdout(text: string): void;
  stderr(text: string): void;
  // {"aux": value}, or {"id": id, "aux": value} (squash's "moby.image.id").
  aux(value: unknown, id?: string): void;
  // Any other JSON message (pull and download progress).
  message(msg: Record<string, unknown>): void;
}

// A failure that carries a code to the client ({"errorDetail":{"code":N,...}}): RUN's exit.
export class BuildStepError extends BerthError {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super('System', message);
  }
}

const NL = '\r\n';

// Go's json.Marshal escapes <, >, & and the JS line separators; clients do not care, byte
// comparisons with dockerd's output do.
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export class JsonBuildStream implements BuildOutput {
  constructor(private readonly write: (line: string) => void) {}

  stdout(text: string): void {
    this.write(goJson({ stream: text }) + NL);
  }

  stderr(text: string): void {
    this.write(goJson({ stream: `\x1b[91m${text}\x1b[0m` }) + NL);
  }

  aux(value: unknown, id?: string): void {
    this.write(goJson(id ? { id, aux: value } : { aux: value }) + NL);
  }

  message(msg: Record<string, unknown>): void {
    this.write(goJson(msg) + NL);
  }
}

// moby's FormatError: errorDetail (code only when there is one) and the plain "error".
export function errorLine(err: unknown): string {
  const message = errorMessage(err);
  const detail = err instanceof BuildStepError ? { code: err.code, message } : { message };
  return goJson({ errorDetail: detail, error: message }) + NL;
}

// For steps that must stay silent (q=1 is handled by the route, this is for tests).
export const discardOutput: BuildOutput = { stdout() {}, stderr() {}, aux() {}, message() {} };
