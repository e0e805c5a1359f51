// docker's parallelOperation: run an operation for every argument at once (up to
// 50 in flight), then report in argument order.

export async function parallelOperation<T>(
  items: readonly string[],
  op: (item: string) => Promise<T>,
  limit = 50,
): Promise<Array<{ item: string; ok: true; value: T } | { item: string; ok: false; error: Error }>> {
  const results: Array<{ item: string; ok: true; value: T } | { item: string; ok: false; error: Error }> = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { item: items[i], ok: true, value: await op(items[i]) };
      } catch (err) {
        results[i] = { item: items[i], ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
