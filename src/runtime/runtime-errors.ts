// What the OCI runtimes say when they fail, and the words Docker users see for it.
// runc is Docker's runtime, so its wording is the one scripts and tests match on
// (`exec: "x": executable file not found in $PATH`) and the one moby derives exit codes
// from (127 not found, 126 not executable). crun says the same things differently; its
// messages are put into runc's words here, keeping crun's name where the runtime names itself.

export type RuntimeKind = 'runc' | 'crun';

// `--log-format json` (both runtimes): one JSON object per line, {"level", "msg"}; the
// error is the last "error"/"fatal" one. A line that is not JSON is taken as it is.
export function runtimeErrorMessage(stderr: string): string {
  let msg = '';
  for (const line of stderr.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const rec = JSON.parse(t) as { level?: string; msg?: string };
      if (rec.msg && (rec.level === 'error' || rec.level === 'fatal')) msg = rec.msg;
    } catch {
      msg = t;
    }
  }
  return msg;
}

// "No such container" from `state`, `kill`, `delete`: runc says "container does not exist";
// crun fails opening the container's state: "error opening file `<root>/<id>/status`: No
// such file or directory", or for delete "cannot open directory '<root>/<id>': ...".
export function isNoSuchContainer(kind: RuntimeKind, message: string): boolean {
  if (kind === 'runc') return /does not exist/.test(message);
  return /(status`|cannot open directory '[^']*'): No such file or directory$/.test(message.trim()) || /does not exist/.test(message);
}

// The facts crun leaves out and runc's wording needs, found by the caller when asked
// (see needsLookup): does the command's path exist in the container.
export interface ExecTarget {
  command: string; // args[0]
  exists?: boolean;
}

// crun's "open executable: <strerror>" names neither the command nor whether it exists.
export function needsLookup(kind: RuntimeKind, message: string): boolean {
  return kind === 'crun' && /^open executable: /.test(message.trim());
}

// `create` failures, as runc words them after "runc create failed: unable to start
// container process: ".
export function createFailure(kind: RuntimeKind, message: string, target: ExecTarget): string {
  if (kind === 'runc') return message;
  const detail = execDetail(message, target);
  return detail === null ? message : `crun create failed: unable to start container process: ${detail}`;
}

// `exec` failures: runc's text has no runtime name ("exec failed: unable to start container
// process: ..."), so crun's becomes exactly that.
export function execFailure(kind: RuntimeKind, message: string, target: ExecTarget): string {
  if (kind === 'runc') return message;
  const detail = execDetail(message, target);
  return detail === null ? message : `exec failed: unable to start container process: ${detail}`;
}

// runc's `exec: "<cmd>": ...` for what crun reported, or null for anything else (which is
// passed on in crun's own words).
function execDetail(message: string, target: ExecTarget): string | null {
  const m = message.trim();
  const notFound = /^executable file `(.*)` not found in \$PATH(: .*)?$/s.exec(m);
  if (notFound) {
    const cmd = notFound[1] ?? target.command;
    return cmd.includes('/') ? `exec: ${goQuote(cmd)}: stat ${cmd}: no such file or directory` : `exec: ${goQuote(cmd)}: executable file not found in $PATH`;
  }
  const open = /^open executable: (.*)$/.exec(m);
  if (open) {
    const cmd = target.command;
    // crun's check_access gives EPERM for what is not a regular file, and EPERM or EACCES
    // for a path that does not resolve: runc stats first and says which.
    if (target.exists === false) {
      return cmd.includes('/') ? `exec: ${goQuote(cmd)}: stat ${cmd}: no such file or directory` : `exec: ${goQuote(cmd)}: executable file not found in $PATH`;
    }
    if (/Permission denied|Operation not permitted/.test(open[1] ?? '')) return `exec: ${goQuote(cmd)}: permission denied`;
    return null;
  }
  const chdir = /^chdir `(.*)`: (.*)$/.exec(m);
  if (chdir) return `chdir to cwd (${goQuote(chdir[1] ?? '')}) set in config.json failed: ${(chdir[2] ?? '').toLowerCase()}`;
  return null;
}

// Go's %q for the plain strings commands are.
function goQuote(s: string): string {
  return JSON.stringify(s);
}
