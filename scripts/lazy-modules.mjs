// esbuild plugin: modules that most CLI commands never use are loaded on first use
// instead of at start-up. An import of one of them gets a stand-in: an empty object
// whose prototype loads the real module on the first property read and then forwards
// to it. `import { gzip } from 'node:zlib'` keeps working; only a command that calls
// gzip pays for zlib (crypto alone took ~3 ms of every `berth` call, because the
// module that writes the client's config file imports it). Having no own properties,
// the stand-in also costs nothing when esbuild copies a CommonJS module's exports
// for an ES import.
import { builtinModules } from 'node:module';

export function lazyModules({ builtins, packages, resolveDir }) {
  const lazyBuiltins = new Set(builtins);
  const lazyPackages = new Set(packages);
  // __esModule is what esbuild's interop asks first; the real modules never set it.
  const standIn = (real) =>
    `let m;\nconst load = () => (m ??= require(${JSON.stringify(real)}));\n` +
    'module.exports = Object.create(new Proxy({}, {\n' +
    "  get: (_, k) => (k === '__esModule' ? undefined : load()[k]),\n" +
    '  has: (_, k) => k in load(),\n' +
    '}));\n';
  return {
    name: 'lazy-modules',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        // The stand-in's own require of the real module.
        if (args.namespace === 'lazy') return args.path.startsWith('node:') ? { path: args.path, external: true } : undefined;
        if (args.pluginData?.real) return undefined;
        const name = args.path.replace(/^node:/, '');
        if (builtinModules.includes(name) && lazyBuiltins.has(name)) return { path: name, namespace: 'lazy', pluginData: { builtin: true } };
        if (lazyPackages.has(args.path)) return { path: args.path, namespace: 'lazy', pluginData: { builtin: false } };
        return undefined;
      });
      // The package itself, bundled as usual (and only evaluated when the stand-in loads it).
      b.onResolve({ filter: /^[^./]/, namespace: 'lazy' }, (args) => b.resolve(args.path, { resolveDir, kind: 'require-call', pluginData: { real: true } }));
      b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => {
        const real = args.pluginData.builtin ? `node:${args.path}` : args.path;
        return { contents: standIn(real), loader: 'js', resolveDir };
      });
    },
  };
}
