// Build arguments as the legacy builder keeps them (moby builder/dockerfile/buildargs.go):
// --build-arg values from the request, the ARGs a stage declared (only those reach RUN and
// expansion), the ARGs before the first FROM (only for FROM lines and as defaults of a
// later bare `ARG NAME`), and which names the Dockerfile referenced at all (for the
// "were not consumed" warning).

// Proxy variables may be passed without an ARG, and stay out of the image history unless
// the Dockerfile declares them.
export const BUILTIN_BUILD_ARGS: ReadonlySet<string> = new Set([
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
]);

// null: named without a value (`--build-arg foo` with no foo in the client's environment,
// or `ARG foo` without a default).
export type ArgValues = ReadonlyMap<string, string | null>;

export class BuildArgs {
  private allowed = new Map<string, string | null>();
  private readonly meta = new Map<string, string | null>();
  private readonly referenced = new Set<string>();

  constructor(private readonly fromOptions: ArgValues) {}

  // A stage starts with the request's args and the meta args, and nothing allowed yet.
  forStage(): BuildArgs {
    const b = new BuildArgs(this.fromOptions);
    for (const [k, v] of this.meta) b.meta.set(k, v);
    for (const k of this.referenced) b.referenced.add(k);
    return b;
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  addArg(key: string, value: string | null): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: string | null): void {
    this.meta.set(key, value);
  }

  // Sorted, as moby prints the Go slice.
  unusedArgs(): string[] {
    return [...this.fromOptions.keys()].filter((k) => !BUILTIN_BUILD_ARGS.has(k) && !this.referenced.has(k)).sort();
  }

  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_BUILD_ARGS.has(key);
  }

  allAllowed(): Map<string, string> {
    return this.resolved(this.allowed);
  }

  allMeta(): Map<string, string> {
    return this.resolved(this.meta);
  }

  // KEY=VAL for every allowed arg the environment does not already set (ENV wins over ARG).
  filterAllowed(env: readonly string[]): string[] {
    const set = new Set(env.map((e) => cut(e)));
    const out: string[] = [];
    for (const [k, v] of this.allAllowed()) if (!set.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  // The request's value wins; a declared default next; a bare declaration falls back to
  // the meta arg of that name. Builtins are always candidates.
  private resolved(source: Map<string, string | null>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of new Set([...source.keys(), ...BUILTIN_BUILD_ARGS])) {
      const fromOpt = this.fromOptions.get(key);
      if (fromOpt !== undefined && fromOpt !== null) {
        out.set(key, fromOpt);
        continue;
      }
      const dflt = source.get(key);
      if (dflt === undefined || dflt === null) {
        const m = this.meta.get(key);
        if (m !== undefined && m !== null) out.set(key, m);
        continue;
      }
      out.set(key, dflt);
    }
    return out;
  }
}

function cut(kv: string): string {
  const eq = kv.indexOf('=');
  return eq < 0 ? kv : kv.slice(0, eq);
}
