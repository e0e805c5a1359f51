import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TestDaemon, runCommand } from '../helpers/daemon.js';

// docker-py against berthd: Debian's python3-docker 5.0.3 (what docker-compose 1.29 runs
// on) and, when the default python3 has another docker-py (7.x from pip), that one too.
// Each area is one script in ./compat-docker-py/ that checks the result shapes docker-py
// and Docker agree on, cleans up after itself and prints "ok <script>". The same scripts
// run against the reference dockerd 20.10 by hand (REFERENCE=1 skips the few checks where
// Docker itself races or this host refuses it):
//   cd test/integration/compat-docker-py && REFERENCE=1 DOCKER_SOCK=/tmp/berth-bench/docker.sock \
//     DPY_SUBNET=198.18.77.16/28 /usr/bin/python3 containers_run.py
const scriptsDir = resolve(import.meta.dirname, 'compat-docker-py');
const scripts = ['system', 'containers_run', 'containers_lifecycle', 'containers_inside', 'images', 'networks', 'volumes', 'events', 'lowlevel'];

interface Python {
  exe: string;
  version: string; // docker-py's
}

let d: TestDaemon;
let pythons: Python[] = [];
let subnet = '';

async function dockerPy(exe: string): Promise<string | null> {
  const r = await runCommand(exe, ['-c', 'import docker; print(docker.__version__)'], undefined, process.env).catch(() => null);
  return r && r.code === 0 ? r.stdout.trim() : null;
}

before(async () => {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    const version = await dockerPy(exe);
    if (version && !pythons.some((p) => p.version === version)) pythons.push({ exe, version });
  }
  assert.ok(pythons.length > 0, 'no python3 with docker-py (apt-get install python3-docker)');
  d = await TestDaemon.start();
  const boot = await d.run(['image', 'bootstrap', 'busybox']);
  assert.equal(boot.code, 0, boot.stderr);
  // A /28 at the top of this daemon's own pool: never handed out by the first networks,
  // never on another test daemon's bridge.
  const cfg = JSON.parse(await readFile(join(d.dir, 'daemon.json'), 'utf8')) as { 'default-address-pools': Array<{ base: string }> };
  subnet = cfg['default-address-pools'][0]!.base.replace(/\.0\/24$/, '.224/28');
});

after(async () => {
  await d?.cleanup();
});

for (const script of scripts) {
  test(`docker-py: ${script}`, async () => {
    for (const py of pythons) {
      const r = await runCommand(py.exe, [join(scriptsDir, `${script}.py`)], undefined, {
        ...process.env,
        DOCKER_SOCK: d.sock,
        NAME_PREFIX: `dpy${py.version.split('.')[0]}`,
        DPY_SUBNET: subnet,
        PYTHONDONTWRITEBYTECODE: '1',
      });
      assert.equal(r.code, 0, `${script}.py with docker-py ${py.version} failed:\n${r.stderr}${r.stdout}`);
      assert.match(r.stdout, new RegExp(`^ok ${script}\\.py`, 'm'));
      // Cleanup trouble is reported on stderr without failing the script itself.
      assert.doesNotMatch(r.stderr, /^cleanup /m, r.stderr);
    }
  });
}

// Every script removed what it made: nothing but busybox and the built-in networks is left.
test('docker-py scripts left nothing behind', async () => {
  const out = async (args: string[]): Promise<string[]> => {
    const r = await d.run(args);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).sort();
  };
  assert.deepEqual(await out(['ps', '-a', '--format', '{{.Names}}']), []);
  assert.deepEqual(await out(['volume', 'ls', '-q']), []);
  assert.deepEqual(await out(['network', 'ls', '--format', '{{.Name}}']), ['bridge', 'host', 'none']);
  assert.deepEqual(await out(['images', '--format', '{{.Repository}}:{{.Tag}}']), ['busybox:latest']);
});
