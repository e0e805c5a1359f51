// The error every template failure throws. The message is the one-line text Go's
// text/template produces, e.g. `template: :1: function "foo" not defined`; the
// docker CLI prefixes it with "template parsing error: " (its caller's job).

export type TemplatePhase = 'parse' | 'exec';

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly phase: TemplatePhase,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}
