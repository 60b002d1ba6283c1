import type { BuildkitClient } from './client.js';

export interface CachePruneResult {
  /** Build cache size before, in bytes. */
  before: number;
  /** Records and bytes removed (0 when under budget). */
  removedRecords: number;
  removedBytes: number;
}

/**
 * Keeps BuildKit's cache under a budget (config `buildCache.budget`, default 10 GiB): every context synced under a new shared key is another full copy in the cache, so without a
 * bound it only grows. DiskUsage first, because Prune walks every record even when nothing goes; then
 * Prune with `keepBytes`, which removes the least recently used records that are not in use.
 */
export async function pruneToBudget(client: BuildkitClient, budgetBytes: number): Promise<CachePruneResult> {
  const records = await client.diskUsage();
  const before = records.reduce((sum, r) => sum + (r.Size > 0 ? r.Size : 0), 0);
  if (before <= budgetBytes) return { before, removedRecords: 0, removedBytes: 0 };
  const removed = await client.prune(budgetBytes);
  return { before, removedRecords: removed.length, removedBytes: removed.reduce((sum, r) => sum + (r.Size > 0 ? r.Size : 0), 0) };
}
