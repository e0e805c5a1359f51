import type { RuntimeKind } from './runtime-errors.js';
import { runcShortcuts } from './runc-shortcuts.js';
import { crunShortcuts } from './crun-shortcuts.js';

// What berthd does itself instead of spawning the runtime, on a container's state directory
// (<runtime root>/<id>). Both answer false when anything is unusual; the runtime then runs.
export interface RuntimeShortcuts {
  // `<runtime> start` of a created container: let its init exec the user's process.
  start(stateDir: string): Promise<boolean>;
  // `<runtime> delete` of a stopped container: its cgroups and state go. True also when the
  // runtime has no such container.
  deleteStopped(stateDir: string): Promise<boolean>;
}

export function shortcutsFor(kind: RuntimeKind): RuntimeShortcuts {
  return kind === 'crun' ? crunShortcuts : runcShortcuts;
}
