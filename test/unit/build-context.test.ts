import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import {
  addDockerfileToContext,
  contextFromDirectory,
  contextFromReader,
  ContextError,
  trimBuildFilesFromExcludes,
} from '../../src/build/build-context.js';

interface Entry {
  name: string;
  type: string;
  uid: number;
  gid: number;
  mode: number;
  body: string;
}

async function entries(stream: Readable): Promise<Entry[]> {
  const extract = tar.extract();
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  const out: Entry[] = [];
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const h = e.header;
    out.push({ name: h.name, type: h.type ?? '', uid: h.uid ?? -1, gid: h.gid ?? -1, mode: h.mode ?? 0, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

async function tree(t: { after(fn: () => Promise<void>): void }, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'berth-build-ctx-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), body);
  }
  return dir;
}

const IGNORE = ['docs', '!docs/README.md', 'node_modules', '**/*_test.go', 'Dockerfile', '.dockerignore', 'keep', '!keep/sub/f', ''].join('\n');

test('a directory context honours .dockerignore as the docker CLI does', async (t) => {
  const dir = await tree(t, {
    'Dockerfile': 'FROM busybox\n',
    '.dockerignore': IGNORE,
    'docs/a.md': 'a',
    'docs/README.md': 'r',
    'keep/sub/f': 'k',
    'node_modules/x/i.js': 'n',
    'src/main.go': 's',
    'src/pkg/main_test.go': 't',
  });
  await symlink('/nonexistent', path.join(dir, 'src/dangling'));
  const ctx = await contextFromDirectory(dir, '');
  assert.equal(ctx.dockerfile, 'Dockerfile');
  const got = await entries(ctx.tar);
  // Excluded directories are walked for their exceptions but not archived themselves;
  // .dockerignore and the Dockerfile go up although they are listed.
  assert.deepEqual(
    got.map((e) => e.name),
    ['.dockerignore', 'Dockerfile', 'docs/README.md', 'keep/sub/f', 'src/', 'src/dangling', 'src/main.go', 'src/pkg/'],
  );
  for (const e of got) assert.deepEqual([e.uid, e.gid], [0, 0], e.name);
  assert.equal(got.find((e) => e.name === 'src/dangling')?.type, 'symlink');
  assert.equal(got.find((e) => e.name === 'Dockerfile')?.body, 'FROM busybox\n');
});

test('-f picks another Dockerfile; lower-case dockerfile is the fallback', async (t) => {
  const dir = await tree(t, { 'dockerfile': 'FROM a\n', 'sub/Dockerfile.dev': 'FROM b\n' });
  assert.equal((await contextFromDirectory(dir, '')).dockerfile, 'dockerfile');
  // A relative -f is taken from the working directory, not from the context.
  const ctx = await contextFromDirectory('.', 'sub/Dockerfile.dev', { cwd: dir });
  assert.equal(ctx.dockerfile, 'sub/Dockerfile.dev');
  await entries(ctx.tar);
});

test('a Dockerfile outside the context (or from stdin) goes in under a random name that .dockerignore hides', async (t) => {
  const dir = await tree(t, { 'ctx/a': 'a', 'ctx/.dockerignore': 'secret', 'elsewhere/build.df': 'FROM c\n' });
  const ctx = await contextFromDirectory(path.join(dir, 'ctx'), path.join(dir, 'elsewhere/build.df'));
  assert.match(ctx.dockerfile, /^\.dockerfile\.[0-9a-f]{20}$/);
  const got = await entries(ctx.tar);
  assert.deepEqual(got.map((e) => e.name), ['.dockerignore', 'a', ctx.dockerfile]);
  assert.equal(got[0].body, `secret\n${ctx.dockerfile}\n`);
  assert.deepEqual([got[2].body, got[2].mode], ['FROM c\n', 0o600]);

  const fromStdin = await contextFromDirectory(path.join(dir, 'elsewhere'), '-', { stdinDockerfile: Readable.from([Buffer.from('FROM d\n')]) });
  const got2 = await entries(fromStdin.tar);
  assert.deepEqual(got2.map((e) => e.name), ['build.df', fromStdin.dockerfile, '.dockerignore']);
  assert.equal(got2[1].body, 'FROM d\n');
  assert.equal(got2[2].body, `.dockerignore\n${fromStdin.dockerfile}\n`);
});

test('context errors have the docker CLI’s words', async (t) => {
  const dir = await tree(t, { 'file': 'x' });
  const reject = (p: Promise<unknown>, msg: string): Promise<void> => assert.rejects(p, (e: unknown) => e instanceof Error && e.message === msg);
  await reject(contextFromDirectory(dir, ''), `unable to evaluate symlinks in Dockerfile path: lstat ${dir}/Dockerfile: no such file or directory`);
  await reject(contextFromDirectory(path.join(dir, 'file'), ''), `context must be a directory: ${dir}/file`);
  await reject(contextFromDirectory(dir, 'nope', { cwd: dir }), `unable to evaluate symlinks in Dockerfile path: lstat ${dir}/nope: no such file or directory`);
  await assert.rejects(contextFromDirectory(dir, ''), ContextError);
});

async function packTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('stdin: a tar (plain or compressed) is the context; anything else is a lone Dockerfile', async () => {
  const plain = await packTar({ Dockerfile: 'FROM e\n' });
  let ctx = await contextFromReader(Readable.from([plain]), '');
  assert.deepEqual([ctx.dockerfile, (await readAll(ctx.tar)).equals(plain)], ['', true]);
  const gz = gzipSync(plain);
  ctx = await contextFromReader(Readable.from([gz]), 'Dockerfile');
  assert.deepEqual([ctx.dockerfile, (await readAll(ctx.tar)).equals(gz)], ['Dockerfile', true]);

  ctx = await contextFromReader(Readable.from([Buffer.from('FROM f\nRUN true\n')]), '');
  assert.equal(ctx.dockerfile, 'Dockerfile');
  const got = await entries(ctx.tar);
  assert.deepEqual(got.map((e) => [e.name, e.body, e.uid]), [['Dockerfile', 'FROM f\nRUN true\n', 0]]);

  await assert.rejects(contextFromReader(Readable.from([Buffer.from('FROM f\n')]), '-'), { message: 'build context is not an archive' });
  await assert.rejects(contextFromReader(Readable.from([Buffer.from('FROM f\n')]), 'x'), {
    message: 'ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles',
  });
});

test('trimBuildFilesFromExcludes keeps .dockerignore and the Dockerfile', () => {
  assert.deepEqual(trimBuildFilesFromExcludes(['*'], 'Dockerfile', false), ['*', '!.dockerignore', '!Dockerfile']);
  assert.deepEqual(trimBuildFilesFromExcludes(['*'], 'Dockerfile', true), ['*', '!.dockerignore']);
  assert.deepEqual(trimBuildFilesFromExcludes(['a'], 'sub/Dockerfile', false), ['a']);
});

test('addDockerfileToContext replaces nothing else and keeps file bodies', async () => {
  const [out, name] = addDockerfileToContext(Readable.from([await packTar({ 'a/b': 'hello', '.dockerignore': 'x' })]), Buffer.from('FROM g\n'));
  const got = await entries(out);
  assert.deepEqual(
    got.map((e) => [e.name, e.body]),
    [
      ['a/b', 'hello'],
      ['.dockerignore', `x\n${name}\n`],
      [name, 'FROM g\n'],
    ],
  );
});
