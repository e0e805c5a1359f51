import { stat, unlink, writeFile } from 'node:fs/promises';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { exactArgs, StatusError, type CliContext, type CommandSpec, type TerminalOut } from '../command.js';
import type { FlagSpec, ParsedFlags } from '../flags.js';
import { displayJsonMessages, JsonMessageError, progressString } from '../jsonmessage.js';
import { parseCsvRecord, validateEnv, validateExtraHost, validateLabel, type Ulimit } from '../opts/validators.js';
import { containerFlags } from '../opts/container-opts.js';
import { parseNormalizedNamed } from '../../image/reference.js';
import type { Query } from '../../client/transport.js';
import { contextFromDirectory, contextFromReader, ContextError, type PreparedContext } from '../../build/build-context.js';

// `berth build [OPTIONS] PATH | -`: docker's legacy (v1) builder client
// (cli/command/image/build.go): the context goes up as a tar, the daemon's JSON
// messages come back and are printed as they arrive.

const appendValidated = (fn: (raw: string) => string) => (raw: string, prev: unknown): string[] => [...((prev as string[] | undefined) ?? []), fn(raw)];
const stringSlice = (raw: string, prev: unknown): string[] => [...((prev as string[] | undefined) ?? []), ...(raw === '' ? [] : parseCsvRecord(raw))];

// The resource flags run/create have too; some carry other words in docker build's help.
function shared(name: string, usage?: string): FlagSpec {
  const spec = containerFlags.find((f) => f.name === name);
  if (!spec) throw new Error(`no container flag ${name}`);
  return usage === undefined ? spec : { ...spec, usage };
}

// reference.ParseNormalizedNamed, so a bad -t fails before anything is sent.
function validateTag(raw: string): string {
  parseNormalizedNamed(raw);
  return raw;
}

