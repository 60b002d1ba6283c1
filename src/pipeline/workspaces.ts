import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { isTerminalState, type BuildState } from '../core/types.js';
import type { Logger } from '../log/index.js';
import { BUILDS_QUEUE } from '../queue/index.js';
import { getBuild, type Store } from '../store/index.js';

/** What newBuildId makes: only such directories are ours to remove. */
const BUILD_ID_RE = /^b-[0-9a-hjkmnp-tv-z]{26}$/;

export interface StaleWorkspaceOptions {
  /** builds.workspace, resolved. */
  dir: string;
  store: Store;
  /** The queue's connection and key prefix: a running build's job holds `<prefix>:builds:<id>:lock`. */
  redis: Redis;
  prefix: string;
  /** builds.lockDuration: a workspace touched more recently than this may belong to a job just taken over. */
  lockDuration: number;
  logger: Logger;
  now?: number;
}

/**
 * Removes the workspaces a killed worker left behind (a finished build removes its own). Several workers
 * may share the directory, so a workspace goes only when its build can no longer be running anywhere:
 * the build has ended or is unknown, or it is still active but no worker holds its job's lock and the
 * directory has not been written for a lock duration (a worker that just took the job over would have
 * renewed the lock or written there). A build resumed later finds its checkout gone and fetches again
 * (the fetch stage's checkpoint is checked before it is trusted).
 */
export async function removeStaleWorkspaces(options: StaleWorkspaceOptions): Promise<string[]> {
  const names = await readdir(options.dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  for (const name of names) {
    if (!BUILD_ID_RE.test(name)) continue;
    const path = join(options.dir, name);
    const build = await getBuild(options.store.db, name);
    if (build && !isTerminalState(build.state as BuildState)) {
      if (await options.redis.exists(`${options.prefix}:${BUILDS_QUEUE}:${name}:lock`)) continue;
      const st = await stat(path).catch(() => undefined);
      if (st && now - st.mtimeMs < options.lockDuration) continue;
    }
    await rm(path, { recursive: true, force: true });
    removed.push(name);
  }
  if (removed.length) options.logger.info({ removed: removed.length, dir: options.dir }, 'removed workspaces of builds no worker runs');
  return removed;
}
