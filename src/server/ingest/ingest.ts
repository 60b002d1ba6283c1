import type { Kysely } from 'kysely';
import type { ForgeEvent } from '../../core/types.js';
import type { AppConfig } from '../../config/index.js';
import type { BuildQueue, FeedbackJob, FeedbackQueue } from '../../queue/index.js';
import {
  createBuild,
  deliveryBuildIds,
  getBuilds,
  getDelivery,
  insertDelivery,
  setDeliveryBuilds,
  supersedeOlder,
  type BuildRow,
  type Database,
} from '../../store/index.js';
import { ACTIVE_BUILD_STATES } from '../../core/types.js';
import type { ServingControl } from '../serving-control.js';
import { planBuilds } from './plan.js';

export interface IngestResult {
  builds: BuildRow[];
  duplicate: boolean;
  reason: string | undefined;
}

export interface IngestInput {
  forge: string;
  deliveryId: string;
  /** The event header's value (`push`, `Merge Request Hook`), stored with the delivery. */
  eventName: string;
  /** The normalized event, or why it was ignored. */
  event: ForgeEvent | { ignored: string };
}

/**
 * Stores a verified delivery and its builds in one transaction, then enqueues. A delivery id seen
 * before creates nothing; its queued builds are enqueued again, which is what makes a retried
 * delivery recover from a crash (or a Redis outage) between commit and enqueue.
 */
export async function ingestDelivery(
  deps: { db: Kysely<Database>; queue: BuildQueue; apps: readonly AppConfig[]; feedback?: FeedbackQueue | undefined; serving?: ServingControl | undefined },
  input: IngestInput,
): Promise<IngestResult> {
  const receivedAt = new Date().toISOString();
  const ignored = 'ignored' in input.event ? input.event.ignored : undefined;
  const plan = 'ignored' in input.event ? undefined : planBuilds(input.event, deps.apps);
  const repo = 'ignored' in input.event ? null : input.event.repo.fullName;

  const result = await deps.db.transaction().execute(async (trx) => {
    const fresh = await insertDelivery(trx, {
      forge: input.forge,
      deliveryId: input.deliveryId,
      event: input.eventName,
      repo,
      receivedAt,
      outcome: 'ignored',
      reason: ignored ?? null,
    });
    if (!fresh) {
      const existing = await getDelivery(trx, input.forge, input.deliveryId);
      const builds = existing ? await getBuilds(trx, deliveryBuildIds(existing)) : [];
      return { builds, duplicate: true, reason: existing?.reason ?? undefined, superseded: [] as string[] };
    }
    if (!plan) return { builds: [], duplicate: false, reason: ignored, superseded: [] as string[] };

    const builds: BuildRow[] = [];
    const superseded: string[] = [];
    for (const request of plan.builds) {
      const { build, created } = await createBuild(trx, request);
      builds.push(build);
      if (created) superseded.push(...(await supersedeOlder(trx, build)));
    }
    for (const scope of plan.cancelScopes) {
      const rows = await trx
        .updateTable('builds')
        .set({ state: 'canceled', error_code: 'SLW_BUILD_CANCELED', error_message: 'the pull/merge request was closed', finished_at: receivedAt, updated_at: receivedAt })
        .where('app', '=', scope.app)
        .where('target', '=', scope.target)
        .where('scope', '=', scope.scope)
        .where('state', 'in', [...ACTIVE_BUILD_STATES])
        .returning('id')
        .execute();
      superseded.push(...rows.map((r) => r.id));
    }
    const reason = plan.reasons.length > 0 ? plan.reasons.join('; ') : undefined;
    await setDeliveryBuilds(trx, input.forge, input.deliveryId, builds.map((b) => b.id), reason ?? null);
    return { builds, duplicate: false, reason, superseded };
  });

  // After the commit: a job must never run for a build row that a rollback took away.
  await deps.queue.enqueue(result.builds.filter((b) => b.state === 'queued').map((b) => b.id));
  if (result.superseded.length > 0) await deps.queue.cancel(result.superseded);
  if (deps.serving && plan && !result.duplicate) await removePreviews(deps.serving, input.forge, plan);
  if (deps.feedback && !('ignored' in input.event)) await queueFeedback(deps.db, deps.feedback, input.event, plan, result);
  return { builds: result.builds, duplicate: result.duplicate, reason: result.reason };
}

/**
 * Forge feedback for what the delivery did (issue 8): `queued` statuses for new builds, `canceled` for
 * the ones they superseded, the pull request's comment; comment commands go to the feedback queue for
 * the permission check. A repeated delivery queues the same jobs again (job ids coalesce them), which
 * recovers from a failure between storing and queueing as the builds' own enqueue does.
 */
async function queueFeedback(
  db: Kysely<Database>,
  feedback: FeedbackQueue,
  event: ForgeEvent,
  plan: ReturnType<typeof planBuilds> | undefined,
  result: { builds: BuildRow[]; superseded: string[] },
): Promise<void> {
  if (!feedback.reportsTo(event.forge)) return;
  const superseded = await getBuilds(db, result.superseded);
  await feedback.addForBuilds([...result.builds, ...superseded]);
  const jobs: FeedbackJob[] = [];
  if (plan?.command && (event.kind === 'comment' || event.kind === 'label')) {
    jobs.push({ kind: 'command', deliveryId: event.deliveryId, event: { ...event } });
  }
  if (plan?.closed && event.kind === 'change_request') {
    jobs.push({ kind: 'close', forge: event.forge, repo: event.repo.fullName, number: event.number });
    jobs.push({ kind: 'comment', forge: event.forge, repo: event.repo.fullName, number: event.number });
  }
  await feedback.add(jobs);
}

/**
 * A closed or merged pull/merge request takes its preview off the app (issue 7: tag `pr-<n>`, GitLab
 * `mr-<iid>`); the revision behind it is collected with the target's other unreferenced revisions.
 * Failing to remove it must not fail the webhook: the delivery is stored, and a redelivery tries again.
 */
async function removePreviews(serving: ServingControl, forge: string, plan: { cancelScopes: { app: string; target: string; scope: string }[] }): Promise<void> {
  for (const s of plan.cancelScopes) {
    if (!s.scope.startsWith('pr:')) continue;
    const tag = `${forge === 'gitlab' ? 'mr' : 'pr'}-${s.scope.slice(3)}`;
    await serving.get(s.target)?.removeTag(s.app, tag).catch(() => undefined);
  }
}
