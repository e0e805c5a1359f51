// Bundles the CLI and the daemon into single files so that `berth` starts with one
// module load instead of hundreds (the CLI's start time is a feature).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lazyModules } from './lazy-modules.mjs';

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

// What the CLI's bundles share (the CLI itself and its warm server): CommonJS, and the
// modules few commands use loaded on first use (scripts/lazy-modules.mjs).
function cliCommon() {
  const { banner: _esmOnly, ...rest } = common;
  return {
    ...rest,
    format: 'cjs',
    plugins: [
      lazyModules({
        builtins: ['crypto', 'zlib', 'https', 'tls', 'child_process', 'readline', 'dns', 'worker_threads'],
        packages: ['tar-stream'],
        resolveDir: process.cwd(),
      }),
    ],
  };
}

// The CLI: CommonJS, so that bin/berth can compile it with a V8 code cache (see there),
// and with the modules few commands use loaded on first use (scripts/lazy-modules.mjs).
async function buildCli() {
  rmSync('dist/berth.cache', { force: true }); // never left next to a bundle it was not made for
  const result = await build({ ...cliCommon(), entryPoints: ['src/cli/main.ts'], outfile: 'dist/berth.cjs', write: false });
  mkdirSync('dist', { recursive: true });
  for (const f of result.outputFiles) {
    if (!f.path.endsWith('.cjs')) {
      writeFileSync(f.path, f.contents);
      continue;
    }
    // The id bin/berth matches against the cache's, so a cache never outlives its bundle.
    const id = createHash('sha256').update(f.contents).digest('hex').slice(0, 32);
    writeFileSync(f.path, `${f.text}\n//# berth-build ${id}\n`);
  }
  // For whatever runs `node dist/berth.mjs` (tests, scripts written before bin/berth
  // loaded the CommonJS bundle).
  writeFileSync('dist/berth.mjs', "import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('../bin/berth').main();\n");
  rmSync('dist/berth.mjs.map', { force: true });
  writeCodeCache();
}

// Runs the CLI once through a warm-up of typical commands against a socket that does not
// exist, then saves V8's cache of everything compiled by then. Without it the CLI works
// as well, only slower to start: a failure here is a warning.
function writeCodeCache() {
  const dir = mkdtempSync(join(tmpdir(), 'berth-build-'));
  try {
    const out = join(dir, 'berth.cache');
    const r = spawnSync(process.execPath, ['bin/berth'], {
      env: { ...process.env, BERTH_CODE_CACHE_OUT: out, BERTH_CODE_CACHE_SOCKET: join(dir, 'none.sock') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) {
      process.stderr.write(`build: no code cache for the CLI (it starts slower): ${(r.stderr || r.error?.message || '').trim()}\n`);
      return;
    }
    copyFileSync(out, 'dist/berth.cache');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The warm CLI (docs/decisions.md): the server that runs calls handed over by the native
// launcher. Its own bundle, so that the CLI's bundle never loads koffi.
function buildCliServer() {
  return build({ ...cliCommon(), entryPoints: ['src/cli/server/main.ts'], outfile: 'dist/berth-cli-server.cjs' });
}

// dist/berth-launcher, when a C compiler is there; without one `berth` stays bin/berth.
function buildLauncher() {
  const cc = process.env.CC || 'cc';
  const out = 'dist/berth-launcher';
  const tmp = `${out}.tmp-${process.pid}`;
  mkdirSync('dist', { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-o', tmp, 'src/launcher/berth-launcher.c'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    if (existsSync(out)) rmSync(out); // never a launcher from older sources
    process.stderr.write(`build: no dist/berth-launcher (${r.error ? `${cc}: ${r.error.message}` : r.stderr.trim()}); berth runs cold\n`);
    return;
  }
  renameSync(tmp, out); // a running launcher keeps its inode
}

await Promise.all([
  buildCli(),
  buildCliServer(),
  Promise.resolve().then(buildLauncher),
  build({ ...common, entryPoints: ['src/daemon/main.ts'], outfile: 'dist/berthd.mjs' }),
  // `berth registry serve` alone: what the `registry` image runs (berth image bootstrap registry).
  build({ ...common, entryPoints: ['src/distribution/server/main.ts'], outfile: 'dist/registry.mjs' }),
]);
