import type { Readable, Writable } from 'node:stream';
import type { OciDevice } from './oci-spec.js';
import type { OciLinuxResources, Ulimit } from './resources.js';

// The border between the container service (src/container) and the OCI runtime driver
// (src/runtime: runc under conmon). The container service decides what runs; the
// runtime only turns a SpecInput into an OCI bundle and drives runc/conmon.

export interface SpecMount {
  destination: string;
  type: string; // 'bind', 'tmpfs', 'proc', ...
  source: string;
  options: string[];
}

export interface SpecInput {
  id: string;
  rootfs: string; // absolute path of the mounted (merged) rootfs
  args: string[];
  env: string[];
  cwd: string;
  user: string; // Docker's -u syntax: '', 'name', 'uid', 'uid:gid', 'name:group'; resolved against rootfs
  hostname: string;
  domainname: string;
  tty: boolean;
  readonlyRootfs: boolean;
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  mounts: SpecMount[]; // extra mounts, e.g. /etc/hosts, /etc/hostname, /etc/resolv.conf binds
  cgroupsPath: string; // cgroupfs path, e.g. '/berth/<id>'
  netns: { mode: 'new' } | { mode: 'host' } | { mode: 'path'; path: string };
  // --pid host / --ipc host: these namespaces are the host's, not new ones.
  hostNamespaces?: ReadonlyArray<'pid' | 'ipc'>;
  shmSize: number; // bytes for /dev/shm
  groupAdd: string[];
  // cgroup limits (src/runtime/resources.ts); device rules here are added to Docker's defaults
  resources?: OciLinuxResources;
  devices?: OciDevice[]; // --device nodes
  ulimits?: Ulimit[]; // --ulimit, over the default RLIMIT_NOFILE
  // HostConfig.ConsoleSize [height, width]: runc sizes the pty before the process runs, so
  // the first thing a `run -it` shell reads (stty size, $COLUMNS) is already right.
  consoleSize?: [number, number] | null;
  // --init: host path of the init binary, run as PID 1 ahead of args.
  init?: string;
  // --sysctl: namespaced kernel parameters; runc checks which are allowed.
  sysctl?: Record<string, string>;
  // linux.rootfsPropagation: 'shared' or 'rslave' when a bind asks for such propagation
  // (src/volume/propagation.ts); unset for the runtime's default.
  rootfsPropagation?: string;
  // HostConfig.Runtime: the OCI runtime by its configured name; empty for the default.
  runtime?: string;
}

export interface CreateOptions {
  logPath: string; // k8s-file log written by conmon
  logSizeMax?: number; // bytes; --log-opt max-size
  tty: boolean;
  openStdin: boolean;
  // Close the container's stdin when the attached client closes it (docker run -i).
  stdinOnce?: boolean;
}

export interface RuncState {
  id: string;
  pid: number;
  status: 'created' | 'running' | 'paused' | 'stopped' | string;
  bundle: string;
}

// One attached client: stdout/stderr carry the container's output (one stream when tty),
// stdin (if asked for) feeds the container. close() detaches without touching the container.
export interface AttachSession {
  stdout: Readable;
  stderr: Readable;
  stdin: Writable | null;
  closed: Promise<void>; // resolves when the container's output ends or the session is closed
  close(): void;
}

export interface ExitInfo {
  id: string;
  exitCode: number;
  finishedAt: Date;
  oomKilled?: boolean; // the kernel's OOM killer struck in the container's cgroup
}

export interface ContainerRuntime {
  // Write the bundle, start conmon (which runs `runc create`) and wait until the
  // container process exists but has not started; returns its host pid.
  create(spec: SpecInput, opts: CreateOptions): Promise<{ pid: number; conmonPid: number }>;
  start(id: string): Promise<void>; // `runc start`
  kill(id: string, signal: number, all?: boolean): Promise<void>;
  delete(id: string): Promise<void>; // `runc delete --force` and remove the bundle; no-op if gone
  state(id: string): Promise<RuncState | null>;
  exitInfo(id: string): Promise<ExitInfo | null>; // from conmon's exit file, if it has exited
  monitorAlive(id: string): Promise<boolean>; // is conmon still there for this container
  onExit(fn: (info: ExitInfo) => void): () => void; // called once per container exit
  attach(id: string, streams: { stdin: boolean; stdout: boolean; stderr: boolean }): Promise<AttachSession>;
  resize(id: string, height: number, width: number): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: OciLinuxResources): Promise<void>; // `runc update` of a live container
}
