import { BerthError, invalid } from '../util/errors.js';
import { quote as goQuote } from '../util/go-template/fmt.js';
import { lex, type EnvList, type LexOptions } from '../image/shell-words.js';
import type { FromInstruction, Heredoc, Instruction } from './dockerfile-ast.js';
import type { EscapeToken } from './dockerfile-syntax.js';

// Variable expansion of one instruction right before it runs, as the legacy builder's
// dispatch() does: only the instructions that support it (ADD COPY ENV EXPOSE FROM
// LABEL STOPSIGNAL USER VOLUME WORKDIR, ARG); RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK are
// left to the shell, ONBUILD to the build that triggers it. `env` is KEY=VALUE, later
// entries win; for FROM it is the meta ARGs.

export function expandInstruction<T extends Instruction | FromInstruction>(inst: T, env: EnvList, escapeToken: EscapeToken = '\\'): T {
  const word = (w: string): string => expand(w, env, { escape: escapeToken }).word;
  const i = inst as Instruction | FromInstruction;
  switch (i.kind) {
    case 'FROM': {
      const image = word(i.image);
      // An empty name would silently mean `scratch`.
      if (image === '') throw invalid(`base name (${i.image}) should not be blank`);
      const out: FromInstruction = { ...i, image };
      if (i.platform !== undefined) out.platform = word(i.platform);
      return out as T;
    }
    case 'ENV':
    case 'LABEL':
      return { ...i, pairs: i.pairs.map((p) => ({ key: word(p.key), value: word(p.value) })) } as T;
    case 'ARG':
      return {
        ...i,
        args: i.args.map((a) => (a.default === undefined ? { name: word(a.name) } : { name: word(a.name), default: word(a.default) })),
      } as T;
    case 'ADD':
    case 'COPY': {
      const heredocNames = new Set(i.heredocs.map((h) => h.name));
      const out = {
        ...i,
        sources: i.sources.map((s) => (heredocNames.has(s) ? s : word(s))),
        dest: word(i.dest),
        heredocs: i.heredocs.map((h) => expandHeredoc(h, env)),
      };
      if (i.chown !== undefined) out.chown = word(i.chown);
      if (i.chmod !== undefined) out.chmod = word(i.chmod);
      return out as T;
    }
    case 'EXPOSE':
      return { ...i, ports: i.ports.flatMap((p) => expand(p, env, { escape: escapeToken }).words) } as T;
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
      return { ...i, value: word(i.value) } as T;
    case 'VOLUME':
      return { ...i, paths: i.paths.map(word) } as T;
    default:
      return structuredClone(inst);
  }
}

// A COPY/ADD heredoc body: $VARs expand unless the delimiter was quoted; quotes are
// plain text in a body and the escape token is always `\` (buildkit's ExpandRaw).
function expandHeredoc(h: Heredoc, env: EnvList): Heredoc {
  if (!h.expand) return { ...h };
  return { ...h, content: expand(h.content, env, { skipProcessQuotes: true }).word };
}

// The lexer's errors name the word, as dockerd's do: `failed to process "${A": ...`.
function expand(word: string, env: EnvList, opts: LexOptions): ReturnType<typeof lex> {
  try {
    return lex(word, env, opts);
  } catch (err) {
    if (err instanceof BerthError) throw invalid(`failed to process ${goQuote(word)}: ${err.message}`);
    throw err;
  }
}
