import { BerthError, errorMessage, invalid } from '../../util/errors.js';
import type { Instruction } from '../dockerfile-ast.js';
import { expandInstruction } from '../dockerfile-expand.js';
import type { BuildSession } from '../build-session.js';
import type { DispatchState } from '../build-state.js';
import * as config from './config-steps.js';
import { copy } from './copy-step.js';
import { run } from './run-step.js';
import { workdir } from './workdir-step.js';

// One instruction (moby evaluator.go dispatch): its words are expanded with the ENV and
// ARGs of this point of the stage, then its step runs. Afterwards the step's containers
// go: always with --force-rm, after a success with --rm.

export interface DispatchOptions {
  noExpand?: boolean; // --label's LABELs are taken literally
}

export async function dispatch(s: BuildSession, state: DispatchState, inst: Instruction, opts: DispatchOptions = {}): Promise<void> {
  const env = state.runConfig.Env ?? [];
  const vars = [...env, ...state.buildArgs.filterAllowed(env)];
  let expanded: Instruction = inst;
  if (!opts.noExpand) {
    try {
      expanded = expandInstruction(inst, vars, s.env.escapeToken);
    } catch (err) {
      throw err instanceof BerthError ? err : invalid(errorMessage(err));
    }
  }
  let ok = false;
  try {
    await step(s, state, expanded);
    ok = true;
  } finally {
    if (s.opts.forceRemove || (s.opts.remove && ok)) await s.removeContainers();
  }
}

async function step(s: BuildSession, state: DispatchState, inst: Instruction): Promise<void> {
  switch (inst.kind) {
    case 'ENV':
    case 'LABEL':
      return config.env(s, state, inst);
    case 'MAINTAINER':
      return config.maintainer(s, state, inst);
    case 'ADD':
    case 'COPY':
      return copy(s, state, inst);
    case 'ONBUILD':
      return config.onbuild(s, state, inst);
    case 'WORKDIR':
      return workdir(s, state, inst);
    case 'USER':
    case 'STOPSIGNAL':
      return config.word(s, state, inst);
    case 'RUN':
      return run(s, state, inst);
    case 'CMD':
    case 'ENTRYPOINT':
      return config.cmd(s, state, inst);
    case 'HEALTHCHECK':
      return config.healthcheck(s, state, inst);
    case 'EXPOSE':
      return config.expose(s, state, inst);
    case 'VOLUME':
      return config.volume(s, state, inst);
    case 'ARG':
      return config.arg(s, state, inst);
    case 'SHELL':
      return config.shell(s, state, inst);
  }
}
