import { INDEX_NAME } from './auth-config.js';

// splitReposSearchTerm: "ubuntu", "user/app" search Docker Hub; "host:5000/x" that host.
export function splitSearchTerm(term: string): [string, string] {
  const slash = term.indexOf('/');
  if (slash < 0) return [INDEX_NAME, term];
  const first = term.slice(0, slash);
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return [INDEX_NAME, term];
  return [first, term.slice(slash + 1)];
}
