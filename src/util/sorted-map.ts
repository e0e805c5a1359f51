// dockerd answers with Go maps, whose JSON has its keys sorted (byte order); so do the
// CLI's templates that range over them. berth stores string maps that way.
export function sortedMap<T>(m: Record<string, T>): Record<string, T>;
export function sortedMap<T>(m: Record<string, T> | null | undefined): Record<string, T> | null;
export function sortedMap<T>(m: Record<string, T> | null | undefined): Record<string, T> | null {
  if (!m) return null;
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