const buildFlags: FlagSpec[] = [
  { name: 'add-host', kind: 'list', usage: 'Add a custom host-to-IP mapping ("host:ip")', parse: appendValidated(validateExtraHost) },
  // A bare KEY takes its value from the environment (in runBuild, which has it).
  { name: 'build-arg', kind: 'list', usage: 'Set build-time variables', parse: appendValidated((v) => validateEnv(v, {})) },
  { name: 'cache-from', kind: 'value', typeName: 'strings', default: [], usage: 'Images to consider as cache sources', parse: stringSlice },
  { name: 'cgroup-parent', kind: 'string', usage: 'Set the parent cgroup for the "RUN" instructions during build' },
  { name: 'compress', kind: 'bool', usage: 'Compress the build context using gzip' },
  shared('cpu-period', 'Limit the CPU CFS (Completely Fair Scheduler) period'),
  shared('cpu-quota', 'Limit the CPU CFS (Completely Fair Scheduler) quota'),
  shared('cpu-shares'),
  shared('cpuset-cpus'),
  shared('cpuset-mems'),
  { name: 'disable-content-trust', kind: 'bool', default: true, usage: 'Skip image verification' },
  { name: 'file', short: 'f', kind: 'string', usage: 'Name of the Dockerfile (Default is "PATH/Dockerfile")' },
  { name: 'force-rm', kind: 'bool', usage: 'Always remove intermediate containers' },
  { name: 'iidfile', kind: 'string', usage: 'Write the image ID to the file' },
  shared('isolation'),
  { name: 'label', kind: 'list', usage: 'Set metadata for an image', parse: appendValidated(validateLabel) },
  shared('memory'),
  shared('memory-swap', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap'),
  { name: 'network', kind: 'string', default: 'default', usage: 'Set the networking mode for the RUN instructions during build' },
  { name: 'no-cache', kind: 'bool', usage: 'Do not use cache when building the image' },
  { name: 'platform', kind: 'string', default: process.env.DOCKER_DEFAULT_PLATFORM ?? '', usage: 'Set platform if server is multi-platform capable' },
  { name: 'pull', kind: 'bool', usage: 'Always attempt to pull a newer version of the image' },
  { name: 'quiet', short: 'q', kind: 'bool', usage: 'Suppress the build output and print image ID on success' },
  { name: 'rm', kind: 'bool', default: true, usage: 'Remove intermediate containers after a successful build' },
  { name: 'security-opt', kind: 'value', typeName: 'strings', default: [], usage: 'Security options', parse: stringSlice },
  shared('shm-size', 'Size of "/dev/shm"'),
  { name: 'squash', kind: 'bool', usage: 'Squash newly built layers into a single new layer' },
  { name: 'tag', short: 't', kind: 'list', usage: 'Name and optionally a tag in the "name:tag" format', parse: appendValidated(validateTag) },
  { name: 'target', kind: 'string', usage: 'Set the target build stage to build.' },
  shared('ulimit'),
];

export const buildCommand: CommandSpec = {
  name: 'build',
  use: 'build [OPTIONS] PATH | URL | -',
  short: 'Build an image from a Dockerfile',
  aliasText: 'docker image build, docker build, docker builder build',
  topCategory: 4,
  flags: buildFlags,
  args: exactArgs(1),
  run: async (ctx: CliContext, flags: ParsedFlags, args: string[]) => runBuild(ctx, flags, args[0]),
};

async function runBuild(ctx: CliContext, flags: ParsedFlags, contextArg: string): Promise<void> {
  const file = flags.string('file');
  if (file === '-' && contextArg === '-') throw new Error("invalid argument: can't use stdin for both build context and dockerfile");
  const quiet = flags.bool('quiet');
  const progressBuf = new TextSink();
  const buildBuf = new TextSink();
  const progressOut: TerminalOut = quiet ? progressBuf : ctx.io.stdout;
  const buildOut: TerminalOut = quiet ? buildBuf : ctx.io.stdout;

  const iidfile = flags.string('iidfile');
  if (iidfile !== '') {
    // No stale ID left behind when this build fails.
    await unlink(iidfile).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw new Error(`Removing image ID file: ${err.message}`);
    });
  }

  let prepared: PreparedContext;
  try {
    prepared = await prepareContext(ctx, contextArg, file);
  } catch (err) {
    if (err instanceof ContextError) throw new Error(`unable to prepare context: ${err.message}`);
    throw err;
  }

  let body: Readable = prepared.tar;
  if (flags.bool('compress')) body = body.pipe(createGzip());
  body = withUploadProgress(body, progressOut, ctx.io.stdout.isTTY === true);

  let res;
  try {
    res = await ctx.client().imageBuild(buildQuery(flags, prepared.dockerfile, ctx.io.env), body);
  } catch (err) {
    if (quiet) ctx.io.stderr.write(progressBuf.text);
    throw err;
  }

  let imageId = '';
  try {
    await displayJsonMessages(res, buildOut, {
      isTerminal: !quiet && ctx.io.stdout.isTTY === true,
      onAux: (aux) => {
        const id = (aux as { ID?: unknown } | null)?.ID;
        if (typeof id === 'string') imageId = id;
      },
    });
  } catch (err) {
    if (err instanceof JsonMessageError) {
      if (quiet) ctx.io.stderr.write(progressBuf.text + buildBuf.text);
      throw new StatusError(err.message, err.code || 1);
    }
    throw err;
  }

  // With -q the daemon's only output is the image ID line: that is what gets printed
  // (and written to --iidfile), as docker does.
  if (quiet) {
    imageId = buildBuf.text;
    ctx.io.stdout.write(imageId);
  }
  if (iidfile !== '') {
    if (imageId === '') throw new Error(`Server did not provide an image ID. Cannot write ${iidfile}`);
    await writeFile(iidfile, imageId, { mode: 0o666 });
  }
}

async function prepareContext(ctx: CliContext, contextArg: string, file: string): Promise<PreparedContext> {
  if (contextArg === '-') return contextFromReader(ctx.io.stdin, file);
  const exists = await stat(contextArg).then(
    () => true,
    () => false,
  );
  // Remote contexts (git, http) would need the network; berth builds from local ones.
  if (!exists) throw new ContextError(`path ${JSON.stringify(contextArg)} not found`);
  return contextFromDirectory(contextArg, file, { stdinDockerfile: ctx.io.stdin });
}

