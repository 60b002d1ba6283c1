import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { activeBuildUses, type Database } from '../../store/index.js';

/**
 * Stored uploads are kept while a build may still need them: an archive goes once it is older than
 * `retentionMs` and no build that is still queued or running (a crashed worker's successor resumes from it)
 * names it. Half-received `.incoming-*` files left by a crash go after an hour. A build whose archive was
 * collected and is asked to run again fails saying the context is gone (unpack stage).
 */

const STORED = /^[0-9a-f]{64}\.tar\.gz$/;
const INCOMING = /^\.incoming-[0-9a-f]+$/;
const INCOMING_MAX_AGE_MS = 3_600_000;

export async function collectUploads(db: Kysely<Database>, dir: string, options: { retentionMs: number; now?: number }): Promise<string[]> {
  const now = options.now ?? Date.now();
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const removed: string[] = [];
  for (const name of names) {
    const stored = STORED.test(name);
    if (!stored && !INCOMING.test(name)) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile() || now - st.mtimeMs < (stored ? options.retentionMs : INCOMING_MAX_AGE_MS)) continue;
    if (stored && (await activeBuildUses(db, path))) continue;
    await rm(path, { force: true });
    removed.push(name);
  }
  return removed;
}
