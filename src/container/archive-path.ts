import { goClean, preserveTrailingDotOrSeparator } from '../util/archive-path.js';

export { assertsDirectory, goBase, goClean, preserveTrailingDotOrSeparator } from '../util/archive-path.js';

// A path the client gave, as the daemon reads it: absolute in the container, cleaned, its
// trailing "/" or "/." kept.
export const containerAbsPath = (path: string): string => preserveTrailingDotOrSeparator(goClean(`/${path}`), path);