// The query of POST /build, field by field as the docker client encodes ImageBuildOptions.
function buildQuery(flags: ParsedFlags, dockerfile: string, env: NodeJS.ProcessEnv): Query {
  const q: Query = { version: '1' };
  const set = (key: string, value: string | number | undefined, skip: unknown = ''): void => {
    if (value !== undefined && value !== skip) q[key] = String(value);
  };
  const list = (key: string, values: string[]): void => {
    if (values.length > 0) q[key] = values;
  };
  list('t', flags.list('tag'));
  list('securityopt', (flags.get('security-opt') as string[] | undefined) ?? []);
  list('extrahosts', flags.list('add-host'));
  if (flags.bool('quiet')) q.q = '1';
  if (flags.bool('no-cache')) q.nocache = '1';
  if (!flags.bool('rm')) q.rm = '0';
  if (flags.bool('force-rm')) q.forcerm = '1';
  if (flags.bool('pull')) q.pull = '1';
  if (flags.bool('squash')) q.squash = '1';
  const isolation = flags.string('isolation');
  if (isolation !== '' && isolation.toLowerCase() !== 'default') q.isolation = isolation;
  set('cpusetcpus', flags.string('cpuset-cpus'));
  const network = flags.string('network');
  if (network !== '' && network !== 'default') q.networkmode = network;
  set('cpusetmems', flags.string('cpuset-mems'));
  set('cpushares', flags.number('cpu-shares'), 0);
  set('cpuquota', flags.number('cpu-quota'), 0);
  set('cpuperiod', flags.number('cpu-period'), 0);
  set('memory', flags.number('memory'), 0);
  set('memswap', flags.number('memory-swap'), 0);
  set('cgroupparent', flags.string('cgroup-parent'));
  set('shmsize', flags.number('shm-size'), 0);
  set('dockerfile', dockerfile);
  set('target', flags.string('target'));
  const ulimits = Object.values((flags.get('ulimit') as Record<string, Ulimit> | undefined) ?? {});
  if (ulimits.length > 0) q.ulimits = goJson(ulimits);
  const buildArgs = kvMap(flags.list('build-arg').map((v) => validateEnv(v, env)), null);
  if (Object.keys(buildArgs).length > 0) q.buildargs = goJson(buildArgs);
  const labels = kvMap(flags.list('label'), '');
  if (Object.keys(labels).length > 0) q.labels = goJson(labels);
  const cacheFrom = (flags.get('cache-from') as string[] | undefined) ?? [];
  if (cacheFrom.length > 0) q.cachefrom = goJson(cacheFrom);
  const platform = flags.string('platform');
  if (platform !== '') q.platform = platform.toLowerCase();
  return q;
}

// opts.ConvertKVStringsToMap(WithNil): a bare KEY maps to `bare` (null for build args
// whose value the daemon then takes from nowhere, "" for labels). Keys come out sorted,
// as Go marshals maps.
function kvMap(values: string[], bare: string | null): Record<string, string | null> {
  const m = new Map<string, string | null>();
  for (const v of values) {
    const eq = v.indexOf('=');
    m.set(eq < 0 ? v : v.slice(0, eq), eq < 0 ? bare : v.slice(eq + 1));
  }
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// encoding/json escapes <, > and & in strings.
const goJson = (v: unknown): string =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

// "Sending build context to Docker daemon  2.048kB": on a terminal updated as the tar
// goes up, elsewhere once at the end (docker's lastProgressOutput).
function withUploadProgress(body: Readable, out: TerminalOut, terminal: boolean): Readable {
  const counted = new PassThrough();
  let sent = 0;
  let last = 0;
  const line = (): string => `Sending build context to Docker daemon ${progressString({ current: sent }, 200)}\r`;
  body.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    const now = Date.now();
    if (terminal && now - last >= 100) {
      last = now;
      out.write(line());
    }
  });
  body.on('end', () => out.write(`${line()}\r\n`));
  body.on('error', (err) => counted.destroy(err));
  body.pipe(counted);
  return counted;
}

// A bytes.Buffer for the -q output, shown only when the build fails.
class TextSink extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    cb();
  }
}
