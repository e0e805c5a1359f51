import { StatusError, joinErrors, type CliContext } from './command.js';
import { FormatError, compileStrict, indentJson, run, type Compiled } from './formatter.js';
import { typedView } from './inspect-typed.js';

// docker's inspect.Inspect: without --format an indented JSON array of what the
// daemon returned; "json" the same array compacted; otherwise the template once
// per object. Lookup failures are collected and reported after the output.

export type Lookup = (ref: string) => Promise<{ raw: Buffer; value: unknown }>;

export async function inspectRefs(ctx: CliContext, refs: readonly string[], format: string, lookup: Lookup): Promise<void> {
  let tpl: Compiled | undefined;
  if (format !== '' && format !== 'json') {
    try {
      tpl = compileStrict(format);
    } catch (err) {
      throw new StatusError((err as Error).message, 64);
    }
  }
  const errors: Error[] = [];
  const raws: string[] = [];
  let text = '';
  for (const ref of refs) {
    let found;
    try {
      found = await lookup(ref);
    } catch (err) {
      errors.push(err as Error);
      continue;
    }
    if (tpl) {
      try {
        text += renderTyped(tpl, found.value) + '\n';
      } catch (err) {
        errors.push(err instanceof FormatError ? err : new Error(String(err)));
      }
    } else {
      raws.push(found.raw.toString('utf8').trim());
    }
  }
  if (tpl) {
    ctx.out(text === '' ? '\n' : text);
  } else if (raws.length === 0) {
    ctx.out('[]\n');
  } else {
    const joined = `[${raws.join(',')}]`;
    ctx.out((format === 'json' ? JSON.stringify(JSON.parse(joined)) : indentJson(joined)) + '\n');
  }
  const err = joinErrors(errors);
  if (err) throw new StatusError(err.message, 1);
}

// As docker's TemplateInspector: the typed struct first, the raw JSON with missingkey=error
// (and its error) when that fails.
function renderTyped(tpl: Compiled, value: unknown): string {
  try {
    return run(tpl, typedView(value));
  } catch {
    return run(tpl, value);
  }
}
