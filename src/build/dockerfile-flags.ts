import { invalid } from '../util/errors.js';

// Instruction flags (`COPY --from=x`, `HEALTHCHECK --interval=5s`), checked as
// buildkit's BFlags does with the messages of Docker 20.10's legacy builder: each
// instruction declares the flags it knows, then parse() rejects the rest.

type FlagType = 'string' | 'bool';

export class InstructionFlags {
  private readonly known = new Map<string, FlagType>();
  private readonly values = new Map<string, string>();

  constructor(private readonly raw: readonly string[]) {}

  string(name: string): this {
    this.known.set(name, 'string');
    return this;
  }

  bool(name: string): this {
    this.known.set(name, 'bool');
    return this;
  }

  parse(): this {
    for (const arg of this.raw) {
      if (!arg.startsWith('--')) throw invalid(`Arg should start with -- : ${arg}`);
      if (arg === '--') break;
      const body = arg.slice(2);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const value = eq < 0 ? '' : body.slice(eq + 1);
      const type = this.known.get(name);
      if (!type) throw invalid(`Unknown flag: ${name}`);
      if (this.values.has(name)) throw invalid(`Duplicate flag specified: ${name}`);
      if (type === 'string') {
        if (eq < 0) throw invalid(`Missing a value on flag: ${name}`);
        this.values.set(name, value);
        continue;
      }
      if (eq >= 0 && value === '') throw invalid(`Missing a value on flag: ${name}`);
      const lower = value.toLowerCase();
      if (lower !== '' && lower !== 'true' && lower !== 'false') {
        throw invalid(`Expecting boolean value for flag ${name}, not: ${value}`);
      }
      this.values.set(name, lower === '' ? 'true' : lower);
    }
    return this;
  }

  // undefined when the flag was not given.
  get(name: string): string | undefined {
    return this.values.get(name);
  }

  isTrue(name: string): boolean {
    return this.values.get(name) === 'true';
  }

  used(): string[] {
    return [...this.values.keys()];
  }
}
