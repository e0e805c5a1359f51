import { parsePortSpecs } from '../../cli/opts/ports.js';
import type { HealthConfig } from '../../image/types.js';
import { invalid } from '../../util/errors.js';
import { quote as goQuote, quoteRune } from '../../util/go-template/fmt.js';
import { parseSignal } from '../../util/signals.js';
import { formatGoDuration } from '../../util/units.js';
import type {
  ArgInstruction,
  CmdInstruction,
  EnvInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  MaintainerInstruction,
  OnbuildInstruction,
  ShellInstruction,
  VolumeInstruction,
  WordInstruction,
} from '../dockerfile-ast.js';
import type { BuildSession } from '../build-session.js';
import type { DispatchState } from '../build-state.js';
import { resolveCmdLine, setEnv } from '../run-config.js';

// The instructions that only change the image config (moby dispatchers.go). Each records
// itself as "#(nop) " + the text below, which is also its cache key.

export type StepFn<T> = (s: BuildSession, state: DispatchState, inst: T) => Promise<void>;

// Go's fmt %v / %q of a []string: "[a b]" / ["a" "b"].
const goList = (xs: readonly string[]): string => `[${xs.join(' ')}]`;
const goQuotedList = (xs: readonly string[] | null | undefined): string => `[${(xs ?? []).map((x) => goQuote(x)).join(' ')}]`;

export const env: StepFn<EnvInstruction> = async (s, state, inst) => {
  const c = state.runConfig;
  if (inst.kind === 'LABEL') {
    c.Labels = { ...(c.Labels ?? {}) };
    for (const p of inst.pairs) c.Labels[p.key] = p.value;
  } else {
    for (const p of inst.pairs) c.Env = setEnv(c.Env ?? [], p.key, p.value);
  }
  await s.commitConfig(state, [inst.kind, ...inst.pairs.map((p) => `${p.key}=${p.value}`)].join(' '));
};

export const maintainer: StepFn<MaintainerInstruction> = async (s, state, inst) => {
  state.maintainer = inst.name;
  await s.commitConfig(state, `MAINTAINER ${inst.name}`);
};

export const expose: StepFn<ExposeInstruction> = async (s, state, inst) => {
  let exposed: Record<string, Record<string, never>>;
  try {
    exposed = parsePortSpecs(inst.ports).exposed;
  } catch (err) {
    // dockerd 20.10's go-connections capitalised these ("Invalid proto: xyz").
    const msg = (err as Error).message;
    throw invalid(msg.charAt(0).toUpperCase() + msg.slice(1));
  }
  state.runConfig.ExposedPorts = { ...(state.runConfig.ExposedPorts ?? {}), ...exposed };
  await s.commitConfig(state, `EXPOSE ${inst.ports.join(' ')}`);
};

export const word: StepFn<WordInstruction> = async (s, state, inst) => {
  if (inst.kind === 'USER') {
    state.runConfig.User = inst.value;
    return s.commitConfig(state, `USER ${inst.value}`);
  }
  // STOPSIGNAL (WORKDIR has its own step).
  parseSignal(inst.value);
  state.runConfig.StopSignal = inst.value;
  return s.commitConfig(state, `STOPSIGNAL ${inst.value}`);
};

export const volume: StepFn<VolumeInstruction> = async (s, state, inst) => {
  const volumes = { ...(state.runConfig.Volumes ?? {}) };
  for (const v of inst.paths) {
    if (v === '') throw invalid('VOLUME specified can not be an empty string');
    volumes[v] = {};
  }
  state.runConfig.Volumes = volumes;
  await s.commitConfig(state, `VOLUME ${goList(inst.paths)}`);
};

export const arg: StepFn<ArgInstruction> = async (s, state, inst) => {
  const words: string[] = [];
  for (const a of inst.args) {
    words.push(a.default === undefined ? a.name : `${a.name}=${a.default}`);
    state.buildArgs.addArg(a.name, a.default ?? null);
  }
  await s.commitConfig(state, `ARG ${words.join(' ')}`);
};

export const shell: StepFn<ShellInstruction> = async (s, state, inst) => {
  state.runConfig.Shell = [...inst.shell];
  await s.commitConfig(state, `SHELL ${goList(inst.shell)}`);
};

export const cmd: StepFn<CmdInstruction> = async (s, state, inst) => {
  const c = state.runConfig;
  const line = resolveCmdLine(c, inst.cmd.args, inst.cmd.json);
  if (inst.kind === 'CMD') {
    c.Cmd = line;
    delete c.ArgsEscaped;
    await s.commitConfig(state, `CMD ${goQuotedList(c.Cmd)}`);
    if (inst.cmd.args.length > 0) state.cmdSet = true;
    return;
  }
  c.Entrypoint = line;
  delete c.ArgsEscaped;
  // An ENTRYPOINT drops the base image's CMD, not one given in this stage.
  if (!state.cmdSet) c.Cmd = null;
  await s.commitConfig(state, `ENTRYPOINT ${goQuotedList(c.Entrypoint)}`);
};

export const healthcheck: StepFn<HealthcheckInstruction> = async (s, state, inst) => {
  const c = state.runConfig;
  const old = c.Healthcheck?.Test ?? [];
  if (old.length > 0 && old[0] !== 'NONE') s.out.stdout(`Note: overriding previous HEALTHCHECK: ${goList(old)}\n`);
  const hc: HealthConfig & { StartInterval?: number } = {};
  if (inst.none) hc.Test = ['NONE'];
  else {
    const args = inst.cmd?.args ?? [];
    hc.Test = inst.cmd?.json ? ['CMD', ...args] : ['CMD-SHELL', ...args];
  }
  if (inst.intervalNs) hc.Interval = inst.intervalNs;
  if (inst.timeoutNs) hc.Timeout = inst.timeoutNs;
  if (inst.startPeriodNs) hc.StartPeriod = inst.startPeriodNs;
  if (inst.startIntervalNs) hc.StartInterval = inst.startIntervalNs;
  if (inst.retries) hc.Retries = inst.retries;
  c.Healthcheck = hc;
  // dockerd 20.10 records fmt's %q of the *HealthConfig: quoted test words and durations,
  // the retry count as a rune literal.
  const d = (ns: number | undefined): string => goQuote(formatGoDuration(ns ?? 0));
  const text = `&{${goQuotedList(hc.Test)} ${d(hc.Interval)} ${d(hc.Timeout)} ${d(hc.StartPeriod)} ${quoteRune(hc.Retries ?? 0)}}`;
  await s.commitConfig(state, `HEALTHCHECK ${text}`);
};

export const onbuild: StepFn<OnbuildInstruction> = async (s, state, inst) => {
  state.runConfig.OnBuild = [...(state.runConfig.OnBuild ?? []), inst.expression];
  await s.commitConfig(state, `ONBUILD ${inst.expression}`);
};
