// What the Dockerfile parser (src/build/dockerfile-parser.ts) hands the builder
// (src/build/builder.ts). The parser knows the text only: words stay as written
// (quotes and $VARs kept), because what they expand to depends on the build state at
// that step (ENV and ARG so far). The builder expands them with expandInstruction()
// right before it runs each step, as the legacy builder does.

export interface Dockerfile {
  escapeToken: '\\' | '`';
  // ARGs before the first FROM: they may be used only in FROM lines.
  metaArgs: ArgInstruction[];
  stages: Stage[];
  // Parser warnings dockerd prints to the build output (empty continuation lines).
  warnings?: string[];
}

export interface Stage {
  from: FromInstruction;
  // Everything after this FROM up to the next one.
  instructions: Instruction[];
}

interface Base {
  // 1-based line of the instruction's first line, for error messages.
  line: number;
  // The instruction as written, continuation lines joined, for "Step 2/7 : RUN ...".
  original: string;
}

// Shell form keeps the text after the instruction (and its flags) as ONE string in
// args[0]; JSON (exec) form keeps the array.
export interface CommandLine {
  json: boolean;
  args: string[];
  // `RUN <<EOF` ... bodies, in the order their markers appear on the line.
  heredocs: Heredoc[];
}

export interface Heredoc {
  name: string; // the delimiter word, e.g. EOF
  content: string; // body, with its trailing newline (leading tabs already gone when chomp)
  expand: boolean; // false when the delimiter was quoted (<<'EOF'): no $VAR expansion
  chomp: boolean; // <<-EOF: leading tabs stripped from each body line
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface FromInstruction extends Base {
  kind: 'FROM';
  image: string; // may hold $ARGs from metaArgs
  stageName?: string; // `AS name`, lower-cased
  platform?: string; // --platform
}

export interface RunInstruction extends Base {
  kind: 'RUN';
  cmd: CommandLine;
  network?: string; // RUN --network=none|host|default
}

export interface CmdInstruction extends Base {
  kind: 'CMD' | 'ENTRYPOINT';
  cmd: CommandLine;
}

export interface ShellInstruction extends Base {
  kind: 'SHELL';
  shell: string[]; // JSON form only
}

export interface EnvInstruction extends Base {
  kind: 'ENV' | 'LABEL';
  pairs: KeyValue[];
}

export interface ArgInstruction extends Base {
  kind: 'ARG';
  args: Array<{ name: string; default?: string }>;
}

export interface MaintainerInstruction extends Base {
  kind: 'MAINTAINER';
  name: string;
}

export interface ExposeInstruction extends Base {
  kind: 'EXPOSE';
  ports: string[];
}

export interface CopyInstruction extends Base {
  kind: 'ADD' | 'COPY';
  sources: string[]; // at least one
  dest: string;
  from?: string; // COPY --from=stage|index|image
  chown?: string;
  chmod?: string;
  link?: boolean;
  keepGitDir?: boolean; // ADD --keep-git-dir
  checksum?: string; // ADD --checksum
  // COPY <<EOF /dest: each heredoc becomes a file named after its delimiter in sources.
  heredocs: Heredoc[];
}

export interface VolumeInstruction extends Base {
  kind: 'VOLUME';
  paths: string[];
}

export interface WordInstruction extends Base {
  kind: 'USER' | 'WORKDIR' | 'STOPSIGNAL';
  value: string;
}

export interface OnbuildInstruction extends Base {
  kind: 'ONBUILD';
  // The trigger as written ("RUN echo hi"); stored in the image config's OnBuild list
  // and parsed again with parseInstruction() when a build starts FROM that image.
  expression: string;
  trigger: Instruction;
}

export interface HealthcheckInstruction extends Base {
  kind: 'HEALTHCHECK';
  // NONE disables a health check inherited from the base image.
  none: boolean;
  cmd?: CommandLine; // CMD form: the test
  // Durations in nanoseconds, 0 when not given (the engine's defaults apply).
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  startIntervalNs: number;
  retries: number;
}

export type Instruction =
  | RunInstruction
  | CmdInstruction
  | ShellInstruction
  | EnvInstruction
  | ArgInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | VolumeInstruction
  | WordInstruction
  | OnbuildInstruction
  | HealthcheckInstruction;

export type InstructionKind = Instruction['kind'] | 'FROM';
