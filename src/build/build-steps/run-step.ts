import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandLine } from '../dockerfile-ast.js';
import type { RunInstruction } from '../dockerfile-ast.js';
import { BuildStepError } from '../build-output.js';
import type { BuildSession } from '../build-session.js';
import type { DispatchState } from '../build-state.js';
import { copyRunConfig, prependEnvOnCmd, resolveCmdLine, shellOf } from '../run-config.js';
import type { ContainerConfig } from '../../image/types.js';
import { systemError } from '../../util/errors.js';

// RUN (moby dispatchRun): a container of the current image runs the command with the
// build args in its environment (not in the image), its output streamed to the client,
// and its changes become the step's layer. The cache key is the command with the build
// args it saw ("|1 A=b /bin/sh -c ..."); a non-zero exit ends the build with that code.

// Where a heredoc script with a #! line is put for the container (a bind mount, so it
// never lands in the image), as buildkit's /dev/pipes/.
const PIPES = '/dev/pipes';

export async function run(s: BuildSession, state: DispatchState, inst: RunInstruction): Promise<void> {
  if (!state.imageId) throw systemError('Please provide a source image with `from` prior to run');
  const stateConfig = state.runConfig;
  const { cmd, script } = commandFor(stateConfig, inst.cmd);
  const buildArgEnv = state.buildArgs.filterAllowed(stateConfig.Env ?? []);
  const saveCmd = buildArgEnv.length > 0 ? prependEnvOnCmd(state.buildArgs, buildArgEnv, cmd) : cmd;

  const probe = copyRunConfig(stateConfig, { Cmd: saveCmd });
  delete probe.ArgsEscaped;
  if (saveCmd.length > 0) probe.Entrypoint = null;
  if (await s.probeCache(state, probe)) return;

  const binds: string[] = [];
  if (script) {
    const dir = await s.tmpDir('heredoc-');
    const file = join(dir, script.name);
    await writeFile(file, script.content);
    await chmod(file, 0o755);
    binds.push(`${file}:${PIPES}/${script.name}:ro`);
  }
  const runConfig: ContainerConfig = copyRunConfig(stateConfig, {
    Cmd: cmd,
    Env: [...(stateConfig.Env ?? []), ...buildArgEnv],
    Healthcheck: { Test: ['NONE'] },
    Image: state.imageId,
  });
  delete runConfig.ArgsEscaped;
  if (saveCmd.length > 0) runConfig.Entrypoint = [''];
  const id = await s.createContainer(runConfig, inst.network ?? '', binds);
  const code = await s.runContainer(id);
  if (code !== 0) throw new BuildStepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code);
  await s.commitContainer(state, id, probe);
}

// The command to run. Heredocs follow buildkit: a lone `<<EOF` runs its body (as a
// script file when it starts with #!, else through the shell); heredocs inside a longer
// command line are put back after it for the shell to read.
export function commandFor(c: ContainerConfig, line: CommandLine): { cmd: string[]; script?: { name: string; content: string } } {
  if (line.json || line.heredocs.length === 0) return { cmd: resolveCmdLine(c, line.args, line.json) };
  const text = line.args[0] ?? '';
  const only = line.heredocs.length === 1 && /^<<-?(["']?)([^"'\s]+)\1$/.exec(text.trim());
  if (only) {
    const doc = line.heredocs[0]!;
    if (doc.content.startsWith('#!')) return { cmd: [`${PIPES}/${doc.name}`], script: { name: doc.name, content: doc.content } };
    return { cmd: [...shellOf(c), doc.content] };
  }
  let full = text;
  for (const doc of line.heredocs) full += `\n${doc.content}${doc.name}`;
  return { cmd: [...shellOf(c), full] };
}
