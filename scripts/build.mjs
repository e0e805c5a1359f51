// Bundles the CLI and the daemon into single files so that `berth` starts with one
// module load instead of hundreds (the CLI's start time is a feature).
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  // koffi ships a native addon; it stays a runtime dependency.
  external: ['koffi'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
};

await Promise.all([
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/berth.mjs' }),
  build({ ...common, entryPoints: ['src/daemon/main.ts'], outfile: 'dist/berthd.mjs' }),
  // `berth registry serve` alone: what the `registry` image runs (berth image bootstrap registry).
  build({ ...common, entryPoints: ['src/distribution/server/main.ts'], outfile: 'dist/registry.mjs' }),
]);
