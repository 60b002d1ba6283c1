import type { Kysely } from 'kysely';
import type { BuildQueue } from '../../queue/index.js';
import { createBuild, supersedeOlder, type BuildRow, type Database, type NewBuild } from '../../store/index.js';

/**
 * Builds that come straight from a user instead of a forge delivery (issue 9: uploads and `git push`
 * to Slipway): created with the same dedupe — (app, target, commit) builds once — and the same cancel
 * in progress as forge pushes, in one transaction, then enqueued after the commit (as ingestDelivery).
 */
export async function ingestDirect(deps: { db: Kysely<Database>; queue: BuildQueue }, requests: readonly NewBuild[]): Promise<{ build: BuildRow; created: boolean }[]> {
  const result = await deps.db.transaction().execute(async (trx) => {
    const builds: { build: BuildRow; created: boolean }[] = [];
    const superseded: string[] = [];
    for (const request of requests) {
      const made = await createBuild(trx, request);
      builds.push(made);
      if (made.created) superseded.push(...(await supersedeOlder(trx, made.build)));
    }
    return { builds, superseded };
  });
  // Queued builds are enqueued again even when they existed: the job id coalesces, and it recovers a
  // crash between an earlier commit and its enqueue.
  await deps.queue.enqueue(result.builds.filter((b) => b.build.state === 'queued').map((b) => b.build.id));
  if (result.superseded.length > 0) await deps.queue.cancel(result.superseded);
  return result.builds;
}
