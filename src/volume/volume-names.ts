import { invalid } from '../util/errors.js';

// moby's names.RestrictedNamePattern: the name becomes a directory under volumes/, so
// no slash and no leading dot can ever appear in it.
export const RESTRICTED_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const NAME_RE = new RegExp(`^${RESTRICTED_NAME_CHARS}+$`);

export function validateVolumeName(name: string): void {
  if (name.length === 1) throw invalid('volume name is too short, names should be at least two alphanumeric characters');
  if (!NAME_RE.test(name)) {
    throw invalid(
      `${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(RESTRICTED_NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}
